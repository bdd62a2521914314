"""ConformalIntervalRegressor: calibrated intervals on real data, the estimator contract."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split

from skecd.models import ConformalIntervalRegressor, predict_with_std


@pytest.fixture(scope="module")
def table():
    """Density descriptors + Magpie of the 369 real Fm-3m materials, K and G in GPa."""
    from skecd.datasets import load_fcc_elastic
    from skecd.preprocessing import ChargeDensityDescriptor, MagpieFeaturizer

    data = load_fcc_elastic()
    X = np.hstack(
        [
            ChargeDensityDescriptor().fit_transform(data.data),
            MagpieFeaturizer().fit_transform(data.data),
        ]
    )
    return X, data.target


def _coverage(y, lower, upper):
    return np.mean((lower <= y) & (y <= upper), axis=0)


def test_intervals_cover_held_out_materials_at_the_requested_rate(table):
    X, y = table
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.35, random_state=0)
    model = ConformalIntervalRegressor(
        RandomForestRegressor(30, random_state=0), random_state=0
    ).fit(X_train, y_train)
    for confidence, lo, hi in ((0.9, 0.82, 0.99), (0.68, 0.55, 0.82)):
        lower, upper = model.predict_interval(X_test, confidence=confidence)
        coverage = _coverage(y_test, lower, upper)
        assert np.all((lo <= coverage) & (coverage <= hi)), (confidence, coverage)
    narrow = model.predict_interval(X_test, confidence=0.68)
    wide = model.predict_interval(X_test, confidence=0.9)
    assert np.all(wide[0] <= narrow[0]) and np.all(narrow[1] <= wide[1])
    assert np.all(wide[0] > 0)  # log-space intervals: positive moduli


def test_intervals_widen_with_the_models_own_spread(table):
    X, y = table
    model = ConformalIntervalRegressor(RandomForestRegressor(30, random_state=0), random_state=0)
    model.fit(X[:300], y[:300])
    pred, std = predict_with_std(model.estimator_, X[300:])
    lower, upper = model.interval(pred, std)
    relative_width = (upper - lower) / pred
    relative_spread = std / pred
    for j in range(2):  # ranked alike: the normalised score scales with the spread
        order = np.argsort(relative_spread[:, j])
        assert np.all(np.diff(relative_width[order, j]) >= -1e-12)
    np.testing.assert_allclose(model.predict_interval(X[300:]), (lower, upper))


def test_from_predictions_is_fit_without_refitting(table):
    X, y = table
    X, y = X[:120], y[:120]
    fitted = ConformalIntervalRegressor(RandomForestRegressor(10, random_state=0), random_state=0)
    fitted.fit(X, y)
    # the out-of-fold spreads are not stored: recompute them on fit's folds
    from sklearn.model_selection import KFold

    std = np.empty_like(y)
    for train, test in KFold(5, shuffle=True, random_state=0).split(X):
        fold = RandomForestRegressor(10, random_state=0).fit(X[train], y[train])
        std[test] = predict_with_std(fold, X[test])[1]
    rebuilt = ConformalIntervalRegressor.from_predictions(
        RandomForestRegressor(10, random_state=0),
        fitted.estimator_,
        y,
        fitted.oof_prediction_,
        std,
    )
    np.testing.assert_allclose(rebuilt.calibration_sigmas_, fitted.calibration_sigmas_)
    np.testing.assert_allclose(rebuilt.predict_interval(X[:5]), fitted.predict_interval(X[:5]))


def test_estimator_contract_and_clear_errors(table):
    X, y = table
    model = ConformalIntervalRegressor(RandomForestRegressor(5), cv=3, random_state=0)
    assert clone(model).get_params()["cv"] == 3
    model.set_params(estimator__n_estimators=4)
    assert model.fit(X[:60], y[:60, 0]) is model
    assert model.predict(X[:3]).shape == (3,)  # one target in, one column out
    assert model.estimator_.n_estimators == 4
    bad = y[:60].copy()
    bad[7, 1] = -5.0
    with pytest.raises(ValueError, match="sample 7"):
        clone(model).fit(X[:60], bad)
    # complex moduli are refused, not cast to their real part with a ComplexWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="Complex data not supported"):
            clone(model).fit(X[:60], y[:60, 0] + 1j)
    with pytest.raises(ValueError, match="confidence"):
        model.predict_interval(X[:3], confidence=90)


def test_model_file_keeps_the_calibration(table, tmp_path):
    from skecd import load_model, save_model

    X, y = table
    model = ConformalIntervalRegressor(RandomForestRegressor(5, random_state=0), random_state=0)
    model.fit(X[:80], y[:80])
    save_model(model, tmp_path / "m.skecd")
    loaded = load_model(tmp_path / "m.skecd")
    np.testing.assert_allclose(
        loaded.predict_interval(X[80:90], 0.9), model.predict_interval(X[80:90], 0.9)
    )
