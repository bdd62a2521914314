"""AxisProjector on voxelised real densities."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

import skecd.datasets
from skecd.preprocessing import AxisProjector, ChargeDensityVoxelizer


@pytest.fixture(scope="module")
def cubes():
    """Real voxelised densities: Si and TiIr (tetragonal: its axes differ) and GPAW ones."""
    data = Path(skecd.datasets.__file__).parent / "data"
    samples = [data / "chgcar" / "Si_fcc.CHGCAR.gz", data / "chgcar" / "TiIr_mp-1235.CHGCAR.gz"]
    samples += [data / "ecd_gpaw" / f"{mid}.npz" for mid in ("mp-1000", "mp-1138", "mp-102")]
    cubes = ChargeDensityVoxelizer(grid_size=10).fit_transform(samples)
    cubes.flags.writeable = False  # shared by the tests of this module
    return cubes


def test_views_follow_the_documented_layout(cubes):
    views = AxisProjector().fit_transform(cubes)
    assert views.shape == (len(cubes), 3, 10, 10, 10)
    assert views.dtype == cubes.dtype
    rng = np.random.RandomState(0)
    for n, i, j, k in rng.randint(0, 10, size=(50, 4)) % [len(cubes), 10, 10, 10]:
        value = cubes[n, 0, i, j, k]
        assert views[n, 0, i, j, k] == value  # view 0: axes (x, y, z)
        assert views[n, 1, j, k, i] == value  # view 1: axes (y, z, x)
        assert views[n, 2, k, i, j] == value  # view 2: axes (z, x, y)
    assert_array_equal(views[:, 1], np.moveaxis(cubes[:, 0], 1, 3))
    assert_array_equal(views[:, 2], np.moveaxis(cubes[:, 0], 3, 1))
    # The views of a tetragonal crystal really differ (not a no-op).
    assert not np.allclose(views[1, 0], views[1, 2])


def test_view_k_leads_with_axis_k(cubes):
    """Summing view k over its leading axis projects the cube along axis k."""
    views = AxisProjector().fit_transform(cubes.astype(np.float64))
    cube = cubes[:, 0].astype(np.float64)
    x, y, z = 1, 2, 3  # axes of the cube
    assert_allclose(views[:, 0].sum(axis=1), cube.sum(axis=x), rtol=1e-12)  # left (y, z)
    assert_allclose(views[:, 1].sum(axis=1), cube.sum(axis=y).swapaxes(1, 2), rtol=1e-12)  # (z, x)
    assert_allclose(views[:, 2].sum(axis=1), cube.sum(axis=z), rtol=1e-12)  # left (x, y)


def test_projector_preserves_float_dtype(cubes):
    for dtype in (np.float32, np.float64):
        assert AxisProjector().fit_transform(cubes.astype(dtype)).dtype == dtype
    ints = np.rint(cubes * 100).astype(np.int64)
    out = AxisProjector().fit_transform(ints)
    assert out.dtype == np.float32
    assert_array_equal(out[:, 0], ints[:, 0].astype(np.float32))


def test_projector_fit_returns_self_and_ignores_y(cubes):
    proj = AxisProjector()
    assert proj.fit(cubes, np.arange(len(cubes))) is proj
    assert_array_equal(proj.fit_transform(cubes, np.ones(len(cubes))), proj.transform(cubes))


def test_projector_is_stateless(cubes):
    """Transform works unfitted; fit is idempotent and sets nothing."""
    proj = AxisProjector()
    unfitted = proj.transform(cubes)
    before = dict(proj.__dict__)
    assert_array_equal(proj.fit(cubes).transform(cubes), unfitted)
    assert_array_equal(proj.fit(cubes).transform(cubes), unfitted)
    assert proj.__dict__ == before


def test_projector_clone_and_pickle(cubes):
    expected = AxisProjector().fit_transform(cubes)
    assert_array_equal(clone(AxisProjector()).fit_transform(cubes), expected)
    assert_array_equal(pickle.loads(pickle.dumps(AxisProjector())).transform(cubes), expected)


def test_projector_sample_order_and_subset_invariance(cubes):
    views = AxisProjector().fit_transform(cubes)
    order = np.random.RandomState(0).permutation(len(cubes))
    assert_array_equal(AxisProjector().transform(cubes[order]), views[order])
    assert_array_equal(AxisProjector().transform(cubes[2:4]), views[2:4])


def test_projector_layout_independent_of_memory_order(cubes):
    views = AxisProjector().fit_transform(cubes)
    fortran = np.asfortranarray(cubes)
    read_only = cubes.copy()
    read_only.flags.writeable = False
    assert_array_equal(AxisProjector().transform(fortran), views)
    assert_array_equal(AxisProjector().transform(read_only), views)
    assert_array_equal(AxisProjector().transform(cubes.tolist()), views)  # nested lists
    assert views.flags.c_contiguous


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.ones((4, 3)), ValueError, r"\(n_samples, 1, D, D, D\).*2 dimensions"),
        (np.ones(3), ValueError, "1 dimensions"),
        (np.ones((2, 1, 4, 4, 5)), ValueError, "cubic grids"),
        (np.ones((2, 2, 4, 4, 4)), ValueError, "one channel.*2 channels"),
        (np.ones((0, 1, 4, 4, 4)), ValueError, "empty"),
        (np.ones((1, 1, 2, 2, 2), dtype=complex), TypeError, "complex"),
        (np.full((1, 1, 2, 2, 2), "a"), TypeError, "numeric"),
    ],
)
def test_projector_rejects_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        AxisProjector().transform(bad)


def test_projector_rejects_nan_naming_samples(cubes):
    bad = np.array(cubes)
    bad[2, 0, 1, 1, 1] = np.nan
    bad[4, 0, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"non-finite .* samples \[2, 4\]"):
        AxisProjector().transform(bad)
