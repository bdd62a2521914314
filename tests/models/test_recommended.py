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
from skecd.preprocessing import ChargeDensityDescriptor


def test_one_recommended_model_is_the_default_everywhere():
    from skecd.inference._train import DEFAULT_MODEL
    from skecd.pretrained import DEFAULT_PRETRAINED, available_models

    assert [n for n, s in MODELS.items() if s.group == "recommended"] == [RECOMMENDED]
    assert all(spec.group in GROUPS for spec in MODELS.values())
    assert DEFAULT_MODEL == DEFAULT_PRETRAINED == RECOMMENDED
    assert RECOMMENDED in available_models()
    assert MODELS[RECOMMENDED].code_robust


def test_column_groups_are_found_by_name():
    features, columns = interstitial_features()
    names = list(ChargeDensityDescriptor().get_feature_names_out())
    n_radial = len(features.transformer_list[0][1].get_feature_names_out())
    picked = [names[i - n_radial] for i in columns["descriptors"]]
    assert picked == list(CODE_ROBUST_DESCRIPTORS)
    assert columns["profiles"] == list(range(n_radial))
    assert columns["magpie"].start == n_radial + len(names)


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
    scrambled[:, columns["magpie"]] = 0.0  # composition gone
    np.testing.assert_allclose(network.predict(scrambled), network.predict(X))
    scrambled = X.copy()
    scrambled[:, columns["profiles"]] = 0.0  # profiles gone
    np.testing.assert_allclose(forest.predict(scrambled), forest.predict(X))


@pytest.mark.slow
def test_it_learns_both_moduli_of_held_out_materials(table):
    X, y, columns = table
    train, test = np.arange(48), np.arange(48, 64)
    pred = _late(columns).fit(X[train], y[train]).predict(X[test])
    assert np.all(pred > 0)
    r2 = [r2_score(np.log10(y[test, j]), np.log10(pred[:, j])) for j in range(2)]
    assert r2[0] > 0.6 and r2[1] > 0.4, r2
