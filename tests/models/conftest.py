"""Real inputs for the network tests: a few bundled GPAW densities and their moduli."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skecd.io import load_density

DATA_DIR = Path(__file__).resolve().parents[2] / "skecd" / "datasets" / "data"
GPAW_DIR = DATA_DIR / "ecd_gpaw"

# Small, real GPAW densities of the bundled set with K_VRH/G_VRH in fcc_fm3m_elastic.
MODEL_IDS = (
    "mp-1000",
    "mp-10020",
    "mp-1002206",
    "mp-1138",
    "mp-102",
    "mp-1022",
    "mp-101",
    "mp-10149",
)


@pytest.fixture(autouse=True)
def _few_threads():
    """Keep torch to one thread (the test machine is shared); restore afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def elastic_records():
    with gzip.open(DATA_DIR / "fcc_fm3m_elastic.json.gz", "rt") as fh:
        return {rec["material_id"]: rec for rec in json.load(fh)}


@pytest.fixture(scope="session")
def real_paths():
    return [GPAW_DIR / f"{mid}.npz" for mid in MODEL_IDS]


@pytest.fixture(scope="session")
def real_densities(real_paths):
    return [load_density(p, index=i) for i, p in enumerate(real_paths)]


@pytest.fixture(scope="session")
def real_targets(elastic_records):
    """(n, 2) array of K_VRH and G_VRH in GPa, from the bundled real records."""
    return np.array([[elastic_records[m]["K_VRH"], elastic_records[m]["G_VRH"]] for m in MODEL_IDS])


@pytest.fixture(scope="session")
def cubes20(real_densities):
    """Real densities voxelised on 20^3 cubes, shape (n, 1, 20, 20, 20)."""
    from skecd.preprocessing import ChargeDensityVoxelizer

    return ChargeDensityVoxelizer(grid_size=20).fit_transform(real_densities)


@pytest.fixture(scope="session")
def views30(real_densities):
    """Real densities voxelised on 30^3 cubes and axis-projected, shape (n, 3, 30, 30, 30)."""
    from skecd.preprocessing import AxisProjector, ChargeDensityVoxelizer

    cubes = ChargeDensityVoxelizer(grid_size=30).fit_transform(real_densities)
    return AxisProjector().fit_transform(cubes)


@pytest.fixture(scope="session")
def magpie144(real_densities):
    """Magpie features of the real densities' compositions, padded to 144."""
    from skecd.preprocessing import MagpieFeaturizer

    return MagpieFeaturizer(pad_to_square=True).fit_transform(real_densities)
