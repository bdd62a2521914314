"""The networks learn log10 of the moduli by default; the paper's linear output on request.

Every skorch network of skecd (the paper's 3D CNN, SE CNN, CNN+Magpie and fusion, and
CGCNN) takes ``log_target`` (default True, as the invariant networks). Files and pickles
saved before the parameter existed keep the linear output they were trained with.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skecd import load_model, save_model
from skecd.models import (
    CGCNNRegressor,
    ECD3DCNNRegressor,
    FusionRegressor,
    MagpieCNNRegressor,
    SEProjectedCNNRegressor,
)
from skecd.preprocessing import ChargeDensityVoxelizer, CrystalGraphFeaturizer, MagpieFeaturizer

DATA = Path(__file__).resolve().parent / "data"
TINY_ECD = {
    "module__conv1_channels": 4,
    "module__conv2_channels": 4,
    "module__dense_widths": (8, 8),
}


@pytest.mark.parametrize(
    "cls", [ECD3DCNNRegressor, SEProjectedCNNRegressor, MagpieCNNRegressor, CGCNNRegressor]
)
def test_every_network_defaults_to_log_targets(cls):
    assert cls().log_target is True
    assert cls(log_target=False).get_params()["log_target"] is False
    assert clone(cls(log_target=False)).log_target is False
    assert FusionRegressor().log_target is True


def test_log_target_learns_log_moduli_and_predicts_positive(magpie144, real_targets):
    """The module's target statistics are those of log10(y) by default, of y without."""
    y = real_targets.copy()
    log = MagpieCNNRegressor(max_epochs=3, random_state=0).fit(magpie144, y)
    lin = clone(log).set_params(log_target=False).fit(magpie144, y)
    assert log.module_.target_mean.numpy() == pytest.approx(np.log10(y).mean(axis=0), rel=1e-5)
    assert lin.module_.target_mean.numpy() == pytest.approx(y.mean(axis=0), rel=1e-5)
    pred_log, pred_lin = log.predict(magpie144), lin.predict(magpie144)
    assert np.all(pred_log > 0)
    assert not np.allclose(pred_log, pred_lin)


def test_linear_head_can_go_negative_where_log_targets_cannot(magpie144, real_targets):
    """The paper's linear output extrapolates below zero on an input far from the training
    data; the default never does (the flaw ``skecd benchmark --quick`` showed)."""
    y = real_targets[:, 0]
    far = magpie144 * -50.0  # real features, far outside their training range
    lin = MagpieCNNRegressor(max_epochs=30, random_state=0, log_target=False).fit(magpie144, y)
    log = clone(lin).set_params(log_target=True).fit(magpie144, y)
    assert np.any(lin.predict(far) <= 0)
    # so far out, the log head's predictions stop at the clip, with its warning (tested below)
    with pytest.warns(UserWarning, match="clipped"):
        assert np.all(log.predict(far) > 0)


def test_far_predictions_are_clipped_with_a_warning_naming_the_samples(magpie144, real_targets):
    """10 ** output of an input far from the training data would be astronomically wrong
    (the quick benchmark once showed 3,500 GPa for a 220 GPa alloy): such predictions stop
    at CLIP standard deviations of the log targets, and the warning names the rows."""
    y = real_targets[:, 0]
    net = MagpieCNNRegressor(max_epochs=30, random_state=0).fit(magpie144, y)
    X = magpie144.copy()
    X[[2, 7]] *= 200.0  # two real rows, far outside their training range
    with pytest.warns(UserWarning, match=r"samples \[2, 7\] \(2 in all\).*clipped"):
        pred = net.predict(X)
    log_y = np.log10(y)
    ceiling = 10 ** (log_y.mean() + net.CLIP * log_y.std())
    assert np.all(pred <= ceiling * (1 + 1e-6)) and np.all(pred > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the training inputs are not clipped
        net.predict(magpie144)


@pytest.mark.parametrize("bad", [0.0, -3.0])
def test_log_target_refuses_non_positive_moduli_naming_the_sample(magpie144, real_targets, bad):
    y = real_targets.copy()
    y[5, 1] = bad
    with pytest.raises(ValueError, match=r"sample 5 has .* pass log_target=False"):
        MagpieCNNRegressor(max_epochs=1).fit(magpie144, y)
    # the linear output takes them
    MagpieCNNRegressor(max_epochs=1, log_target=False).fit(magpie144, y)


def test_cgcnn_and_fusion_pass_log_target_on(real_densities, real_targets):
    y = real_targets[:, 1]
    graphs = make_pipeline(
        CrystalGraphFeaturizer(cutoff=5.0),
        CGCNNRegressor(max_epochs=2, module__atom_fea_len=8, random_state=0),
    ).fit(real_densities, y)
    assert graphs[-1].module_.target_mean.item() == pytest.approx(np.log10(y).mean(), rel=1e-5)
    assert np.all(graphs.predict(real_densities) > 0)
    fusion = FusionRegressor(
        magpie_branch=make_pipeline(
            MagpieFeaturizer(pad_to_square=True), MagpieCNNRegressor(max_epochs=1)
        ),
        ecd_branch=make_pipeline(
            ChargeDensityVoxelizer(grid_size=20), ECD3DCNNRegressor(max_epochs=1, **TINY_ECD)
        ),
        max_epochs=2,
        random_state=0,
        log_target=False,
    ).fit(real_densities, y)
    assert fusion.head_.log_target is False
    assert fusion.head_.module_.target_mean.item() == pytest.approx(y.mean(), rel=1e-5)


def test_model_file_saved_before_log_target_keeps_its_linear_output():
    """A real file written by skecd at commit d8df45d (``data/make_ecd3dcnn_linear_head.py``)
    predicts what that skecd predicted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # another skecd version may have saved it
        model, manifest = load_model(DATA / "ecd3dcnn_linear_head.skecd", return_manifest=True)
    assert "log_target" not in manifest["configuration"]["params"]
    assert model.log_target is False
    X = np.random.default_rng(0).random((6, 1, 20, 20, 20), dtype=np.float32)
    assert_allclose(model.predict(X), manifest["metadata"]["predictions"], rtol=1e-6)


@pytest.mark.parametrize("log_target", [True, False])
def test_save_and_load_keep_log_target(cubes20, real_targets, tmp_path, log_target):
    reg = ECD3DCNNRegressor(max_epochs=1, random_state=0, log_target=log_target, **TINY_ECD)
    reg.fit(cubes20, real_targets)
    loaded = load_model(save_model(reg, tmp_path / "m.skecd"))
    assert loaded.log_target is log_target
    assert_array_equal(loaded.predict(cubes20), reg.predict(cubes20))


def test_pickle_from_before_log_target_keeps_its_linear_output(cubes20, real_targets):
    reg = ECD3DCNNRegressor(max_epochs=1, random_state=0, log_target=False, **TINY_ECD)
    reg.fit(cubes20, real_targets)
    state = reg.__getstate__()
    del state["log_target"]  # what a pickle of an older skecd holds
    old = ECD3DCNNRegressor.__new__(ECD3DCNNRegressor)
    old.__setstate__(state)
    assert old.log_target is False
    assert_array_equal(old.predict(cubes20), reg.predict(cubes20))
    assert pickle.loads(pickle.dumps(reg)).log_target is False
    fusion_state = FusionRegressor().__getstate__()
    del fusion_state["log_target"]
    fusion = FusionRegressor.__new__(FusionRegressor)
    fusion.__setstate__(fusion_state)
    assert fusion.get_params()["log_target"] is False
