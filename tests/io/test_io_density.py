"""The ChargeDensity type on real densities."""

from __future__ import annotations

import numpy as np
import pytest

from skecd.io import ChargeDensity, read_gpaw_npz


@pytest.fixture
def co(gpaw_dir):
    return read_gpaw_npz(gpaw_dir / "mp-102.npz")


def test_properties(co):
    assert co.grid_shape == co.total.shape
    assert co.volume == pytest.approx(co.structure.lattice.volume)
    assert co.n_electrons == pytest.approx(np.mean(co.total, dtype=np.float64) * co.volume)
    assert co.formula == "Co"
    assert "Co" in repr(co) and "spin" in repr(co)


def test_to_chgcar_stores_density_times_volume(co):
    chg = co.to_chgcar()
    assert np.allclose(chg.data["total"], co.total * co.volume)
    assert np.allclose(chg.data["diff"], co.spin * co.volume)


def test_bad_construction_names_the_source(co):
    with pytest.raises(TypeError, match="pymatgen Structure"):
        ChargeDensity("Co", co.total, source="x.npz")
    with pytest.raises(ValueError, match=r"3D grid.*x\.npz"):
        ChargeDensity(co.structure, co.total[0], source="x.npz")
    with pytest.raises(ValueError, match=r"spin density shape .*x\.npz"):
        ChargeDensity(co.structure, co.total, spin=co.spin[:-1], source="x.npz")
    nan = co.total.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"non-finite.*x\.npz"):
        ChargeDensity(co.structure, nan, source="x.npz")
    bad_spin = co.spin.copy()
    bad_spin[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"spin density holds non-finite.*x\.npz"):
        ChargeDensity(co.structure, co.total, spin=bad_spin, source="x.npz")


def test_integer_grid_becomes_float(co):
    rho = ChargeDensity(co.structure, np.ones(co.grid_shape, dtype=np.int32))
    assert np.issubdtype(rho.total.dtype, np.floating)
    assert rho.n_electrons == pytest.approx(co.volume)
