"""The protocols of the extended data (transfer, locso, cv over everything) on a real subset."""

import json
import re
from collections import Counter

import numpy as np
import pytest

from skecd.benchmark import (
    TRANSFER_SPACE_GROUP,
    load_benchmark_data,
    locso_systems,
    make_splits,
    regression_metrics,
    run_benchmark,
    system_table,
)
from skecd.cli import main
from skecd.datasets import crystal_system

N = 48
MIN_COUNT = 3
FAST = {"n_estimators": 5, "epochs": 1, "grid": 24, "batch_size": 16}


@pytest.fixture(scope="module")
def extended():
    data = load_benchmark_data(max_samples=N, seed=0, data="extended")
    # the subset must exercise the protocols: Fm-3m and other materials, several systems
    assert (data.space_groups == TRANSFER_SPACE_GROUP).any()
    assert len(set(data.crystal_systems)) >= 3
    return data


def test_extended_data_is_labelled_and_larger_than_the_bundled_set(extended):
    bundled = load_benchmark_data(data="bundled")
    assert extended.name == "extended" and len(extended.material_ids) == N
    assert extended.n_available > len(bundled.material_ids) == 369
    assert set(bundled.crystal_systems) == {"cubic"}
    assert extended.crystal_systems == [crystal_system(g) for g in extended.space_groups]
    assert extended.target.shape == (N, 2) and np.isfinite(extended.target).all()


def test_transfer_trains_on_fm3m_and_tests_on_every_other_material(extended):
    ((name, train, test),) = make_splits(
        "transfer", extended.formulas, space_groups=extended.space_groups
    )
    sg = extended.space_groups
    assert name == "non-Fm-3m"
    assert (sg[train] == TRANSFER_SPACE_GROUP).all()
    assert not (sg[test] == TRANSFER_SPACE_GROUP).any()
    assert sorted([*train, *test]) == list(range(N))


def test_locso_holds_out_each_large_system_from_its_training_set(extended):
    systems = np.array(extended.crystal_systems)
    splits = make_splits(
        "locso", extended.formulas, min_count=MIN_COUNT, space_groups=extended.space_groups
    )
    counts = Counter(extended.crystal_systems)
    held = [name for name, _, _ in splits]
    assert held == locso_systems(extended.space_groups, MIN_COUNT)
    assert set(held) == {s for s, c in counts.items() if c >= MIN_COUNT}
    assert [counts[s] for s in held] == sorted((counts[s] for s in held), reverse=True)
    for system, train, test in splits:
        assert (systems[test] == system).all() and len(test) == counts[system]
        assert system not in set(systems[train])
        assert len(train) + len(test) == N


def test_symmetry_protocols_refuse_data_of_one_system():
    bundled = load_benchmark_data(max_samples=20)
    for protocol in ("transfer", "locso"):
        with pytest.raises(ValueError, match="use the extended data"):
            make_splits(protocol, bundled.formulas, space_groups=bundled.space_groups)
        with pytest.raises(ValueError, match="needs the space group of every material"):
            make_splits(protocol, bundled.formulas)
    with pytest.raises(ValueError, match="data must be one of"):
        load_benchmark_data(data="everything")


def test_runner_reports_per_crystal_system(tmp_path, extended):
    run = run_benchmark(
        models=["rf_magpie"],
        protocols=["transfer", "locso"],
        targets=["K_VRH"],
        results_dir=tmp_path,
        settings=FAST,
        max_samples=N,
        min_count=MIN_COUNT,
        data="extended",
        progress=False,
    )
    assert run.data.material_ids == extended.material_ids
    by_id = dict(zip(extended.material_ids, extended.crystal_systems))
    for record in run.results:
        assert record["crystal_systems"] == [by_id[m] for m in record["material_ids"]]
    for protocol in ("transfer", "locso"):
        records = [r for r in run.results if r["protocol"] == protocol]
        rows = {r["crystal_system"]: r for r in system_table(run.results, protocol)}
        systems = np.concatenate([r["crystal_systems"] for r in records])
        y_true = np.concatenate([r["y_true"] for r in records])
        y_pred = np.concatenate([r["y_pred"] for r in records])
        assert set(rows) == {*systems, "all"}
        assert rows["all"]["n"] == len(y_true)
        for system, row in rows.items():
            mask = np.ones(len(systems), bool) if system == "all" else systems == system
            expected = regression_metrics(y_true[mask], y_pred[mask])
            assert {k: row[k] for k in expected} == pytest.approx(expected, nan_ok=True)
    for record in run.results:  # no Fm-3m material is ever tested by transfer
        if record["protocol"] == "transfer":
            assert TRANSFER_SPACE_GROUP not in record["space_groups"]


ARGS = [
    "benchmark",
    "--models",
    "rf_magpie",
    "--targets",
    "G_VRH",
    "--data",
    "extended",
    "--max-samples",
    str(N),
    "--min-count",
    str(MIN_COUNT),
    "--n-splits",
    "2",
    "--n-estimators",
    "5",
    "--no-progress",
]


def test_cli_extended_prints_per_system_tables(tmp_path, capsys, extended):
    assert main([*ARGS, "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Data: extended, " in out and f"a seeded subset of {N} used" in out
    assert re.search(r"\d+ labelled materials without density yet", out)
    assert "Transfer: trained on Fm-3m" in out and "Leave-one-crystal-system-out" in out
    assert "2-fold cross-validation" in out and "Leave-one-element-out" in out
    held = locso_systems(extended.space_groups, MIN_COUNT)
    for system in held:  # one row per held-out system, and the overall row
        assert re.search(rf"\| {system} \| \d+ \| -?\d", out), system
    assert re.search(r"\| all \| \d+ \| ", out)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n_materials"] == N
    assert summary["splits"]["transfer"] == ["non-Fm-3m"]
    assert summary["splits"]["locso"] == held
    assert {r["crystal_system"] for r in summary["locso"]} == {*held, "all"}
    assert ".. list-table::" in (tmp_path / "tables" / "transfer.rst").read_text()


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's errors
        return exc.code


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--data", "nope"], r"--data: invalid choice: 'nope'"),
        (["--data", "bundled", "--protocol", "transfer"], r"--data extended"),
        (["--data", "bundled", "--protocol", "locso"], r"two crystal systems.*--data extended"),
        (["--protocol", "locso", "--min-count", "1000"], r"--min-count=1000"),
        (["--protocol", "transfer,cv,lost"], r"--protocol: unknown \['lost'\]"),
    ],
)
def test_bad_arguments_exit_2_in_one_line(tmp_path, capsys, extra, match):
    out = tmp_path / "out"
    assert _exit_code([*ARGS, "--results-dir", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(match, err), err
    assert not out.exists()
