"""Every model family learns: seeded, small fits scored on held-out bundled materials.

Each test fits one family on 72 real bundled densities (GPAW, Materials Project moduli)
and scores the R^2 of log10 K_VRH and G_VRH on 24 other materials. Predicting the mean
of the training targets scores about 0 there, so the thresholds (well below what each
family reaches with these seeds) fail a model that has not learnt. The settings are
small (few epochs, coarse grids, few radii) to keep each test to seconds on one core.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score
from sklearn.pipeline import Pipeline, make_pipeline

from skecd.benchmark import make_model
from skecd.datasets import load_fcc_elastic
from skecd.models import (
    CGCNNRegressor,
    ECD3DCNNRegressor,
    FusionRegressor,
    InvariantECDRegressor,
    MagpieCNNRegressor,
    SEProjectedCNNRegressor,
    make_interstitial_late_fusion,
    make_invariant_fusion,
)
from skecd.preprocessing import (
    AxisProjector,
    ChargeDensityVoxelizer,
    CrystalGraphFeaturizer,
    LocalDensityFeaturizer,
    MagpieFeaturizer,
)

N_TRAIN, N_TEST = 72, 24
RADII = (1.2, 2.5)  # two radii of the profiles: a sixth of the default's cost


@pytest.fixture(scope="module")
def split():
    """96 seeded bundled materials: (train densities, train moduli, test densities, test moduli)."""
    data = load_fcc_elastic()
    rows = np.random.default_rng(0).choice(len(data.data), N_TRAIN + N_TEST, replace=False)
    X, y = [data.data[i] for i in rows], data.target[rows]
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def _held_out_r2(model, split):
    """Fit ``model`` on the training materials; R^2 of log10 K and G on the test ones."""
    X_train, y_train, X_test, y_test = split
    pred = np.asarray(model.fit(X_train, y_train).predict(X_test), dtype=float)
    assert pred.shape == y_test.shape and np.all(pred > 0), "a modulus predicted <= 0"
    return [r2_score(np.log10(y_test[:, j]), np.log10(pred[:, j])) for j in range(2)]


def _check(r2, k, g):
    assert r2[0] > k and r2[1] > g, f"held-out R^2 of log10 K, G: {np.round(r2, 2)}"


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


def test_random_forest_on_descriptors_and_magpie(split):
    model = make_model("rf_descriptors_magpie", n_estimators=50)  # one forest of K and G
    _check(_held_out_r2(model, split), 0.8, 0.5)


def test_magpie_cnn(split):
    model = make_pipeline(
        MagpieFeaturizer(pad_to_square=True), MagpieCNNRegressor(max_epochs=30, random_state=0)
    )
    _check(_held_out_r2(model, split), 0.6, 0.4)


def test_paper_3d_cnn(split):
    model = make_pipeline(
        ChargeDensityVoxelizer(grid_size=24), ECD3DCNNRegressor(max_epochs=30, random_state=0)
    )
    _check(_held_out_r2(model, split), 0.7, 0.4)


def test_projected_se_cnn(split):
    model = make_pipeline(
        ChargeDensityVoxelizer(grid_size=32),
        AxisProjector(),
        SEProjectedCNNRegressor(max_epochs=30, random_state=0),
    )
    _check(_held_out_r2(model, split), 0.7, 0.4)


def test_fusion_of_magpie_and_density_branches(split):
    magpie = Pipeline(
        [
            ("features", MagpieFeaturizer(pad_to_square=True)),
            ("net", MagpieCNNRegressor(max_epochs=30, random_state=0)),
        ]
    )
    ecd = Pipeline(
        [
            ("features", ChargeDensityVoxelizer(grid_size=24)),
            ("net", ECD3DCNNRegressor(max_epochs=30, random_state=0)),
        ]
    )
    model = FusionRegressor(magpie, ecd, max_epochs=50, random_state=0)
    _check(_held_out_r2(model, split), 0.7, 0.4)


def test_invariant_network_on_local_descriptors(split):
    model = make_pipeline(
        LocalDensityFeaturizer(sigmas=(1.0,), n_points=64),
        InvariantECDRegressor(max_epochs=100, random_state=0),
    )
    _check(_held_out_r2(model, split), 0.7, 0.4)


def test_radial_profile_network(split):
    model = make_invariant_fusion(
        table=("radial", "descriptors"),
        points=False,
        criterion=torch.nn.L1Loss,  # the registry's radial_ecd
        max_epochs=100,
        random_state=0,
    )
    model.set_params(features__radial__radii=RADII)
    _check(_held_out_r2(model, split), 0.8, 0.5)


def test_recommended_late_fusion(split):
    model = make_interstitial_late_fusion(n_estimators=30, random_state=0)
    model.set_params(
        features__radial_interstitial__radii=RADII,  # its columns are found by name
        regressor__network__net__max_epochs=100,
    )
    _check(_held_out_r2(model, split), 0.8, 0.5)


def test_cgcnn(split):
    model = make_pipeline(
        CrystalGraphFeaturizer(),
        CGCNNRegressor(max_epochs=100, lr=3e-3, batch_size=16, random_state=0),
    )
    _check(_held_out_r2(model, split), 0.7, 0.5)
