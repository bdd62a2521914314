"""The recommended model: its registry entry, its column groups, learning on held-out data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import r2_score

from skecd.benchmark import GROUPS, MODELS, RECOMMENDED
from skecd.models import (
    CODE_ROBUST_DESCRIPTORS,
    interstitial_features,
    make_interstitial_late_fusion,
)


def test_one_recommended_model_is_the_default_everywhere():
    from skecd.inference._train import DEFAULT_MODEL
    from skecd.pretrained import DEFAULT_PRETRAINED, available_models

    assert [n for n, s in MODELS.items() if s.group == "recommended"] == [RECOMMENDED]
    assert all(spec.group in GROUPS for spec in MODELS.values())
    assert DEFAULT_MODEL == DEFAULT_PRETRAINED == RECOMMENDED
    assert RECOMMENDED in available_models()
    assert MODELS[RECOMMENDED].code_robust


def test_column_groups_are_found_by_name(table):
    X, y, columns = table
    late = _late(columns, epochs=2).fit(X, y)
    network, forest = (est[0] for est in late.estimators_)  # their ColumnTransformers
    robust = [f"descriptors__{c}" for c in CODE_ROBUST_DESCRIPTORS]
    profiles = [c for c in X.columns if c.startswith("radial_interstitial__")]
    magpie = [c for c in X.columns if c.startswith("magpie__")]
    assert profiles and len(magpie) == 132
    assert _picked(network) == profiles + robust
    assert _picked(forest) == robust + magpie


@pytest.fixture(scope="module")
def table():
    """The recommended model's features of 64 real bundled densities."""
    from skecd.datasets import load_fcc_elastic

    data = load_fcc_elastic()
    rows = np.random.default_rng(0).choice(len(data.data), 64, replace=False)
    features, columns = interstitial_features()
    return features.fit_transform([data.data[i] for i in rows]), data.target[rows], columns


def _late(columns, epochs=80):
    late = make_interstitial_late_fusion(n_estimators=30, random_state=0, columns=columns)
    return late.set_params(network__net__max_epochs=epochs)


def test_the_network_reads_no_composition_and_the_forest_no_profile(table):
    X, y, columns = table
    late = _late(columns, epochs=5).fit(X, y)
    network, forest = late.estimators_
    scrambled = X.copy()
    scrambled.loc[:, X.columns.str.startswith("magpie__")] = 0.0  # composition gone
    np.testing.assert_allclose(network.predict(scrambled), network.predict(X))
    scrambled = X.copy()
    scrambled.loc[:, X.columns.str.startswith("radial_interstitial__")] = 0.0  # profiles gone
    np.testing.assert_allclose(forest.predict(scrambled), forest.predict(X))


@pytest.mark.slow
def test_it_learns_both_moduli_of_held_out_materials(table):
    X, y, columns = table
    train, test = np.arange(48), np.arange(48, 64)
    pred = _late(columns).fit(X.iloc[train], y[train]).predict(X.iloc[test])
    assert np.all(pred > 0)
    r2 = [r2_score(np.log10(y[test, j]), np.log10(pred[:, j])) for j in range(2)]
    assert r2[0] > 0.6 and r2[1] > 0.4, r2


def _picked(column_transformer):
    """The input columns a fitted ColumnTransformer passes on, in order."""
    # its output names are "<group>__<input column>"
    return [name.split("__", 1)[1] for name in column_transformer.get_feature_names_out()]
