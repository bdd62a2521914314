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
