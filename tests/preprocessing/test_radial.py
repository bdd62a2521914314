"""RadialDensityFeaturizer on real GPAW densities: right electron counts, invariances, and the
density-only network on it learns."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from pymatgen.core import Lattice, Structure
from scipy.spatial.transform import Rotation
from sklearn.base import clone
from sklearn.metrics import r2_score

from skecd.datasets import load_fcc_elastic
from skecd.io import ChargeDensity, load_density
from skecd.models import make_invariant_fusion
from skecd.preprocessing import ChargeDensityDescriptor, RadialDensityFeaturizer

N_TRAIN = 32


@pytest.fixture(scope="module")
def data():
    return load_fcc_elastic()


def _col(featurizer, X, name):
    return X[:, list(featurizer.get_feature_names_out()).index(name)]


def test_shape_names_and_monotone_electron_count(data):
    featurizer = RadialDensityFeaturizer()
    X = featurizer.fit_transform(data.data[:5])
    names = featurizer.get_feature_names_out()
    assert X.shape == (5, len(names)) == (5, 6 * 13)
    assert np.all(np.isfinite(X))
    electrons = X[:, [i for i, n in enumerate(names) if n.startswith("log10_electrons")]]
    # mean, min and max over the atoms, each over increasing radii: never fewer electrons
    for block in electrons.reshape(5, 3, 13).transpose(1, 0, 2):
        assert np.all(np.diff(block, axis=1) >= 0)


@pytest.mark.parametrize("mid", ["mp-1138", "mp-1002206"])  # LiF, SiC
def test_electrons_within_a_sphere_match_a_direct_count_on_the_grid(gpaw_dir, mid):
    # Integrate the density directly: sum the grid points within r of each nucleus
    # (over periodic images) on the Fourier-refined grid, times the voxel volume.
    rho = load_density(gpaw_dir / f"{mid}.npz")
    radius = 1.2
    featurizer = RadialDensityFeaturizer(radii=(0.5, radius), width=0.02, spacing=0.05)
    X = featurizer.fit_transform([rho])
    spectrum = np.fft.fftshift(np.fft.fftn(rho.total))
    n = np.array(rho.grid_shape)
    factor = 3
    pad = [((factor - 1) * k // 2, (factor - 1) * k - (factor - 1) * k // 2) for k in n]
    fine = np.fft.ifftn(np.fft.ifftshift(np.pad(spectrum, pad))).real * factor**3
    m = np.array(fine.shape)
    frac = np.indices(fine.shape).reshape(3, -1).T / m
    lattice = rho.structure.lattice
    direct = []
    for site in rho.structure:
        d = frac - site.frac_coords
        d -= np.rint(d)  # nearest image (the cells here are larger than 2 r)
        inside = np.linalg.norm(d @ lattice.matrix, axis=1) <= radius
        direct.append(fine.ravel()[inside].sum() * lattice.volume / fine.size)
    # pooled in log10: the mean is the geometric mean over the atoms
    for stat, expected in [
        ("mean", 10.0 ** np.mean(np.log10(direct))),
        ("min", min(direct)),
        ("max", max(direct)),
    ]:
        ours = 10.0 ** _col(featurizer, X, f"log10_electrons@{radius:g}A_{stat}")[0]
        assert ours == pytest.approx(expected, rel=0.02), stat


@pytest.mark.parametrize("core", [0.0, 1.0])
@pytest.mark.parametrize("index", [0, 5])
def test_shifted_origin_and_supercell_give_the_same_features(data, index, core):
    featurizer = RadialDensityFeaturizer(core_radius=core)
    rho = data.data[index]
    s, n = rho.structure, np.array(rho.grid_shape)
    ref = featurizer.fit_transform([rho])
    shift = np.array([3, 5, 2])
    moved = ChargeDensity(
        Structure(s.lattice, s.species, s.frac_coords + shift / n),
        np.roll(rho.total, tuple(shift), axis=(0, 1, 2)),
    )
    big = s.copy()
    big.make_supercell([2, 1, 3])
    tiled = ChargeDensity(big, np.tile(rho.total, (2, 1, 3)))
    assert_allclose(featurizer.transform([moved]), ref, atol=1e-9)
    assert_allclose(featurizer.transform([tiled]), ref, atol=1e-9)


@pytest.mark.parametrize("core", [0.0, 1.0])
@pytest.mark.parametrize("index", [0, 5])
def test_rotated_file_gives_the_same_features(data, index, core):
    # distances between grid points and nuclei do not change under a rotation
    featurizer = RadialDensityFeaturizer(core_radius=core)
    rho = data.data[index]
    s = rho.structure
    ref = featurizer.fit_transform([rho])
    for seed in range(3):
        rot = Rotation.random(random_state=seed).as_matrix()
        rotated = Structure(Lattice(s.lattice.matrix @ rot.T), s.species, s.frac_coords)
        assert_allclose(featurizer.transform([ChargeDensity(rotated, rho.total)]), ref, atol=1e-9)


@pytest.mark.parametrize("mid", ["mp-1002165", "mp-10149"])  # GeC, InSb (odd grids)
def test_conventional_file_gives_nearly_the_same_features(gpaw_dir, conventional_copy, mid):
    prim = load_density(gpaw_dir / f"{mid}.npz")
    conv, _, _ = conventional_copy(prim)  # the same grid points, on the conventional cell
    assert len(conv.structure) == 4 * len(prim.structure)
    featurizer = RadialDensityFeaturizer()
    # The two cells' axes differ in length, so the grids are refined by other factors and
    # the shells read other points of the same density: within 5% (0.02 in log10).
    assert_allclose(featurizer.fit_transform([conv]), featurizer.transform([prim]), atol=0.02)


@pytest.mark.parametrize(
    "radii", [(), (1.0, 0.5), (0.0, 1.0), (-1.0,), (np.nan,), "abc", [[0.5, 1.0], [2.0, 3.0]]]
)
def test_bad_radii_are_refused_naming_the_parameter(radii):
    with pytest.raises(ValueError, match="RadialDensityFeaturizer: radii must be an increasing"):
        RadialDensityFeaturizer(radii=radii).fit()


def test_non_finite_density_is_refused_naming_the_sample(data):
    chgcar = data.data[0].to_chgcar()  # a pymatgen VolumetricData
    chgcar.data["total"][0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="sample 1: total density holds 1 non-finite"):
        RadialDensityFeaturizer().fit_transform([data.data[0], chgcar])


@pytest.mark.parametrize(
    "criterion",
    [torch.nn.SmoothL1Loss, torch.nn.L1Loss],  # the class default, the registry's radial_ecd
)
def test_density_only_network_on_radial_profiles_learns(data, criterion):
    model = make_invariant_fusion(
        table=("radial", "descriptors"),
        points=False,
        random_state=0,
        max_epochs=60,
        early_stopping=False,
        criterion=criterion,
    )
    X, y = data.data[:N_TRAIN], data.target[:N_TRAIN]
    model.fit(X, y)
    pred, std = model.predict(X, return_std=True)
    assert pred.shape == std.shape == y.shape and np.all(std > 0)
    for j in range(2):
        assert r2_score(np.log10(y[:, j]), np.log10(pred[:, j])) > 0.85
        # a network that predicts the mean would fail this
        assert np.std(np.log10(pred[:, j])) > 0.5 * np.std(np.log10(y[:, j]))
    losses = model[-1].history_[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    n_table = 6 * 13 + len(ChargeDensityDescriptor().get_feature_names_out())
    assert model[-1].module_.members[0].body[1].in_features == n_table  # no point columns
    again = pickle.loads(pickle.dumps(model))
    assert_allclose(again.predict(X[:4]), pred[:4], rtol=1e-6)
    assert clone(model).get_params()["regressor__module__point_channels"] == 0


TWINS = Path(__file__).resolve().parents[2] / "skecd" / "datasets" / "data" / "chgcar_gpaw"


@pytest.mark.parametrize("name", ["Si_fcc", "Li_bcc_nospin", "TiIr_mp-1235"])
def test_leaving_the_cores_out_makes_vasp_and_gpaw_densities_agree(name, chgcar_dir):
    """The codes differ inside the PAW spheres (and in which states are valence, TiIr);
    profiles of the density beyond 1 A of every nucleus agree within 0.05 decades."""
    from skecd.io import read_chgcar, read_gpaw_npz

    vasp = read_chgcar(chgcar_dir / f"{name}.CHGCAR.gz")
    gpaw = read_gpaw_npz(TWINS / f"{name}.npz")
    radii = (1.0, 1.4, 2.0, 2.6, 3.0)
    shifts = {}
    for core in (0.0, 1.0):
        f = RadialDensityFeaturizer(radii=radii, core_radius=core)
        shifts[core] = np.abs(f.fit_transform([vasp]) - f.fit_transform([gpaw])).max()
    assert shifts[1.0] < 0.05
    if name == "TiIr_mp-1235":  # semicore states: GPAW counts 27 electrons, VASP 19
        assert shifts[0.0] > 0.15 > 3 * shifts[1.0]


def test_core_radius_leaves_the_points_near_every_nucleus_out(gpaw_paths):
    from skecd.io import load_density

    density = load_density(gpaw_paths[2])  # SiC: nearest neighbours 1.9 A apart
    inside = RadialDensityFeaturizer(radii=(0.3, 0.5), core_radius=1.0)
    # shells and spheres (reaching 0.5 + 4 widths) within the core hold no point: the floor
    np.testing.assert_allclose(inside.fit_transform([density]), np.log10(1e-4))
    radii = (1.0, 1.6, 2.4)
    cored = RadialDensityFeaturizer(radii=radii, core_radius=1.0).fit_transform([density])
    plain = RadialDensityFeaturizer(radii=radii).fit_transform([density])
    # the electrons within 1.6 A of an atom but outside every core are fewer
    names = list(RadialDensityFeaturizer(radii=radii).get_feature_names_out())
    j = names.index("log10_electrons@1.6A_mean")
    assert cored[0, j] < plain[0, j] - 0.1
