"""The on-disk voxel cache (voxelize_to_cache, VoxelArray) on bundled real densities."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.utils import _safe_indexing

from skecd.io import load_density
from skecd.preprocessing import ChargeDensityVoxelizer, VoxelArray, voxelize_to_cache

GPAW_DIR = Path(__file__).resolve().parents[2] / "skecd" / "datasets" / "data" / "ecd_gpaw"
IDS = ["mp-1000", "mp-10020", "mp-1002206", "mp-1138", "mp-102"]


@pytest.fixture
def paths(tmp_path):
    # copies, so that the tests may touch them
    out = []
    for mid in IDS:
        dst = tmp_path / "in" / f"{mid}.npz"
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(GPAW_DIR / f"{mid}.npz", dst)
        out.append(str(dst))
    return out


class _Counting(ChargeDensityVoxelizer):
    """A voxeliser that counts the samples it voxelises (and can fail on demand)."""

    calls = []
    fail_after = None

    def transform(self, X):
        if _Counting.fail_after is not None and len(_Counting.calls) >= _Counting.fail_after:
            raise KeyboardInterrupt("killed")
        _Counting.calls.append(len(X))
        return super().transform(X)


@pytest.fixture
def counting():
    _Counting.calls, _Counting.fail_after = [], None
    yield _Counting
    _Counting.calls, _Counting.fail_after = [], None


def test_cache_equals_transform_and_is_reused(paths, tmp_path, counting):
    vox = counting(grid_size=10)
    cache = voxelize_to_cache(vox, paths, tmp_path / "c", chunk_size=2)
    assert isinstance(cache, VoxelArray)
    assert cache.shape == (5, 1, 10, 10, 10) and cache.dtype == np.float32
    assert_array_equal(np.asarray(cache), ChargeDensityVoxelizer(grid_size=10).transform(paths))
    assert counting.calls == [2, 2, 1]
    again = voxelize_to_cache(counting(grid_size=10, n_jobs=2), paths, tmp_path / "c")
    assert counting.calls == [2, 2, 1]  # n_jobs is not part of the key: nothing recomputed
    assert again.path == cache.path


def test_cache_key_follows_settings_and_files(paths, tmp_path):
    a = voxelize_to_cache(ChargeDensityVoxelizer(grid_size=8), paths, tmp_path)
    b = voxelize_to_cache(ChargeDensityVoxelizer(grid_size=8, order=1), paths, tmp_path)
    assert a.path != b.path
    st = os.stat(paths[0])
    os.utime(paths[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the file changed
    c = voxelize_to_cache(ChargeDensityVoxelizer(grid_size=8), paths, tmp_path)
    assert c.path != a.path
    # in-memory densities are keyed by content
    objs = [load_density(p) for p in paths]
    d = voxelize_to_cache(ChargeDensityVoxelizer(grid_size=8), objs, tmp_path)
    e = voxelize_to_cache(ChargeDensityVoxelizer(grid_size=8), objs[:4], tmp_path)
    assert d.path != e.path
    assert_array_equal(np.asarray(d), np.asarray(a))


def test_killed_run_resumes_at_the_first_unwritten_chunk(paths, tmp_path, counting):
    counting.fail_after = 1  # dies while voxelising the second chunk
    with pytest.raises(KeyboardInterrupt):
        voxelize_to_cache(counting(grid_size=10), paths, tmp_path, chunk_size=2)
    (record,) = tmp_path.glob("*.json")
    assert json.loads(record.read_text())["n_done"] == 2
    counting.fail_after = None
    cache = voxelize_to_cache(counting(grid_size=10), paths, tmp_path, chunk_size=2)
    assert counting.calls == [2, 2, 1]  # one chunk before the kill, two after
    assert_array_equal(np.asarray(cache), ChargeDensityVoxelizer(grid_size=10).transform(paths))


def test_voxel_array_indexes_lazily_and_pickles(paths, tmp_path):
    cache = voxelize_to_cache(ChargeDensityVoxelizer(grid_size=6), paths, tmp_path)
    full = np.asarray(cache)
    assert_array_equal(cache[3], full[3])
    assert_array_equal(cache[-1], full[-1])
    sub = cache[[4, 1]]
    assert isinstance(sub, VoxelArray) and sub.shape == (2, 1, 6, 6, 6)
    assert_array_equal(np.asarray(sub), full[[4, 1]])
    assert_array_equal(np.asarray(cache[1:4][::2]), full[1:4][::2])
    mask = np.array([True, False, True, False, True])
    assert_array_equal(np.asarray(cache[mask]), full[mask])
    # scikit-learn's fold indexing keeps it lazy
    fold = _safe_indexing(cache, np.array([0, 2]))
    assert isinstance(fold, VoxelArray)
    assert_array_equal(np.asarray(fold), full[[0, 2]])
    assert_array_equal(np.asarray(pickle.loads(pickle.dumps(sub))), full[[4, 1]])
    assert_array_equal(cache.memmap(), full)
    with pytest.raises(IndexError, match="out of range"):
        cache[5]


def test_bad_input_is_named(paths, tmp_path):
    with pytest.raises(ValueError, match="chunk_size"):
        voxelize_to_cache(ChargeDensityVoxelizer(grid_size=6), paths, tmp_path, chunk_size=0)
    with pytest.raises(FileNotFoundError, match="sample 1"):
        voxelize_to_cache(ChargeDensityVoxelizer(grid_size=6), [paths[0], "nope.npz"], tmp_path)
    with pytest.raises(TypeError, match="single"):
        voxelize_to_cache(ChargeDensityVoxelizer(grid_size=6), paths[0], tmp_path)
