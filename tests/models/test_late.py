"""LateFusionRegressor: the weighted mean of its estimators, on real densities."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score

from skecd.datasets import load_fcc_elastic
from skecd.inference import predict_with_std
from skecd.models import (
    LateFusionRegressor,
    interstitial_columns,
    make_interstitial_late_fusion,
    make_late_fusion,
    make_radial_ensemble,
    make_radial_late_fusion,
)
from skecd.persistence import load_model, save_model
from skecd.preprocessing import ChargeDensityDescriptor


@pytest.fixture(scope="module")
def table():
    data = load_fcc_elastic()
    X = ChargeDensityDescriptor().fit_transform(data.data[:60])
    return X, np.log10(data.target[:60])


def _late(weights=None):
    return LateFusionRegressor(
        [("ridge", Ridge(alpha=1.0)), ("forest", RandomForestRegressor(20, random_state=0))],
        weights=weights,
    )


@pytest.mark.parametrize("weights", [None, [3.0, 1.0]])
def test_prediction_is_the_weighted_mean_of_the_parts(table, weights):
    X, y = table
    late = _late(weights).fit(X[:45], y[:45])
    ridge = Ridge(alpha=1.0).fit(X[:45], y[:45]).predict(X[45:])
    forest = RandomForestRegressor(20, random_state=0).fit(X[:45], y[:45]).predict(X[45:])
    w = np.array([0.5, 0.5] if weights is None else [0.75, 0.25])
    np.testing.assert_allclose(late.predict(X[45:]), w[0] * ridge + w[1] * forest)
    assert late.predict(X[45:]).shape == (15, 2)
    assert set(late.named_estimators_) == {"ridge", "forest"}
    assert late.named_estimators_.forest is late.estimators_[1]


def test_learns_and_round_trips(table):
    X, y = table
    late = _late().fit(X, y)
    assert r2_score(y, late.predict(X)) > 0.8  # training fit of real descriptors
    unfitted = clone(_late())
    assert not hasattr(unfitted, "estimators_")
    again = pickle.loads(pickle.dumps(late))
    np.testing.assert_array_equal(again.predict(X), late.predict(X))
    late.set_params(forest__n_estimators=5)
    assert late.get_params()["forest__n_estimators"] == 5


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"weights": [1.0]}, "weights=.* must be 2 non-negative"),
        ({"weights": [-1.0, 2.0]}, "weights=.* must be 2 non-negative"),
        ({"weights": [0.0, 0.0]}, "weights=.* must be 2 non-negative"),
        ({"estimators": []}, "non-empty list of"),
        ({"estimators": [("a", Ridge()), ("a", Ridge())]}, "distinct name"),
        ({"estimators": [Ridge()]}, "distinct name"),
    ],
)
def test_bad_parameters_are_named(table, params, match):
    X, y = table
    with pytest.raises(ValueError, match=match):
        _late().set_params(**params).fit(X, y)


def test_make_late_fusion_fits_predicts_and_saves(tmp_path):
    data = load_fcc_elastic()
    model = make_late_fusion(n_points=256, sigmas=(1.0,), n_estimators=10, random_state=0)
    model.set_params(regressor__network__net__max_epochs=2)
    model.fit(data.data[:12], data.target[:12])
    Xt = model[:-1].transform(data.data[12:15])
    late = model[-1]
    parts = [est.predict(Xt) for est in late.estimators_]
    np.testing.assert_allclose(late.predict(Xt), (parts[0] + parts[1]) / 2)
    # the forest reads the table only: the point descriptors do not change its prediction
    local = Xt.columns.str.startswith("local__")
    assert local.sum() == 6 * 256
    shuffled = Xt.copy()
    shuffled.loc[:, local] = Xt.loc[:, local].to_numpy()[::-1]
    np.testing.assert_array_equal(late.named_estimators_.forest.predict(shuffled), parts[1])
    # skecd predict's spread: the mixture of the network's members and the forest's trees
    mean, std = predict_with_std(model, data.data[12:15])
    np.testing.assert_allclose(mean, model.predict(data.data[12:15]))
    _, net_std = late.estimators_[0].predict(Xt, return_std=True)
    gap = np.abs(parts[0] - parts[1]) / 2  # the two parts' disagreement alone
    assert np.all(std >= gap - 1e-9) and np.all(std > 0)
    assert np.all(std**2 >= net_std**2 / 2 - 1e-9)
    path = tmp_path / "late.skecd"
    save_model(model, path)
    np.testing.assert_array_equal(
        load_model(path).predict(data.data[12:15]), model.predict(data.data[12:15])
    )


@pytest.fixture(scope="module")
def radial_fit():
    """make_radial_ensemble fitted on 40 real densities (short training)."""
    data = load_fcc_elastic()
    model = make_radial_ensemble(random_state=0)
    model.set_params(
        regressor__log__net__max_epochs=150, regressor__sqrt__net__regressor__max_epochs=150
    )
    X = model[:-1].fit_transform(data.data[:48])
    late = model[-1].fit(X[:40], data.target[:40])
    return model, late, X, data.target[:48]


@pytest.mark.slow  # tens of seconds of training on 2 cores
def test_radial_ensemble_learns_and_averages_its_two_networks(radial_fit):
    model, late, X, y = radial_fit
    pred = late.predict(X[:40])
    for j in range(2):  # training fit in log space; a constant prediction fails this
        assert r2_score(np.log10(y[:40, j]), np.log10(pred[:, j])) > 0.9
    log_part, sqrt_part = (est.predict(X[40:]) for est in late.estimators_)
    np.testing.assert_allclose(late.predict(X[40:]), (log_part + sqrt_part) / 2)
    # the sqrt network learnt the square root of the moduli: its own net predicts that
    sqrt = late.named_estimators_.sqrt
    inner = sqrt[-1].regressor_.predict(sqrt[0].transform(X[40:]))
    np.testing.assert_allclose(sqrt_part, inner**2, rtol=1e-6)
    assert np.all(sqrt_part > 0) and np.all(log_part > 0)
    # the log network reads the radial profiles only, the sqrt network the descriptors too
    descriptors = X.columns.str.startswith("descriptors__")
    shuffled = X[40:].copy()
    shuffled.loc[:, descriptors] = X[40:].loc[:, descriptors].to_numpy()[::-1]
    np.testing.assert_array_equal(late.named_estimators_.log.predict(shuffled), log_part)
    assert not np.allclose(late.named_estimators_.sqrt.predict(shuffled), sqrt_part)


@pytest.mark.slow  # tens of seconds of training on 2 cores
def test_radial_ensemble_spread_and_model_file(radial_fit, tmp_path):
    model, late, X, _ = radial_fit
    data = load_fcc_elastic()
    mean, std = predict_with_std(model, data.data[40:43])
    np.testing.assert_allclose(mean, model.predict(data.data[40:43]))
    assert np.all(np.isfinite(std)) and np.all(std > 0)
    path = tmp_path / "radial.skecd"
    save_model(model, path)
    np.testing.assert_allclose(
        load_model(path).predict(data.data[40:43]), model.predict(data.data[40:43]), rtol=1e-6
    )


@pytest.mark.slow  # tens of seconds of training on 2 cores
def test_radial_late_fusion_learns_and_each_part_reads_its_columns(tmp_path):
    data = load_fcc_elastic()
    model = make_radial_late_fusion(n_estimators=20, random_state=0)  # its own 300 epochs
    X = model[:-1].fit_transform(data.data[:44])
    y = data.target[:44]
    late = model[-1].fit(X[:36], y[:36])
    network, forest = late.named_estimators_.network, late.named_estimators_.forest
    net_pred, pred = network.predict(X[:36]), late.predict(X[:36])
    for j in range(2):  # training fits in log space; a constant prediction fails these
        assert r2_score(np.log10(y[:36, j]), np.log10(net_pred[:, j])) > 0.9
        assert r2_score(np.log10(y[:36, j]), np.log10(pred[:, j])) > 0.85  # bagged forest
    held = X[36:]
    np.testing.assert_allclose(
        late.predict(held), (network.predict(held) + forest.predict(held)) / 2
    )
    # the network reads the radial profiles and density descriptors, not Magpie;
    # the forest the descriptors and Magpie, not the profiles
    magpie, radial = (X.columns.str.startswith(f"{p}__") for p in ("magpie", "radial"))
    assert magpie.any() and radial.any()
    magpie_shuffled, radial_shuffled = held.copy(), held.copy()
    magpie_shuffled.loc[:, magpie] = held.loc[:, magpie].to_numpy()[::-1]
    radial_shuffled.loc[:, radial] = held.loc[:, radial].to_numpy()[::-1]
    np.testing.assert_array_equal(network.predict(magpie_shuffled), network.predict(held))
    np.testing.assert_array_equal(forest.predict(radial_shuffled), forest.predict(held))
    assert not np.allclose(network.predict(radial_shuffled), network.predict(held))
    # spread and model file, through the whole pipeline on densities
    mean, std = predict_with_std(model, data.data[36:39])
    np.testing.assert_allclose(mean, model.predict(data.data[36:39]))
    assert np.all(np.isfinite(std)) and np.all(std > 0)
    path = tmp_path / "radial_late.skecd"
    save_model(model, path)
    np.testing.assert_allclose(
        load_model(path).predict(data.data[36:39]), model.predict(data.data[36:39]), rtol=1e-6
    )


# ---------------------------------------------------- columns selected by name
@pytest.fixture(scope="module")
def sixteen():
    data = load_fcc_elastic()
    return data.data[:16], data.target[:16]


def _recommended(**params):
    model = make_interstitial_late_fusion(n_estimators=5, random_state=0)
    return model.set_params(regressor__network__net__max_epochs=2, **params)


def test_reordering_the_union_keeps_each_part_on_its_columns(sixteen):
    X, y = sixteen
    model = _recommended().fit(X[:12], y[:12])
    parts = model.named_steps["features"].transformer_list
    reordered = _recommended(features__transformer_list=parts[::-1]).fit(X[:12], y[:12])
    assert reordered[:-1].transform(X[12:]).columns[0].startswith("magpie__")
    np.testing.assert_array_equal(reordered.predict(X[12:]), model.predict(X[12:]))


def test_a_narrower_featuriser_is_followed_by_name(sixteen):
    X, y = sixteen
    model = _recommended(features__radial_interstitial__radii=(1.0, 1.5)).fit(X[:12], y[:12])
    table = model[:-1].transform(X[12:])
    profiles = [c for c in table.columns if c.startswith("radial_interstitial__")]
    network, forest = (est[0] for est in model[-1].estimators_)
    assert [c for c in _picked(network) if "radial" in c] == profiles  # the two radii's
    assert not any("radial" in c for c in _picked(forest))
    assert np.all(np.isfinite(model.predict(X[12:])))


def test_a_missing_featuriser_or_feature_is_named(sixteen):
    X, y = sixteen
    parts = _recommended().named_steps["features"].transformer_list
    no_magpie = _recommended(features__transformer_list=parts[:2])
    with pytest.raises(ValueError, match="no column of featuriser 'magpie'"):
        no_magpie.fit(X[:12], y[:12])
    late = make_interstitial_late_fusion(
        n_estimators=5, random_state=0, columns=interstitial_columns(descriptors="density")
    )
    table = _recommended()[:-1].fit_transform(X[:12])
    with pytest.raises(ValueError, match="density__volume_per_atom"):
        late.fit(table, y[:12])
    late = _recommended()[-1]
    with pytest.raises(TypeError, match="pandas DataFrame named by the FeatureUnion"):
        late.fit(table.to_numpy(), y[:12])


def _picked(column_transformer):
    """The input columns a fitted ColumnTransformer passes on, in order."""
    # its output names are "<group>__<input column>"
    return [name.split("__", 1)[1] for name in column_transformer.get_feature_names_out()]
