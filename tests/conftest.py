"""Shared fixtures: paths to the bundled real data, a few real densities, seeding."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

DATA_DIR = Path(__file__).resolve().parents[1] / "skecd" / "datasets" / "data"
CHGCAR_DIR = DATA_DIR / "chgcar"
GPAW_DIR = DATA_DIR / "ecd_gpaw"

# A few small, real GPAW densities of the bundled set (material id -> formula).
SMALL_GPAW = {
    "mp-1000": "BaTe",
    "mp-10020": "ScC",
    "mp-1002206": "SiC",
    "mp-1138": "LiF",
    "mp-102": "Co",  # spin-polarised
}


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One torch thread: the tests are small, and on a loaded 2-core machine two threads
    that wait for each other run many times slower than one."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _seed_everything():
    """Make every test deterministic."""
    random.seed(0)
    np.random.seed(0)
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.manual_seed(0)


@pytest.fixture
def chgcar_dir():
    return CHGCAR_DIR


@pytest.fixture
def gpaw_dir():
    return GPAW_DIR


@pytest.fixture
def si_chgcar():
    return CHGCAR_DIR / "Si_fcc.CHGCAR.gz"


@pytest.fixture
def gpaw_paths():
    """Paths of a few real GPAW densities."""
    return [GPAW_DIR / f"{mid}.npz" for mid in SMALL_GPAW]


@pytest.fixture
def conventional_copy():
    """A function: a primitive cubic density -> the same density on the conventional cell."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from skecd.io import ChargeDensity

    def _conventional_copy(density):
        """The same density on the conventional cell, built exactly from the primitive grid.

        With ``n`` points per axis on the conventional cell ``C = P A``, conventional grid
        point ``i`` sits at Cartesian ``(i / n) P A``, i.e. at primitive fractional
        coordinates ``(i P) / n``: primitive grid index ``(i P) mod n``. No interpolation.
        """
        prim = density.structure
        conv = SpacegroupAnalyzer(prim).get_conventional_standard_structure()
        p_float = conv.lattice.matrix @ np.linalg.inv(prim.lattice.matrix)
        P = np.rint(p_float).astype(int)
        assert np.allclose(p_float, P, atol=1e-6)
        structure = prim.copy()
        structure.make_supercell(P)
        assert np.allclose(structure.lattice.matrix, P @ prim.lattice.matrix)
        n = np.array(density.grid_shape)
        idx = np.indices(density.grid_shape).reshape(3, -1).T
        prim_idx = (idx @ P) % n
        # verify the mapping: both grid points are the same point of space (modulo a lattice vector)
        cart = (idx / n) @ structure.lattice.matrix
        frac_prim = prim.lattice.get_fractional_coords(cart)
        shift = frac_prim - prim_idx / n
        assert np.allclose(shift, np.rint(shift), atol=1e-8)

        def move(grid):
            return None if grid is None else grid[tuple(prim_idx.T)].reshape(density.grid_shape)

        conv_density = ChargeDensity(structure, move(density.total), spin=move(density.spin))
        return conv_density, P, len(np.unique(prim_idx, axis=0))

    return _conventional_copy
