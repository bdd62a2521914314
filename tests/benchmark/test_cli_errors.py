"""``skecd benchmark`` with bad options: one line on stderr, exit 2, nothing computed."""

from __future__ import annotations

import os
import re

import pytest

from skecd.benchmark import _cli
from skecd.cli import main

FAST = [
    "benchmark",
    "--models",
    "rf_magpie",
    "--protocol",
    "cv",
    "--targets",
    "K_VRH",
    "--max-samples",
    "30",
    "--n-splits",
    "2",
    "--n-estimators",
    "5",
    "--no-progress",
]


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's errors
        return exc.code


@pytest.mark.parametrize(
    "option, value, match",
    [
        ("--epochs", "0", r"--epochs: expected an integer >= 1 or 'own', got '0'"),
        ("--epochs", "-1", r"--epochs: expected an integer >= 1"),
        ("--epochs", "2.5", r"--epochs: expected an integer >= 1 or 'own', got '2.5'"),
        ("--patience", "-1", r"--patience: expected an integer >= 0, got '-1'"),
        ("--data", "fcc3", r"--data: invalid choice: 'fcc3'"),
        ("--grid", "0", r"--grid: expected an integer >= 1"),
        ("--grid", "8", r"--grid: 8 is too small for cnn3d_ecd: .*too small"),
        ("--models", "", r"--models: expected comma-separated names, got ''"),
        ("--models", ",", r"--models: expected comma-separated names"),
        ("--models", "rf_magpie,nope", r"--models: unknown models \['nope'\]"),
        ("--max-samples", "1", r"--max-samples: expected an integer >= 2"),
        ("--max-samples", "5000", r"--max-samples must be between 2 and 369, got 5000"),
        ("--n-splits", "1", r"--n-splits: expected an integer >= 2"),
        ("--n-splits", "31", r"--n-splits must be between 2 and the 30 materials"),
        ("--n-jobs", "0", r"--n-jobs: expected -1 \(all cores\) or a positive integer"),
        ("--n-jobs", "-3", r"--n-jobs: expected -1"),
        ("--batch-size", "0", r"--batch-size: expected an integer >= 1"),
        ("--batch-size", "x", r"--batch-size: expected an integer >= 1, got 'x'"),
        ("--protocol", "holdout", r"--protocol: unknown \['holdout'\]"),
        ("--min-count", "500", r"--min-count=500 of the 30 materials"),
        ("--device", "gpu", r"--device: unknown torch device 'gpu'"),
    ],
)
def test_bad_option_is_one_line_and_exit_2(tmp_path, capsys, option, value, match):
    models = ["--models", "rf_magpie,cnn3d_ecd"] if option == "--grid" else []
    protocol = ["--protocol", "loeo"] if option == "--min-count" else []
    argv = [*FAST, *models, *protocol, "--results-dir", str(tmp_path / "out"), option, value]
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("skecd benchmark: error: ")
    assert re.search(match, err), err
    assert not (tmp_path / "out").exists()  # checked before any feature is computed


def test_cuda_device_without_cuda(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    argv = [*FAST, "--results-dir", str(tmp_path), "--device", "cuda"]
    assert _exit_code(argv) == 2
    assert "--device: 'cuda' but CUDA is not available" in capsys.readouterr().err


def test_results_dir_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "results"
    target.write_text("not a directory")
    assert _exit_code([*FAST, "--results-dir", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--results-dir" in err and "is a file" in err


def _cache(tmp_path, capsys):
    assert main([*FAST, "--results-dir", str(tmp_path)]) == 0
    capsys.readouterr()


def test_read_only_results_dir_with_everything_cached_prints_the_tables(
    tmp_path, capsys, monkeypatch
):
    _cache(tmp_path, capsys)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    # Root may write anywhere, so the check itself is patched here; the test below
    # uses real permissions when not run as root.
    monkeypatch.setattr(_cli, "_writable", lambda path: False)
    assert main([*FAST, "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2-fold cross-validation" in out and "| RF+Magpie |" in out
    assert "is read-only: the report above was not saved" in out
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_read_only_results_dir_with_missing_splits(tmp_path, capsys, monkeypatch):
    _cache(tmp_path, capsys)
    monkeypatch.setattr(_cli, "_writable", lambda path: False)
    assert main([*FAST, "--results-dir", str(tmp_path), "--n-estimators", "6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not writable and 2 splits are not computed" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_results_dir_for_real(tmp_path, capsys):
    _cache(tmp_path, capsys)
    dirs = [tmp_path, *[p for p in tmp_path.rglob("*") if p.is_dir()]]
    for d in dirs:
        d.chmod(0o555)
    try:
        assert main([*FAST, "--results-dir", str(tmp_path)]) == 0
        assert "| RF+Magpie |" in capsys.readouterr().out
    finally:
        for d in dirs:
            d.chmod(0o755)


def test_damaged_cache_with_report_only(tmp_path, capsys):
    _cache(tmp_path, capsys)
    result = sorted((tmp_path / "results").rglob("*.json"))[0]
    result.write_text("")
    with pytest.warns(
        RuntimeWarning, match=f"damaged benchmark cache entry .*{result.name}"
    ) as rec:
        assert main([*FAST, "--results-dir", str(tmp_path), "--report-only"]) == 0
    assert "Not computed yet (1 splits" in capsys.readouterr().out
    # nothing is recomputed under --report-only, and the warning says so
    (message,) = [str(w.message) for w in rec if "damaged benchmark" in str(w.message)]
    assert "recomputed" not in message.replace("to recompute it", "")
    assert "left out of this report (rerun without --report-only to recompute it)" in message
    assert not result.exists() and result.with_name(result.name + ".damaged").exists()
    # the run without --report-only recomputes it
    assert main([*FAST, "--results-dir", str(tmp_path)]) == 0
    assert "Not computed yet" not in capsys.readouterr().out
    assert result.exists()
