"""FusionRegressor on real bundled densities: training, shapes, nested params, model selection."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline

from skecd.models import ECD3DCNNRegressor, FusionRegressor, MagpieCNNRegressor
from skecd.preprocessing import ChargeDensityVoxelizer, MagpieFeaturizer


def _fusion(**kwargs):
    return FusionRegressor(
        magpie_branch=make_pipeline(
            MagpieFeaturizer(pad_to_square=True),
            MagpieCNNRegressor(max_epochs=1, random_state=0),
        ),
        ecd_branch=make_pipeline(
            ChargeDensityVoxelizer(grid_size=20),
            ECD3DCNNRegressor(
                max_epochs=1,
                random_state=0,
                module__conv1_channels=4,
                module__conv2_channels=4,
                module__dense_widths=(8, 32),
            ),
        ),
        hidden_widths=(16, 8),
        max_epochs=2,
        random_state=0,
        **kwargs,
    )


@pytest.mark.parametrize("n_targets", [1, 2])
def test_fusion_trains_on_paths(real_paths, real_targets, n_targets):
    y = real_targets[:, 0] if n_targets == 1 else real_targets
    X = [str(p) for p in real_paths]
    fusion = _fusion().fit(X, y)
    pred = fusion.predict(X)
    assert pred.shape == y.shape and pred.dtype == np.float64
    assert np.all(np.isfinite(pred))
    # head input = 32 (Magpie CNN penultimate) + 32 (3D CNN penultimate)
    assert fusion.embed(X).shape == (len(X), 64)
    assert fusion.head_.module_.dense[0].in_features == 64
    # the fitted branches are clones; the given ones stay unfitted
    assert not fusion.magpie_branch[-1].__sklearn_is_fitted__()
    assert fusion.magpie_branch_[-1].__sklearn_is_fitted__()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fusion)).predict(X), pred)


def test_fusion_same_on_objects_and_paths(real_paths, real_densities, real_targets):
    on_paths = _fusion().fit(real_paths, real_targets).predict(real_paths)
    on_objects = _fusion().fit(real_densities, real_targets).predict(real_densities)
    np.testing.assert_array_equal(on_paths, on_objects)


def test_fusion_nested_params(real_densities, real_targets):
    fusion = _fusion()
    params = fusion.get_params()
    assert params["magpie_branch__magpiecnnregressor__lr"] == 1e-3
    assert params["ecd_branch__ecd3dcnnregressor__module__conv1_channels"] == 4
    fusion.set_params(
        ecd_branch__ecd3dcnnregressor__module__conv1_channels=3,
        magpie_branch__magpiecnnregressor__module__dense_widths=(16, 32),
    ).fit(real_densities, real_targets)
    assert fusion.ecd_branch_[-1].module_.features[0].out_channels == 3
    assert fusion.magpie_branch_[-1].module_.dense[0].out_features == 16
    assert clone(fusion).get_params()["ecd_branch__ecd3dcnnregressor__module__conv1_channels"] == 3


def test_fusion_in_cross_validate_and_grid_search(real_densities, real_targets):
    X = np.array(real_densities, dtype=object)
    res = cross_validate(_fusion(), X, real_targets, cv=KFold(2), scoring="neg_mean_absolute_error")
    assert np.all(np.isfinite(res["test_score"]))
    search = GridSearchCV(
        _fusion(),
        {"ecd_branch__ecd3dcnnregressor__module__conv1_channels": [2, 4]},
        cv=KFold(2),
        scoring="neg_mean_absolute_error",
    ).fit(X, real_targets)
    assert len(search.cv_results_["params"]) == 2
    assert search.predict(X).shape == real_targets.shape


def test_fusion_errors(real_paths, real_targets):
    with pytest.raises(NotFittedError):
        _fusion().predict(real_paths)
    bad = real_targets.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        _fusion().fit(real_paths, bad)
    with pytest.raises(FileNotFoundError, match="sample 1"):
        _fusion().fit([real_paths[0], "no/such/density.npz"], real_targets[:2])
    with pytest.raises(ValueError, match="1D sequence of densities"):
        _fusion().fit(np.zeros((8, 3)), real_targets)


def test_fusion_head_stops_early_on_its_validation_split(real_densities, real_targets):
    from skorch.callbacks import EarlyStopping
    from skorch.dataset import ValidSplit

    stopper = EarlyStopping(patience=2, load_best=True)
    fusion = _fusion(train_split=ValidSplit(0.25, random_state=0), callbacks=[stopper])
    fusion.set_params(max_epochs=300).fit(real_densities, real_targets)
    valid = fusion.head_.history[:, "valid_loss"]
    # stopped two epochs after its best validation loss, far before the cap
    assert len(valid) == int(np.argmin(valid)) + 3 < 300
    # the given callback is copied, not trained on: clone and get_params stay clean
    assert fusion.callbacks[0] is stopper
    assert clone(fusion).get_params()["callbacks"][0].patience == 2
