"""The invariant charge-density network: it learns, and its predictions do not depend on the file's
cell, origin or orientation (real GPAW densities of the bundled set)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from scipy.spatial.transform import Rotation
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline

from skecd.datasets import load_fcc_elastic
from skecd.io import ChargeDensity
from skecd.models import InvariantECDRegressor
from skecd.preprocessing import LocalDensityFeaturizer

N_TRAIN = 32


@pytest.fixture(scope="module")
def data():
    return load_fcc_elastic()


@pytest.fixture(scope="module")
def featurizer():
    return LocalDensityFeaturizer(n_points=512)


@pytest.fixture(scope="module")
def train_set(data, featurizer):
    X = featurizer.fit_transform(data.data[:N_TRAIN])
    return X, data.target[:N_TRAIN]


@pytest.fixture(scope="module")
def fitted(train_set):
    X, y = train_set
    return InvariantECDRegressor(
        max_epochs=80,
        early_stopping=False,
        random_state=0,
        lr=5e-3,
        batch_size=16,
        module__n_members=2,
        module__dropout=0.0,
        module__input_dropout=0.0,
        module__hidden_widths=(64, 64),
    ).fit(X, y)


def _refined(total, factor):
    """The band-limited (Fourier) interpolant of a periodic grid on a grid ``factor`` finer."""
    n = np.array(total.shape)
    spectrum = np.fft.fftshift(np.fft.fftn(total))
    pad = [((factor - 1) * k // 2, (factor - 1) * k - (factor - 1) * k // 2) for k in n]
    fine = np.fft.ifftn(np.fft.ifftshift(np.pad(spectrum, pad))).real
    return fine * factor**3


def _conventional_copy(density, symprec=0.01):
    """The same density written on the conventional cell, with a grid at least as fine.

    With ``S`` the integer primitive -> conventional matrix, conventional grid point
    ``i`` of a ``2n``-point grid lies at primitive fractional ``(i @ S) / 2n``: a point
    of the primitive density's exact Fourier interpolant on a ``2n`` grid.
    """
    dataset = SpacegroupAnalyzer(density.structure, symprec=symprec).get_symmetry_dataset()
    s = np.rint(np.linalg.inv(dataset.transformation_matrix).T).astype(int)
    conv = density.structure.copy()
    conv.make_supercell(s)
    n = density.grid_shape[0]
    assert density.grid_shape == (n, n, n)
    fine = _refined(np.asarray(density.total, dtype=np.float64), 2)
    m = 2 * n
    idx = (np.indices((m, m, m)).reshape(3, -1).T @ s) % m
    total = fine[idx[:, 0], idx[:, 1], idx[:, 2]].reshape(m, m, m)
    return ChargeDensity(conv, total)


def test_network_learns_k_and_g_jointly(fitted, train_set):
    X, y = train_set
    pred = fitted.predict(X)
    assert pred.shape == y.shape
    for j in range(2):
        assert r2_score(np.log10(y[:, j]), np.log10(pred[:, j])) > 0.9
    # a network that predicts the mean would fail this
    assert np.std(np.log10(pred[:, 0])) > 0.5 * np.std(np.log10(y[:, 0]))
    losses = fitted.history_[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_return_std_is_the_spread_of_the_members(fitted, train_set):
    X, _ = train_set
    mean, std = fitted.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5, 2)
    assert np.all(std > 0)
    members = 10.0 ** fitted._member_predictions(X[:5])
    assert_allclose(std, members.std(axis=1, ddof=1))
    assert_allclose(mean, 10.0 ** np.log10(members).mean(axis=1))


@pytest.mark.parametrize("index", [0, 5])
def test_rotated_file_gives_the_same_prediction(data, featurizer, fitted, index):
    rho = data.data[index]
    s = rho.structure
    ref = fitted.predict(featurizer.transform([rho]))
    for seed in range(3):
        rot = Rotation.random(random_state=seed).as_matrix()
        rotated = Structure(Lattice(s.lattice.matrix @ rot.T), s.species, s.frac_coords)
        pred = fitted.predict(featurizer.transform([ChargeDensity(rotated, rho.total)]))
        assert_allclose(pred, ref, rtol=1e-4)


@pytest.mark.parametrize("index", [0, 5])
def test_shifted_origin_gives_the_same_prediction(data, featurizer, fitted, index):
    rho = data.data[index]
    s, n = rho.structure, np.array(rho.grid_shape)
    ref = fitted.predict(featurizer.transform([rho]))
    for shift in ([3, 5, 2], [1, 0, 7]):
        shift = np.array(shift)
        moved = ChargeDensity(
            Structure(s.lattice, s.species, s.frac_coords + shift / n),
            np.roll(rho.total, tuple(shift), axis=(0, 1, 2)),
        )
        pred = fitted.predict(featurizer.transform([moved]))
        # the grid is permuted: the same multiset of points, the same prediction
        assert_allclose(pred, ref, rtol=1e-4)


@pytest.mark.parametrize("index", [0, 5])
def test_conventional_file_gives_the_same_prediction(data, featurizer, fitted, index):
    rho = data.data[index]
    conv = _conventional_copy(rho)
    assert len(conv.structure) == 4 * len(rho.structure)
    ref = fitted.predict(featurizer.transform([rho]))
    pred = fitted.predict(featurizer.transform([conv]))
    # Other grid points of the same density: at the default spacing (0.15 A) the sharp
    # core peaks of heavy atoms are sampled differently on the two grids, which moves
    # BaTe (index 0) by 16%; a finer ``spacing`` brings the descriptors closer.
    assert_allclose(pred, ref, rtol=0.2)


@pytest.mark.parametrize("index", [0, 5])
def test_supercell_file_gives_the_same_prediction(data, featurizer, fitted, index):
    rho = data.data[index]
    s = rho.structure.copy()
    s.make_supercell([2, 1, 3])
    tiled = ChargeDensity(s, np.tile(rho.total, (2, 1, 3)))
    ref = fitted.predict(featurizer.transform([rho]))
    # each grid value six times: the same quantiles (up to the rounding of the ranks)
    assert_allclose(fitted.predict(featurizer.transform([tiled])), ref, rtol=1e-3)


def test_descriptors_of_rotated_cell_are_identical(data, featurizer):
    rho = data.data[3]
    s = rho.structure
    rot = Rotation.random(random_state=7).as_matrix()
    rotated = Structure(Lattice(s.lattice.matrix @ rot.T), s.species, s.frac_coords)
    a = featurizer.transform([rho])
    b = featurizer.transform([ChargeDensity(rotated, rho.total)])
    assert_allclose(a, b, atol=2e-4)


def test_descriptor_names_and_validation():
    names = LocalDensityFeaturizer(sigmas=(0.5, 1.0)).get_feature_names_out()
    assert len(names) == 12 and names[0] == "log10_n@0.5A"
    with pytest.raises(ValueError, match="sigmas"):
        LocalDensityFeaturizer(sigmas=(0.0,)).fit()
    with pytest.raises(ValueError, match="n_points"):
        LocalDensityFeaturizer(n_points=0).fit()


@pytest.mark.slow  # tens of seconds of training on 2 cores
def test_single_target_pipeline_and_clone(data):
    model = make_pipeline(
        LocalDensityFeaturizer(n_points=216),
        InvariantECDRegressor(
            max_epochs=3, early_stopping=True, random_state=0, module__n_members=1
        ),
    )
    model.fit(data.data[:20], data.target[:20, 0])
    pred = model.predict(data.data[:3])
    assert pred.shape == (3,) and np.all(pred > 0)
    # early stopping (on request) held out a validation split and recorded its loss
    assert "valid_loss" in model[-1].history_[-1]
    again = clone(model).fit(data.data[:20], data.target[:20, 0])
    assert_allclose(again.predict(data.data[:3]), pred)  # seeded: identical


def test_log_target_refuses_non_positive_moduli(train_set):
    X, y = train_set
    y = y.copy()
    y[4, 1] = 0.0
    with pytest.raises(ValueError, match="sample 4"):
        InvariantECDRegressor(max_epochs=1).fit(X, y)


def test_quantiles_ignore_the_order_of_the_points(train_set):
    """The module's input vector is a function of each channel's multiset of values."""
    X, _ = train_set
    from skecd.models import InvariantECDNet
    from skecd.models._invariant import channel_quantiles

    x = torch.as_tensor(X[:4])
    shuffled = x[..., torch.randperm(x.shape[-1])]
    assert_allclose(channel_quantiles(shuffled, 16).numpy(), channel_quantiles(x, 16).numpy())
    # already sorted input (the regressor sorts once) gives the same vector
    net = InvariantECDNet(n_features=X.shape[1])
    assert_allclose(
        channel_quantiles(torch.as_tensor(net.sort_points(X[:4])), 16).numpy(),
        channel_quantiles(x, 16).numpy(),
    )
    with pytest.raises(ValueError, match="n_quantiles must be an int >= 1"):
        InvariantECDNet(n_quantiles=0)


def test_fusion_prediction_ignores_the_order_of_the_points(train_set):
    """The fusion reads the same quantiles whatever the order of each sample's points."""
    from skecd.models import InvariantFusionRegressor

    X, y = train_set
    n, f, p = X.shape
    table = np.random.default_rng(0).normal(size=(n, 5)).astype(np.float32)
    flat = np.hstack([X.reshape(n, -1), table])
    model = InvariantFusionRegressor(
        max_epochs=5, random_state=0, module__point_channels=f, module__n_points=p
    ).fit(flat, y)
    # 5 epochs on random descriptors put a sample beyond the clip (with a warning), and two
    # clipped predictions would be equal whatever the order: compare them unclipped
    model.CLIP = np.inf
    shuffled = X[:, :, np.random.default_rng(1).permutation(p)]
    flat_shuffled = np.hstack([shuffled.reshape(n, -1), table])
    assert not np.array_equal(flat_shuffled, flat)
    assert_allclose(model.predict(flat_shuffled), model.predict(flat), rtol=1e-5)
    # the table is not sorted: changing it changes the prediction
    assert not np.allclose(
        model.predict(np.hstack([X.reshape(n, -1), table[::-1]])), model.predict(flat)
    )


def test_far_inputs_are_clipped_with_a_warning(fitted, train_set):
    """An input far outside the training data gives a bounded prediction and a warning."""
    X, y = train_set
    far = X[:2].copy()
    far[1] *= 1e4  # descriptors no density has
    with pytest.warns(UserWarning, match=r"samples \[1\].*clipped"):
        pred = fitted.predict(far)
    log = np.log10(y)
    bound = 10 ** (log.mean(0) + fitted.CLIP * log.std(0) * 1.01)
    assert np.all(np.isfinite(pred)) and np.all(pred[1] <= bound)
