"""Tests of ChargeDensityDescriptor on the bundled real GPAW and VASP densities."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from pymatgen.io.vasp import Chgcar
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skecd.io import ChargeDensity, load_density
from skecd.preprocessing import ChargeDensityDescriptor

FCC_TO_CONVENTIONAL = np.array([[-1, 1, 1], [1, -1, 1], [1, 1, -1]])


def _col(desc, X, name):
    return X[:, list(desc.get_feature_names_out()).index(name)]


# Odd grids: det P = 4 is coprime to n, so i -> (i P) mod n is a bijection and the
# conventional grid holds exactly the primitive grid's points.
@pytest.mark.parametrize("mid", ["mp-1002165", "mp-10149", "mp-10891"])  # GeC, InSb, MnAlPd2 (spin)
def test_primitive_and_conventional_cell_give_same_descriptors(gpaw_dir, conventional_copy, mid):
    prim = load_density(gpaw_dir / f"{mid}.npz")
    conv, P, n_distinct = conventional_copy(prim)
    assert round(abs(np.linalg.det(P))) == 4 and len(conv.structure) == 4 * len(prim.structure)
    assert n_distinct == prim.total.size  # same set of points
    X = ChargeDensityDescriptor().fit_transform([prim, conv])
    # Same values up to floating-point summation order.
    np.testing.assert_allclose(X[1], X[0], rtol=1e-9, atol=1e-12)


# Even grids: (i P) mod n hits only a quarter of the primitive points (each four times), so
# the conventional grid is the primitive one thinned 4x. Quantities of the structure and the
# cell integrals are the same; extrema obey the subset order; the volume fractions and
# percentiles are the same only up to the sampling of a grid with 4x fewer distinct points.
@pytest.mark.parametrize("mid", ["mp-30", "mp-1138", "mp-1000", "mp-102"])  # Cu LiF BaTe Co
def test_even_grid_conventional_cell_agrees_up_to_sampling(gpaw_dir, conventional_copy, mid):
    prim = load_density(gpaw_dir / f"{mid}.npz")
    conv, _, n_distinct = conventional_copy(prim)
    assert n_distinct * 4 == prim.total.size
    desc = ChargeDensityDescriptor()
    X = desc.fit_transform([prim, conv])
    for name in ["volume_per_atom", "nearest_neighbour_distance"]:
        np.testing.assert_allclose(*_col(desc, X, name), rtol=1e-9)
    # The mean over a regular sub-lattice of the grid is the cell average up to aliasing of
    # the Fourier components the thinned grid cannot resolve; the sharp compensation charges
    # at the nuclei of GPAW's pseudo densities make that about a percent on 12-14 point grids.
    for name in ["mean_density", "electrons_per_atom", "wigner_seitz_radius"]:
        np.testing.assert_allclose(*_col(desc, X, name), rtol=2e-2)
    p_max, c_max = _col(desc, X, "max_density")
    assert c_max <= p_max
    p_min, c_min = _col(desc, X, "interstitial_min_density")
    assert c_min >= p_min
    hist = [n.startswith("vol_frac") for n in desc.get_feature_names_out()]
    np.testing.assert_allclose(X[:, hist].sum(axis=1), 1.0)
    # A few percent of the volume may change bin between 1/4 and all of the samples.
    np.testing.assert_allclose(X[1, hist], X[0, hist], atol=0.05)


def test_descriptor_values_match_physics(gpaw_dir):
    paths = [gpaw_dir / "mp-30.npz", gpaw_dir / "mp-102.npz", gpaw_dir / "mp-1138.npz"]
    desc = ChargeDensityDescriptor(threshold=0.05)
    X = desc.fit_transform(paths)
    names = list(desc.get_feature_names_out())
    assert X.shape == (3, len(names)) and X.dtype == np.float64
    densities = [load_density(p) for p in paths]
    # electrons per atom: GPAW's own valence count (Cu 11, Co 9, LiF 3 + 7 over 2 atoms)
    n_val = np.array([d.metadata["n_valence"] / len(d.structure) for d in densities])
    np.testing.assert_allclose(_col(desc, X, "electrons_per_atom"), n_val, rtol=1e-4)
    np.testing.assert_allclose(_col(desc, X, "electrons_per_atom"), [11, 9, 4], rtol=1e-4)
    # Wigner-Seitz radius of the mean density, in Bohr
    n_bohr = _col(desc, X, "mean_density") * 0.529177210903**3
    r_s = (3 / (4 * np.pi * n_bohr)) ** (1 / 3)
    np.testing.assert_allclose(_col(desc, X, "wigner_seitz_radius"), r_s)
    # nearest neighbour in FCC Cu: a / sqrt(2) of the conventional cube
    cu = SpacegroupAnalyzer(densities[0].structure).get_conventional_standard_structure()
    a_cu = cu.lattice.a
    assert _col(desc, X, "nearest_neighbour_distance")[0] == pytest.approx(a_cu / np.sqrt(2))
    # Co is spin-polarised (about 1.6 Bohr magnetons per atom), Cu and LiF are not
    mag = _col(desc, X, "abs_magnetisation_per_atom")
    assert mag[0] == mag[2] == 0.0 and 1.0 < mag[1] < 2.0
    assert _col(desc, X, "local_magnetisation_per_atom")[1] >= mag[1]
    # volume fractions sum to one; "empty" space: ionic LiF has some, metallic Cu none
    hist = [n.startswith("vol_frac") for n in names]
    np.testing.assert_allclose(X[:, hist].sum(axis=1), 1.0)
    frac_empty = _col(desc, X, "frac_below_threshold")
    expected = [np.mean(d.total < 0.05) for d in densities]
    np.testing.assert_allclose(frac_empty, expected)
    assert frac_empty[2] > frac_empty[0]
    # percentiles are ordered and lie between the interstitial minimum and the maximum
    pct = X[:, [n.startswith("density_p") for n in names]]
    assert np.all(np.diff(pct, axis=1) >= 0)
    assert np.all(_col(desc, X, "max_density") >= pct[:, -1])


def test_feature_names_follow_parameters():
    desc = ChargeDensityDescriptor(log10_range=(-3, 1), n_bins=4, percentiles=[10, 50])
    names = desc.fit().get_feature_names_out()
    assert list(names[:4]) == [
        "vol_frac_log10rho_-3.00_-2.00",
        "vol_frac_log10rho_-2.00_-1.00",
        "vol_frac_log10rho_-1.00_+0.00",
        "vol_frac_log10rho_+0.00_+1.00",
    ]
    assert "density_p10" in names and "density_p50" in names and "density_p25" not in names
    assert len(set(names)) == len(names)
    np.testing.assert_array_equal(desc.feature_names_out_, names)


def test_inputs_paths_objects_volumetric_data_agree(gpaw_dir, si_chgcar):
    """Also replaces check_transformer_data_not_an_array: lists, arrays and objects agree."""
    paths = [gpaw_dir / "mp-1138.npz", si_chgcar]
    densities = [load_density(p) for p in paths]
    desc = ChargeDensityDescriptor()
    from_paths = desc.fit_transform(paths)
    np.testing.assert_array_equal(desc.transform(densities), from_paths)
    np.testing.assert_array_equal(desc.transform(np.array([str(p) for p in paths])), from_paths)
    chgcar = Chgcar.from_file(str(si_chgcar))
    np.testing.assert_allclose(desc.transform([chgcar])[0], from_paths[1])
    # Si: 4 valence electrons in the CHGCAR
    assert _col(desc, from_paths, "electrons_per_atom")[1] == pytest.approx(4.0, rel=1e-3)


def test_stateless_fit_transform_clone_and_pipeline(gpaw_paths):
    """Replaces the stateless-transformer checks on 2D tables with real densities."""
    desc = ChargeDensityDescriptor(n_bins=6)
    params = desc.get_params()
    unfitted = desc.transform(gpaw_paths)  # stateless: no fit needed
    assert desc.fit(gpaw_paths, y=np.arange(len(gpaw_paths))) is desc
    assert desc.get_params() == params
    np.testing.assert_array_equal(desc.transform(gpaw_paths), unfitted)
    np.testing.assert_array_equal(desc.fit(gpaw_paths).transform(gpaw_paths), unfitted)
    np.testing.assert_array_equal(clone(desc).fit_transform(gpaw_paths), unfitted)
    pipe = make_pipeline(ChargeDensityDescriptor(n_bins=6), StandardScaler())
    np.testing.assert_allclose(pipe.fit_transform(gpaw_paths), pipe.transform(gpaw_paths))
    pandas_out = clone(desc).set_output(transform="pandas").fit_transform(gpaw_paths)
    assert list(pandas_out.columns) == list(desc.get_feature_names_out())


def test_pickle_roundtrip(gpaw_paths):
    desc = ChargeDensityDescriptor(n_bins=5).fit()
    again = pickle.loads(pickle.dumps(desc))
    np.testing.assert_array_equal(again.transform(gpaw_paths), desc.transform(gpaw_paths))


def test_sample_order_and_subset_invariance(gpaw_paths):
    desc = ChargeDensityDescriptor()
    X = desc.fit_transform(gpaw_paths)
    order = np.array([3, 0, 4, 1, 2])
    np.testing.assert_array_equal(desc.transform([gpaw_paths[i] for i in order]), X[order])
    np.testing.assert_array_equal(desc.transform(gpaw_paths[1:3]), X[1:3])


def test_n_jobs_and_verbose_give_same_result(gpaw_paths):
    X1 = ChargeDensityDescriptor().fit_transform(gpaw_paths)
    X2 = ChargeDensityDescriptor(n_jobs=2, verbose=True).fit_transform(gpaw_paths)
    np.testing.assert_array_equal(X1, X2)


def test_rejects_tables_and_bad_samples(gpaw_paths, tmp_path):
    """Replaces the 2D-table input checks: non-density input gets a clear error."""
    desc = ChargeDensityDescriptor()
    with pytest.raises(ValueError, match="1D sequence of densities"):
        desc.fit(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="1D sequence of densities"):
        desc.transform(np.zeros((4, 0)))
    with pytest.raises(ValueError, match="X is empty"):
        desc.fit([])
    with pytest.raises(TypeError, match="wrap it in a list"):
        desc.transform(gpaw_paths[0])
    with pytest.raises(TypeError, match="sample 1: expected a ChargeDensity"):
        desc.transform([gpaw_paths[0], 3.5])
    with pytest.raises(FileNotFoundError, match="sample 1: .*missing.npz"):
        desc.transform([gpaw_paths[0], tmp_path / "missing.npz"])
    bad = load_density(gpaw_paths[0])
    with pytest.raises(ValueError, match="non-finite"):
        ChargeDensity(bad.structure, np.where(bad.total > 1, np.nan, bad.total))
    empty = ChargeDensity(bad.structure, np.zeros_like(bad.total), source="zeros")
    with pytest.raises(ValueError, match=r"sample 1 \(source: zeros\): mean density"):
        desc.transform([bad, empty])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"log10_range": (2, -4)}, "log10_range"),
        ({"log10_range": "ab"}, "log10_range"),
        ({"n_bins": 0}, "n_bins"),
        ({"n_bins": 2.5}, "n_bins"),
        ({"percentiles": [50, 120]}, "percentiles"),
        ({"threshold": -1.0}, "threshold"),
    ],
)
def test_bad_parameters_are_named(params, match, gpaw_paths):
    with pytest.raises(ValueError, match=match):
        ChargeDensityDescriptor(**params).fit()
    with pytest.raises(ValueError, match=match):
        ChargeDensityDescriptor(**params).transform(gpaw_paths)
