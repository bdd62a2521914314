"""Networks trained from the on-disk voxel cache (VoxelArray) or a numpy.memmap, out of core."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.model_selection import KFold, cross_val_predict
from skorch.dataset import ValidSplit

from skecd.models import ECD3DCNNRegressor
from skecd.preprocessing import ChargeDensityVoxelizer, VoxelArray, voxelize_to_cache

SMALL = {
    "max_epochs": 2,
    "batch_size": 4,
    "random_state": 0,
    "module__conv1_channels": 4,
    "module__conv2_channels": 4,
    "module__dense_widths": (8, 8),
}


@pytest.fixture
def cache(real_paths, tmp_path):
    return voxelize_to_cache(ChargeDensityVoxelizer(grid_size=20), real_paths, tmp_path)


@pytest.fixture
def never_loaded(monkeypatch):
    """Fail if anything reads a VoxelArray whole."""

    def refuse(self, dtype=None, copy=None):
        raise AssertionError("the whole VoxelArray was read into memory")

    monkeypatch.setattr(VoxelArray, "__array__", refuse)


def test_training_from_the_cache_equals_training_in_memory(
    cache, cubes20, real_targets, never_loaded
):
    y = real_targets[:, 0]
    in_memory = ECD3DCNNRegressor(**SMALL).fit(cubes20, y)
    lazy = ECD3DCNNRegressor(**SMALL).fit(cache, y)
    assert_array_equal(lazy.predict(cache), in_memory.predict(cubes20))
    assert_array_equal(lazy.embed(cache), in_memory.embed(cubes20))
    assert lazy.n_features_in_ == 1 and lazy.input_shape_ == (1, 20, 20, 20)
    # prediction from memory after fitting from disk, and the other way round
    assert_array_equal(lazy.predict(cubes20), in_memory.predict(cubes20))


def test_cross_validation_folds_stay_on_disk(cache, cubes20, real_targets, never_loaded):
    y = real_targets  # two targets
    cv = KFold(2, shuffle=True, random_state=0)
    lazy = cross_val_predict(ECD3DCNNRegressor(**SMALL), cache, y, cv=cv)
    eager = cross_val_predict(ECD3DCNNRegressor(**SMALL), cubes20, y, cv=cv)
    assert_array_equal(lazy, eager)


def test_internal_validation_split_and_memmap(cache, cubes20, real_targets):
    y = real_targets[:, 0]
    net = ECD3DCNNRegressor(**SMALL, train_split=ValidSplit(4)).fit(cache.memmap(), y)
    assert np.isfinite(net.history_[-1, "valid_loss"])
    eager = ECD3DCNNRegressor(**SMALL, train_split=ValidSplit(4)).fit(cubes20, y)
    assert_array_equal(net.predict(cubes20), eager.predict(cubes20))


def test_lazy_input_shape_errors(cache, real_targets):
    from skecd.models import SEProjectedCNNRegressor

    with pytest.raises(ValueError, match="3 channel"):
        SEProjectedCNNRegressor(**SMALL).fit(cache, real_targets[:, 0])
    with pytest.raises(ValueError, match="8 samples"):
        ECD3DCNNRegressor(**SMALL).fit(cache, real_targets[:5, 0])
    net = ECD3DCNNRegressor(**SMALL).fit(cache[:4], real_targets[:4, 0])
    with pytest.raises(ValueError, match="fitted on samples of shape"):
        net.predict(np.zeros((2, 1, 12, 12, 12), np.float32))
