"""Careless use of the networks: refused with a clear error, never a silent wrong model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skecd.models import ECD3DCNNRegressor, MagpieCNNRegressor

TINY_ECD = {
    "module__conv1_channels": 4,
    "module__conv2_channels": 6,
    "module__dense_widths": (8, 8),
}


@pytest.mark.parametrize("max_epochs", [0, -1, 2.5, "3", True, None])
def test_max_epochs_must_be_a_positive_int(magpie144, real_targets, max_epochs):
    reg = MagpieCNNRegressor(max_epochs=max_epochs, random_state=0)
    with pytest.raises(ValueError, match=r"max_epochs must be an int >= 1, got"):
        reg.fit(magpie144, real_targets)
    assert not reg.__sklearn_is_fitted__()


def test_diverged_fit_raises_naming_the_epoch(magpie144, real_targets):
    reg = MagpieCNNRegressor(max_epochs=5, lr=1e30, random_state=0, standardize_y=False)
    with pytest.raises(FloatingPointError, match=r"diverged at epoch \d+: train_loss is (nan|inf)"):
        reg.fit(magpie144, real_targets)
    # a sane learning rate on the same data trains to finite predictions
    ok = MagpieCNNRegressor(max_epochs=2, random_state=0).fit(magpie144, real_targets)
    assert np.all(np.isfinite(ok.predict(magpie144)))


def test_loaded_model_checks_the_input_size(cubes20, real_targets, tmp_path):
    reg = ECD3DCNNRegressor(max_epochs=1, random_state=0, **TINY_ECD).fit(cubes20, real_targets)
    reg.save_params(f_params=tmp_path / "params.pt")
    fresh = ECD3DCNNRegressor(**TINY_ECD, module__grid_size=20, module__n_outputs=2).initialize()
    fresh.load_params(f_params=tmp_path / "params.pt")
    np.testing.assert_allclose(fresh.predict(cubes20), reg.predict(cubes20), rtol=1e-6)
    bigger = np.zeros((2, 1, 30, 30, 30), dtype=np.float32)
    # the loaded model knows its input shape: a 30^3 grid is refused, naming both sizes
    with pytest.raises(ValueError, match=r"30, 30, 30.*20, 20, 20|grid_size=30 .* grid_size=20"):
        fresh.predict(bigger)
    with pytest.raises(ValueError, match=r"30, 30, 30.*20, 20, 20|grid_size=30 .* grid_size=20"):
        fresh.embed(bigger)


def test_cuda_without_cuda_is_a_clear_error(magpie144, real_targets, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    reg = MagpieCNNRegressor(max_epochs=1, device="cuda")
    with pytest.raises(RuntimeError, match=r"device='cuda' but CUDA is not available.*'cpu'"):
        reg.fit(magpie144, real_targets)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        MagpieCNNRegressor(
            device="cuda:1", module__n_features=144, module__n_outputs=1
        ).initialize()


def test_densities_straight_into_a_network(real_paths, real_densities, real_targets):
    reg = ECD3DCNNRegressor(max_epochs=1, **TINY_ECD)
    for X in (real_densities, real_paths, [str(p) for p in real_paths]):
        with pytest.raises(TypeError, match=r"put a ChargeDensityVoxelizer in front"):
            reg.fit(X, real_targets)
    with pytest.raises(TypeError, match=r"MagpieFeaturizer"):
        MagpieCNNRegressor(max_epochs=1).fit(["NaCl"] * 8, real_targets)


def test_generator_as_X(magpie144, real_targets):
    reg = MagpieCNNRegressor(max_epochs=1, random_state=0)
    with pytest.raises(TypeError, match=r"got a generator, which would be used up"):
        reg.fit((row for row in magpie144), real_targets)
    reg.fit(magpie144, real_targets)
    with pytest.raises(TypeError, match="generator"):
        reg.predict(row for row in magpie144)
