"""AngularDensityFeaturizer and BondCriticalPointFeaturizer on real GPAW densities: the
symmetry of the sites shows in the spectra, and rotations, origins and cells do not."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from pymatgen.core import Lattice, Structure
from scipy.spatial.transform import Rotation

from skecd.io import ChargeDensity
from skecd.preprocessing import AngularDensityFeaturizer, BondCriticalPointFeaturizer

ROCKSALT = "mp-1000"  # BaTe: both sites octahedral (m-3m)
FLUORITE = "mp-1022"  # K2S (antifluorite): S octahedral, K tetrahedral (-43m)
METAL = "mp-30"  # Cu, fcc


def _columns(featurizer, row, prefix):
    names = featurizer.get_feature_names_out()
    return np.array([v for n, v in zip(names, row) if n.startswith(prefix)])


@pytest.fixture(scope="module")
def densities():
    from skecd.datasets import load_fcc_elastic

    data = load_fcc_elastic()
    index = {m: i for i, m in enumerate(data.material_ids)}
    return {m: data.data[index[m]] for m in (ROCKSALT, FLUORITE, METAL)}


def test_the_site_symmetry_shows_in_the_spectra(densities):
    # On an octahedral site only the degrees 4 and 6 of the cubic harmonics survive; a
    # tetrahedral site also has degree 3. Degrees 1, 2 and 5 vanish on both (up to the
    # interpolation of the grid, which has only the primitive cell's symmetry: < 0.01).
    f = AngularDensityFeaturizer()
    rock, fluorite = f.fit_transform([densities[ROCKSALT], densities[FLUORITE]])
    for deg in (1, 2, 3, 5):
        assert _columns(f, rock, f"aniso_{deg}@").max() < 0.01
    assert _columns(f, rock, "aniso_4@").min() > 0.01
    assert _columns(f, rock, "aniso_4@").max() > 0.5
    for deg in (1, 2, 5):
        assert _columns(f, fluorite, f"aniso_{deg}@").max() < 0.01
    assert _columns(f, fluorite, "aniso_3@").max() > 0.5  # the tetrahedral K sites


@pytest.mark.parametrize("mid", [ROCKSALT, FLUORITE])
def test_a_rotated_file_gives_nearly_the_same_spectra(densities, mid):
    # exact for the continuous density; the quadrature's error on the rotated sphere
    # stays below 0.005 or 2% at the default Lebedev degree 41 (0.4 at degree 17)
    f = AngularDensityFeaturizer()
    rho = densities[mid]
    ref = f.fit_transform([rho])
    s = rho.structure
    for seed in range(2):
        rot = Rotation.random(random_state=seed).as_matrix()
        rotated = Structure(Lattice(s.lattice.matrix @ rot.T), s.species, s.frac_coords)
        assert_allclose(f.transform([ChargeDensity(rotated, rho.total)]), ref, rtol=0.02, atol=5e-3)


@pytest.mark.parametrize(
    "f", [AngularDensityFeaturizer(l_max=4), BondCriticalPointFeaturizer()], ids=type
)
def test_a_shifted_origin_and_a_supercell_give_the_same_rows(densities, f):
    # the same points of the same density (up to 1e-4: the quantiles of tied values);
    # a conventional file of another grid is not
    # compared: it holds a quarter of the points, and the curvatures change with that
    rho = densities[FLUORITE]
    ref = f.fit_transform([rho])
    s = rho.structure
    shift = np.array([3, 5, 7])  # grid steps
    moved = Structure(s.lattice, s.species, s.frac_coords - shift / np.array(rho.total.shape))
    assert_allclose(
        f.transform([ChargeDensity(moved, np.roll(rho.total, -shift, axis=(0, 1, 2)))]),
        ref,
        atol=1e-4,
    )
    big = s.copy()
    big.make_supercell([2, 1, 1])
    tiled = np.tile(rho.total, (2, 1, 1))
    assert_allclose(f.transform([ChargeDensity(big, tiled)]), ref, atol=1e-4)


@pytest.mark.parametrize("name", ["Si_fcc", "Li_bcc_nospin"])
def test_leaving_the_cores_out_brings_vasp_and_gpaw_closer(name):
    # a VASP CHGCAR and the GPAW density of the same structure differ most inside the
    # PAW spheres, which the neighbours' cores put on the outer shells
    from skecd.datasets import get_sample_chgcar_paths, get_sample_gpaw_twin_paths

    pair = [get_sample_chgcar_paths()[name], get_sample_gpaw_twin_paths()[name]]
    gaps = {}
    for core in (0.0, 1.0):
        vasp, gpaw = AngularDensityFeaturizer(core_radius=core).fit_transform(pair)
        gaps[core] = np.abs(vasp - gpaw).max()
    assert gaps[1.0] < gaps[0.0]


def test_bond_points_of_a_metal_sit_midway_and_are_minima_along_the_bond(densities):
    f = BondCriticalPointFeaturizer()
    row = f.fit_transform([densities[METAL], densities[ROCKSALT]])
    names = list(f.get_feature_names_out())
    cu, bate = row
    assert cu[names.index("bond_offset_max")] < 0.01  # Cu-Cu: the same atom at both ends
    assert cu[names.index("bonds_per_atom")] == 12  # fcc
    assert bate[names.index("bonds_per_atom")] == 6  # rock salt
    # the ionic bond's point lies nearer the small cation's side than the metal's midpoint
    assert bate[names.index("bond_offset_mean")] > cu[names.index("bond_offset_mean")]
    # quantiles increase
    for field in ("asinh_s", "asinh_q"):
        for weight in ("volume", "electron"):
            q = [row[0, names.index(f"{field}_{weight}_q{p}")] for p in (10, 25, 50, 75, 90)]
            assert np.all(np.diff(q) >= 0)


def test_bond_features_do_not_change_under_rotation(densities):
    f = BondCriticalPointFeaturizer()
    rho = densities[FLUORITE]
    ref = f.fit_transform([rho])
    s = rho.structure
    rot = Rotation.random(random_state=3).as_matrix()
    rotated = Structure(Lattice(s.lattice.matrix @ rot.T), s.species, s.frac_coords)
    assert_allclose(f.transform([ChargeDensity(rotated, rho.total)]), ref, atol=1e-8)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="AngularDensityFeaturizer: order"):
        AngularDensityFeaturizer(l_max=8, order=13).fit()
    with pytest.raises(ValueError, match="AngularDensityFeaturizer: radii"):
        AngularDensityFeaturizer(radii=(2.0, 1.0)).fit()
    with pytest.raises(ValueError, match="BondCriticalPointFeaturizer: neighbor_factor"):
        BondCriticalPointFeaturizer(neighbor_factor=3).fit()
