"""A damaged benchmark cache: reported with its path, moved aside, recomputed."""

from __future__ import annotations

import hashlib
import json
import os

import joblib
import numpy as np
import pytest

from skecd.benchmark import run_benchmark

N = 30
KWARGS = {
    "models": ["rf_magpie"],
    "protocols": ["cv"],
    "targets": ["K_VRH"],
    "n_splits": 2,
    "settings": {"n_estimators": 5},
    "max_samples": N,
    "progress": False,
}


@pytest.fixture
def cached(tmp_path):
    """A results directory with every split of KWARGS computed, and the first run."""
    first = run_benchmark(results_dir=tmp_path, **KWARGS)
    assert (first.n_fitted, first.n_cached) == (2, 0)
    return tmp_path, first


def _only(root, pattern):
    (path,) = sorted(root.rglob(pattern))
    return path


def _assert_recomputed(root, first, damaged, n_fitted):
    message = rf"damaged benchmark cache entry .*{damaged.name}.*moved aside .* and recomputed$"
    with pytest.warns(RuntimeWarning, match=message):
        again = run_benchmark(results_dir=root, **KWARGS)
    assert again.n_fitted == n_fitted
    assert [r["y_pred"] for r in again.results] == [r["y_pred"] for r in first.results]
    assert damaged.with_name(damaged.name + ".damaged").exists()
    # and the repaired cache is used silently afterwards
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = run_benchmark(results_dir=root, **KWARGS)
    assert (third.n_fitted, third.n_cached) == (0, 2)


@pytest.mark.parametrize("damage", ["truncate", "empty", "not-a-record"])
def test_damaged_result_json(cached, damage):
    root, first = cached
    path = sorted((root / "results").rglob("*.json"))[0]
    text = path.read_text()
    path.write_text(
        {"truncate": text[: len(text) // 2], "empty": "", "not-a-record": "[1, 2]"}[damage]
    )
    _assert_recomputed(root, first, path, n_fitted=1)


def test_result_edited_after_writing_fails_its_checksum(cached):
    root, first = cached
    path = sorted((root / "results").rglob("*.json"))[0]
    record = json.loads(path.read_text())
    record["y_pred"] = [0.0] * len(record["y_pred"])  # valid JSON, wrong numbers
    path.write_text(json.dumps(record))
    _assert_recomputed(root, first, path, n_fitted=1)


@pytest.mark.parametrize("damage", ["truncate", "empty"])
def test_damaged_feature_file(cached, damage):
    root, first = cached
    path = _only(root / "features", "*.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"")
    # results are cached, so the features are read only when a split is recomputed
    sorted((root / "results").rglob("*.json"))[0].unlink()
    _assert_recomputed(root, first, path, n_fitted=1)


def test_feature_rows_zeroed_fail_the_checksum(cached):
    """A valid feature file whose rows were zeroed used to be used silently."""
    root, first = cached
    path = _only(root / "features", "*.npz")
    with np.load(path) as stored:
        features = stored["array"].copy()
    features[: N // 2] = 0.0
    np.savez(path, kind="array", array=features)
    for result in (root / "results").rglob("*.json"):
        result.unlink()
    _assert_recomputed(root, first, path, n_fitted=2)


@pytest.mark.parametrize("damage", ["truncate", "empty"])
def test_damaged_timing_json(cached, damage):
    root, first = cached
    path = _only(root / "features", "*.json")
    text = path.read_text()
    path.write_text(text[:10] if damage == "truncate" else "")
    # --report-only (fit=False) reports without a traceback
    with pytest.warns(RuntimeWarning, match=rf"unreadable feature timing .*{path.name}"):
        report = run_benchmark(results_dir=root, fit=False, **KWARGS)
    assert report.n_cached == 2 and report.feature_seconds == {}
    sorted((root / "results").rglob("*.json"))[0].unlink()
    _assert_recomputed(root, first, path, n_fitted=1)


def test_leftover_part_files_are_removed(cached):
    root, first = cached
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    leftovers = [
        root / "features" / f".magpie-x.joblib.{dead_pid}.part",
        root / "results" / f".fold0-x.json.{dead_pid}.part",
    ]
    for path in leftovers:
        path.write_bytes(b"half written")
    live = root / "features" / f".other.joblib.{os.getpid()}.part"  # a writer still running
    live.write_bytes(b"in progress")
    with pytest.warns(RuntimeWarning, match="left by an interrupted run"):
        again = run_benchmark(results_dir=root, **KWARGS)
    assert again.n_cached == 2
    assert not any(p.exists() for p in leftovers)
    assert live.exists()


def test_checksums_are_stored(cached):
    root, first = cached
    meta = json.loads(_only(root / "features", "*.json").read_text())
    digest = hashlib.sha256(_only(root / "features", "*.npz").read_bytes()).hexdigest()
    assert meta["sha256"] == digest
    for record in first.results:
        assert len(record["checksum"]) == 64
    assert np.isfinite([r["metrics"]["r2"] for r in first.results]).all()


def test_atomic_write_leaves_the_old_file_on_error(tmp_path):
    from skecd._atomic import atomic_write, remove_partial_files

    target = tmp_path / "a.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target) as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    unrelated = tmp_path / "download.part"  # not hidden: not ours, left alone
    unrelated.write_text("x")
    assert remove_partial_files(tmp_path) == []
    assert unrelated.exists()


class _Payload:
    """Unpickling this creates ``marker`` (a harmless stand-in for ``os.system``)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_feature_cache_never_unpickles(cached):
    """A pickle planted in the feature cache, with a matching timing record, runs nothing."""
    import pickle

    root, first = cached
    meta_path = _only(root / "features", "*.json")
    meta = json.loads(meta_path.read_text())
    marker = root / "payload_ran"
    payload = pickle.dumps(_Payload(marker))
    for suffix in (".joblib", ".npz"):  # the old and the new cache file names
        (root / "features" / f"{meta['key']}{suffix}").write_bytes(payload)
    meta["checksum"] = joblib.hash(_Payload(marker))
    meta_path.write_text(json.dumps(meta))
    for result in (root / "results").rglob("*.json"):
        result.unlink()
    with pytest.warns(RuntimeWarning, match="damaged benchmark cache entry"):
        again = run_benchmark(results_dir=root, **KWARGS)
    assert not marker.exists()
    assert [r["y_pred"] for r in again.results] == [r["y_pred"] for r in first.results]


def test_graph_features_round_trip_through_the_cache(tmp_path):
    """The one object-valued feature (crystal graphs) is stored as plain arrays too."""
    from skecd.benchmark._runner import _read_features, _write_features
    from skecd.datasets import load_fcc_elastic
    from skecd.preprocessing import CrystalGraphFeaturizer

    graphs = CrystalGraphFeaturizer().fit_transform(load_fcc_elastic().data[:3])
    path = tmp_path / "g.npz"
    with open(path, "wb") as fh:
        _write_features(fh, graphs)
    back = _read_features(path.read_bytes())
    assert back.dtype == object and len(back) == 3
    for a, b in zip(graphs, back):
        assert type(a) is type(b) and a.formula == b.formula
        for field in ("atom_features", "edge_index", "edge_features", "distances"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
            assert getattr(a, field).dtype == getattr(b, field).dtype
