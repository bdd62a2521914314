"""ChargeDensityVoxelizer on the bundled real densities."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Chgcar, Poscar
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from scipy.spatial.transform import Rotation
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skecd.io import ChargeDensity, load_density, read_gpaw_npz
from skecd.preprocessing import AxisProjector, ChargeDensityVoxelizer

# Grid-aligned and cheap: the bundled Fm-3m densities used for the frame tests.
FM3M_SAMPLES = ["chgcar/Si_fcc.CHGCAR.gz", "ecd_gpaw/mp-1138.npz", "ecd_gpaw/mp-1000.npz"]


@pytest.fixture
def data_dir(chgcar_dir):
    return chgcar_dir.parent


def _conventional_copy(density, symprec=0.01):
    """The density of the conventional cell, built from a primitive one without interpolation.

    With ``S`` the integer primitive -> conventional matrix (conventional lattice
    rows = S @ primitive rows) and the same ``n`` points per axis, conventional grid
    point ``i`` lies at primitive fractional ``(i @ S) / n``, i.e. exactly on primitive
    grid index ``(i @ S) mod n``.
    """
    dataset = SpacegroupAnalyzer(density.structure, symprec=symprec).get_symmetry_dataset()
    s = np.rint(np.linalg.inv(dataset.transformation_matrix).T).astype(int)
    conv = density.structure.copy()
    conv.make_supercell(s)
    assert_allclose(conv.lattice.matrix, s @ density.structure.lattice.matrix, atol=1e-8)
    n = density.grid_shape[0]
    assert density.grid_shape == (n, n, n)
    idx = (np.indices((n, n, n)).reshape(3, -1).T @ s) % n
    total = density.total[idx[:, 0], idx[:, 1], idx[:, 2]].reshape(n, n, n)
    return ChargeDensity(conv, total)


# ---------------------------------------------------------------- integration


def test_si_cell_frame_integrates_to_valence_count(si_chgcar):
    rho = load_density(si_chgcar)
    X = ChargeDensityVoxelizer(grid_size=60).fit_transform([si_chgcar])
    assert X.shape == (1, 1, 60, 60, 60)
    assert X.dtype == np.float32
    # Si: 3s2 3p2, 4 valence electrons.
    assert X.mean(dtype=np.float64) * rho.volume == pytest.approx(4.0, rel=0.01)


def test_gpaw_cell_frame_integrates_to_valence_count(gpaw_paths):
    X = ChargeDensityVoxelizer(grid_size=24).fit_transform(gpaw_paths)
    for cube, path in zip(X, gpaw_paths):
        rho = read_gpaw_npz(path)
        count = rho.metadata["n_valence"]
        assert cube[0].mean(dtype=np.float64) * rho.volume == pytest.approx(count, rel=0.01)


@pytest.mark.parametrize("sample", FM3M_SAMPLES)
def test_conventional_frame_integrates_to_count_times_volume_ratio(data_dir, sample):
    rho = load_density(data_dir / sample)
    conv = SpacegroupAnalyzer(rho.structure).get_conventional_standard_structure()
    ratio = conv.volume / rho.volume
    X = ChargeDensityVoxelizer(grid_size=20, frame="conventional").fit_transform([rho])
    integral = X.mean(dtype=np.float64) * conv.volume
    assert integral == pytest.approx(rho.n_electrons * ratio, rel=0.01)
    assert round(ratio) == 4  # an fcc conventional cell holds four primitive cells


def test_include_spin_adds_spin_channel(gpaw_dir):
    paths = [gpaw_dir / "mp-102.npz", gpaw_dir / "mp-1000.npz"]  # spin Co, non-spin BaTe
    X = ChargeDensityVoxelizer(grid_size=12, include_spin=True).fit_transform(paths)
    assert X.shape == (2, 2, 12, 12, 12)
    co = read_gpaw_npz(paths[0])
    assert co.spin is not None
    spin_integral = X[0, 1].mean(dtype=np.float64) * co.volume
    assert spin_integral == pytest.approx(np.mean(co.spin) * co.volume, rel=0.01)
    assert abs(spin_integral) > 0.5  # ferromagnetic Co
    assert_array_equal(X[1, 1], 0.0)
    # The total channel is what include_spin=False gives.
    assert_array_equal(X[:, :1], ChargeDensityVoxelizer(grid_size=12).fit_transform(paths))


# ---------------------------------------------------------------- frames


@pytest.mark.parametrize("sample", FM3M_SAMPLES)
def test_primitive_and_conventional_files_give_same_voxels(data_dir, sample, tmp_path):
    prim = load_density(data_dir / sample)
    conv_path = tmp_path / "CHGCAR_conventional"
    _conventional_copy(prim).to_chgcar().write_file(conv_path)
    n = prim.grid_shape[0]
    # D = n and n / 2 put every voxel on a grid point of both files, so the
    # frames must agree to the precision of the written CHGCAR.
    for d in (n, n // 2):
        vox = ChargeDensityVoxelizer(grid_size=d, frame="conventional")
        from_prim = vox.fit_transform([prim])
        from_conv = vox.fit_transform([conv_path])
        assert_allclose(from_conv, from_prim, rtol=1e-5, atol=1e-6 * np.abs(from_prim).max())
        # The cell frame of course differs: the cells differ.
        cell = ChargeDensityVoxelizer(grid_size=d, frame="cell")
        assert not np.allclose(cell.fit_transform([conv_path]), cell.fit_transform([prim]))


@pytest.mark.parametrize("sample", FM3M_SAMPLES + ["chgcar/Fe3O4.CHGCAR.gz"])
@pytest.mark.parametrize("frame, edge", [("conventional", None), ("cube", 6.0)])
def test_rotated_copy_gives_identical_voxels(data_dir, sample, frame, edge):
    rho = load_density(data_dir / sample)
    vox = ChargeDensityVoxelizer(grid_size=16, frame=frame, cube_edge=edge)
    reference = vox.fit_transform([rho])
    for seed in range(2):
        rotation = Rotation.random(random_state=seed).as_matrix()
        s = rho.structure
        rotated = Structure(Lattice(s.lattice.matrix @ rotation.T), s.species, s.frac_coords)
        assert not np.allclose(rotated.cart_coords, s.cart_coords) or len(s) == 1
        assert_allclose(
            vox.fit_transform([ChargeDensity(rotated, rho.total)]), reference, rtol=1e-6, atol=1e-7
        )


@pytest.mark.parametrize("sample", FM3M_SAMPLES)
def test_shifted_origin_gives_identical_voxels(data_dir, sample):
    rho = load_density(data_dir / sample)
    n = np.array(rho.grid_shape)
    shift = np.array([3, 5, 2])  # whole grid steps: the shifted grid holds the same values
    s = rho.structure
    moved = ChargeDensity(
        Structure(s.lattice, s.species, s.frac_coords + shift / n),
        np.roll(rho.total, tuple(shift), axis=(0, 1, 2)),
    )
    for frame, edge in [("conventional", None), ("cube", 5.0)]:
        vox = ChargeDensityVoxelizer(grid_size=16, frame=frame, cube_edge=edge)
        assert_allclose(vox.fit_transform([moved]), vox.fit_transform([rho]), rtol=1e-6, atol=1e-7)
    cell = ChargeDensityVoxelizer(grid_size=16)
    assert not np.allclose(cell.fit_transform([moved]), cell.fit_transform([rho]))


def test_cube_of_conventional_edge_equals_conventional_frame(si_chgcar):
    rho = load_density(si_chgcar)
    a = SpacegroupAnalyzer(rho.structure).get_conventional_standard_structure().lattice.a
    conv = ChargeDensityVoxelizer(grid_size=14, frame="conventional").fit_transform([rho])
    cube = ChargeDensityVoxelizer(grid_size=14, frame="cube", cube_edge=a).fit_transform([rho])
    assert_allclose(cube, conv, rtol=1e-5, atol=1e-6)
    # A cube of twice the edge at twice the voxels holds the conventional cell 8 times.
    big = ChargeDensityVoxelizer(grid_size=28, frame="cube", cube_edge=2 * a).fit_transform([rho])
    assert_allclose(big[0, 0, :14, :14, :14], conv[0, 0], rtol=1e-5, atol=1e-6)
    assert_allclose(big[0, 0, 14:, 14:, 14:], conv[0, 0], rtol=1e-5, atol=1e-6)
    assert_allclose(big[0, 0, :14, 14:, :14], conv[0, 0], rtol=1e-5, atol=1e-6)


def test_chgcar_npz_and_volumetric_data_give_same_grid(gpaw_dir, tmp_path):
    rho = read_gpaw_npz(gpaw_dir / "mp-1002206.npz")
    chgcar = Chgcar(Poscar(rho.structure), {"total": rho.total.astype(np.float64) * rho.volume})
    path = tmp_path / "CHGCAR"
    chgcar.write_file(path)
    for frame, edge in [("cell", None), ("conventional", None), ("cube", 5.0)]:
        vox = ChargeDensityVoxelizer(grid_size=16, frame=frame, cube_edge=edge)
        X = vox.fit_transform([gpaw_dir / "mp-1002206.npz", str(path), chgcar, rho])
        for other in X[1:]:
            assert_allclose(other, X[0], rtol=1e-5, atol=1e-7)


def test_order_one_and_three_agree_on_grid_points_and_differ_between(si_chgcar):
    on_grid = [
        ChargeDensityVoxelizer(grid_size=14, order=o).fit_transform([si_chgcar]) for o in (1, 3)
    ]
    assert_allclose(on_grid[0], on_grid[1], rtol=1e-5, atol=1e-6)
    off_grid = [
        ChargeDensityVoxelizer(grid_size=20, order=o).fit_transform([si_chgcar]) for o in (1, 3)
    ]
    assert not np.allclose(off_grid[0], off_grid[1], rtol=1e-4)


# ---------------------------------------------------------------- estimator behaviour


def test_n_jobs_gives_same_output(gpaw_paths):
    serial = ChargeDensityVoxelizer(grid_size=10, n_jobs=1).fit_transform(gpaw_paths)
    parallel = ChargeDensityVoxelizer(grid_size=10, n_jobs=2).fit_transform(gpaw_paths)
    assert_array_equal(parallel, serial)


def test_verbose_shows_progress_bar(gpaw_paths, capsys):
    ChargeDensityVoxelizer(grid_size=6, verbose=True).fit_transform(gpaw_paths)
    err = capsys.readouterr().err
    assert "Voxelising" in err and f"{len(gpaw_paths)}/{len(gpaw_paths)}" in err
    ChargeDensityVoxelizer(grid_size=6).fit_transform(gpaw_paths)
    assert "Voxelising" not in capsys.readouterr().err


def test_fit_accepts_y_and_returns_self(gpaw_paths):
    vox = ChargeDensityVoxelizer(grid_size=8)
    assert vox.fit(gpaw_paths, y=np.arange(len(gpaw_paths))) is vox
    assert vox.fit(gpaw_paths) is vox
    assert_array_equal(
        vox.fit_transform(gpaw_paths, np.ones(len(gpaw_paths))), vox.transform(gpaw_paths)
    )


def test_transform_without_fit(gpaw_paths):
    """Stateless: transform works unfitted and gives what fit_transform gives."""
    X = ChargeDensityVoxelizer(grid_size=8).transform(gpaw_paths)
    assert_array_equal(X, ChargeDensityVoxelizer(grid_size=8).fit_transform(gpaw_paths))


def test_fit_is_idempotent_and_leaves_state_unchanged(gpaw_paths):
    vox = ChargeDensityVoxelizer(grid_size=8, frame="conventional")
    before = dict(vox.__dict__)
    first = vox.fit(gpaw_paths).transform(gpaw_paths)
    second = vox.fit(gpaw_paths).transform(gpaw_paths)
    assert_array_equal(first, second)
    assert vox.__dict__ == before  # neither fit nor transform sets or changes attributes


def test_clone_and_pickle_roundtrip(gpaw_paths):
    vox = ChargeDensityVoxelizer(grid_size=8, frame="cube", cube_edge=4.0, order=1)
    expected = vox.fit_transform(gpaw_paths)
    cloned = clone(vox)
    assert cloned.get_params() == vox.get_params()
    restored = pickle.loads(pickle.dumps(vox))
    assert_array_equal(cloned.fit_transform(gpaw_paths), expected)
    assert_array_equal(restored.transform(gpaw_paths), expected)


def test_sample_order_and_subset_invariance(gpaw_paths):
    vox = ChargeDensityVoxelizer(grid_size=8)
    full = vox.fit_transform(gpaw_paths)
    order = np.random.RandomState(0).permutation(len(gpaw_paths))
    assert_array_equal(vox.transform([gpaw_paths[i] for i in order]), full[order])
    assert_array_equal(vox.transform(gpaw_paths[1:3]), full[1:3])


def test_accepts_lists_tuples_and_arrays_of_paths(gpaw_paths):
    vox = ChargeDensityVoxelizer(grid_size=6)
    expected = vox.fit_transform(gpaw_paths)
    as_str = [str(p) for p in gpaw_paths]
    for X in (tuple(gpaw_paths), np.array(as_str), np.array(gpaw_paths, dtype=object)):
        assert_array_equal(vox.transform(X), expected)


def test_output_shape_set_by_grid_size_not_input_grid(chgcar_dir, gpaw_paths):
    """No n_features_in_: the input is densities on grids of any size."""
    samples = [chgcar_dir / "Si_fcc.CHGCAR.gz", chgcar_dir / "TiIr_mp-1235.CHGCAR.gz", *gpaw_paths]
    grids = {load_density(s).grid_shape for s in samples}
    assert len(grids) > 3
    vox = ChargeDensityVoxelizer(grid_size=10)
    assert vox.fit_transform(samples).shape == (len(samples), 1, 10, 10, 10)
    assert not hasattr(vox, "n_features_in_")


def test_output_is_float32_whatever_the_grid_dtype(gpaw_dir):
    rho = read_gpaw_npz(gpaw_dir / "mp-1138.npz")
    as64 = ChargeDensity(rho.structure, rho.total.astype(np.float64))
    as32 = ChargeDensity(rho.structure, rho.total.astype(np.float32))
    X = ChargeDensityVoxelizer(grid_size=8).fit_transform([as64, as32])
    assert X.dtype == np.float32
    assert_allclose(X[0], X[1], rtol=1e-6)


def test_memory_layout_and_read_only_grids(gpaw_dir):
    rho = read_gpaw_npz(gpaw_dir / "mp-1000.npz")
    fortran = ChargeDensity(rho.structure, np.asfortranarray(rho.total))
    read_only = rho.total.copy()
    read_only.flags.writeable = False
    locked = ChargeDensity(rho.structure, read_only)
    X = ChargeDensityVoxelizer(grid_size=8).fit_transform([rho, fortran, locked])
    assert_array_equal(X[1], X[0])
    assert_array_equal(X[2], X[0])


def test_pipeline_with_projector(gpaw_paths):
    pipe = make_pipeline(ChargeDensityVoxelizer(grid_size=8), AxisProjector())
    views = pipe.fit_transform(gpaw_paths)
    cubes = ChargeDensityVoxelizer(grid_size=8).fit_transform(gpaw_paths)
    assert_array_equal(views, AxisProjector().fit_transform(cubes))
    assert_array_equal(pipe.transform(gpaw_paths), views)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "params, match",
    [
        ({"grid_size": 0}, "grid_size"),
        ({"grid_size": 1.5}, "grid_size"),
        ({"grid_size": "60"}, "grid_size"),
        ({"frame": "primitive"}, "frame"),
        ({"frame": "cube"}, "cube_edge"),
        ({"frame": "cube", "cube_edge": -3.0}, "cube_edge"),
        ({"frame": "cube", "cube_edge": np.nan}, "cube_edge"),
        ({"order": 7}, "order"),
        ({"symprec": 0}, "symprec"),
    ],
)
def test_bad_parameters_are_named(si_chgcar, params, match):
    vox = ChargeDensityVoxelizer(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=match):
        vox.fit([si_chgcar])
    with pytest.raises(ValueError, match=match):
        vox.transform([si_chgcar])


def test_empty_input_raises():
    with pytest.raises(ValueError, match="X is empty"):
        ChargeDensityVoxelizer().fit_transform([])


def test_single_sample_must_be_wrapped_in_a_list(si_chgcar):
    rho = load_density(si_chgcar)
    for single in (si_chgcar, str(si_chgcar), rho, rho.to_chgcar()):
        with pytest.raises(TypeError, match="wrap it in a list"):
            ChargeDensityVoxelizer(grid_size=6).transform(single)


def test_rejects_tables_and_non_density_samples(si_chgcar):
    vox = ChargeDensityVoxelizer(grid_size=6)
    with pytest.raises(ValueError, match=r"1D sequence .* shape \(4, 3\)"):
        vox.transform(np.ones((4, 3)))
    with pytest.raises(TypeError, match="sample 1: expected a ChargeDensity"):
        vox.transform([si_chgcar, 1.5 + 2j])
    with pytest.raises(TypeError, match="sample 0: expected a ChargeDensity"):
        vox.transform(np.arange(3.0))


def test_nan_density_raises_naming_sample(gpaw_dir, tmp_path):
    rho = read_gpaw_npz(gpaw_dir / "mp-1138.npz")
    broken = ChargeDensity(rho.structure, rho.total.copy(), source="broken-density")
    broken.total[1, 2, 3] = np.nan  # corrupted after construction
    with pytest.raises(ValueError, match=r"sample 1: total density .*non-finite.*broken-density"):
        ChargeDensityVoxelizer(grid_size=6).transform([rho, broken])
    arrays = dict(np.load(gpaw_dir / "mp-1138.npz"))
    arrays["density"][0, 0, 0] = np.inf
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"sample 2: .*non-finite.*bad\.npz"):
        ChargeDensityVoxelizer(grid_size=6).transform([rho, rho, path])


def test_missing_file_raises_naming_sample_and_path(si_chgcar, tmp_path):
    missing = tmp_path / "no_such_CHGCAR"
    with pytest.raises(FileNotFoundError, match=r"sample 1: .*no_such_CHGCAR"):
        ChargeDensityVoxelizer(grid_size=6).transform([si_chgcar, missing])
