"""The per-sample featurisers on a dask.distributed cluster give the serial result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skecd.preprocessing import (
    ChargeDensityDescriptor,
    ChargeDensityVoxelizer,
    MagpieFeaturizer,
    voxelize_to_cache,
)
from skecd.utils import parallel_backend

distributed = pytest.importorskip("distributed")

GPAW_DIR = Path(__file__).resolve().parents[2] / "skecd" / "datasets" / "data" / "ecd_gpaw"
PATHS = [str(GPAW_DIR / f"{m}.npz") for m in ("mp-1000", "mp-10020", "mp-1138", "mp-102", "mp-134")]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.parametrize(
    "featurizer",
    [
        ChargeDensityVoxelizer(grid_size=12, include_spin=True),
        ChargeDensityDescriptor(),
        MagpieFeaturizer(),
    ],
    ids=lambda f: type(f).__name__,
)
def test_dask_featurisation_equals_serial(client, featurizer):
    serial = featurizer.fit_transform(PATHS)
    with distributed.get_task_stream(client) as tasks, parallel_backend(scheduler=client):
        remote = featurizer.fit_transform(PATHS)
    assert tasks.data, "nothing ran on the cluster"
    assert {t["worker"] for t in tasks.data} <= set(client.scheduler_info()["workers"])
    assert_array_equal(np.asarray(remote), np.asarray(serial))


def test_dask_backend_by_address_fills_the_cache(client, tmp_path):
    serial = ChargeDensityVoxelizer(grid_size=10).transform(PATHS)
    with parallel_backend(scheduler=client.scheduler.address) as own:
        assert own is not client  # a client of its own, closed on exit
        cache = voxelize_to_cache(
            ChargeDensityVoxelizer(grid_size=10), PATHS, tmp_path, chunk_size=2
        )
    assert own.status == "closed"
    assert_array_equal(np.asarray(cache), serial)


def test_scheduler_needs_the_dask_backend():
    with (
        pytest.raises(ValueError, match="backend='dask'"),
        parallel_backend("loky", scheduler="tcp://127.0.0.1:1"),
    ):
        pass
