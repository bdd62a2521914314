"""``skecd benchmark`` end to end on a small real subset."""

import json

from skecd.benchmark import MODELS
from skecd.cli import main

ARGS = [
    "benchmark",
    "--models",
    "rf_magpie,cnn3d_ecd",
    "--protocol",
    "cv,loeo",
    "--max-samples",
    "30",
    "--min-count",
    "3",
    "--n-splits",
    "2",
    "--epochs",
    "1",
    "--grid",
    "24",
    "--n-estimators",
    "5",
    "--no-progress",
]


def test_cli_writes_tables_json_and_plots(tmp_path, capsys):
    assert main([*ARGS, "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2-fold cross-validation" in out and "Leave-one-element-out" in out
    assert "| RF+Magpie |" in out and "| 3D-CNN+ECD |" in out
    assert "Tasks won" in out
    # the paper's Table 2 figures of the same models, and what the plots' R² is
    assert "The paper's figures for these models (Zhao et al. 2022, Table 2" in out
    assert "| RF+Magpie | 0.943 / 18.7 | 0.794 / 16.1 |" in out
    assert "| 3D-CNN+ECD | 0.884 / 26.8 | 0.745 / 17.9 |" in out
    assert "Their R² is the pooled one" in out
    assert (tmp_path / "results.md").read_text() in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    n_loeo = len(summary["splits"]["loeo"])
    assert summary["splits"]["cv"] == ["fold0", "fold1"]
    files = list((tmp_path / "results").rglob("*.json"))
    assert len(files) == 2 * 2 * (2 + n_loeo)  # models x targets x splits
    for row in summary["cv"]:
        assert -10 < row["r2"] <= 1 and row["rmse"] > 0 and row["n_folds"] == 2
    assert sum(summary["loeo"]["wins"].values()) >= 2 * n_loeo  # one winner per task at least
    plots = {p.name for p in (tmp_path / "plots").glob("*.png")}
    assert {
        "parity_cv_rf_magpie_K_VRH.png",
        "parity_cv_cnn3d_ecd_G_VRH.png",
        "parity_cv_K_VRH_paper.png",  # both models are the paper's: one overview per target
        "parity_cv_G_VRH_paper.png",
    } <= plots
    assert "parity_cv_all.png" not in plots
    assert all((tmp_path / "plots" / p).stat().st_size > 1000 for p in plots)
    rst = (tmp_path / "tables" / "cv.rst").read_text()
    assert rst.startswith(".. list-table::") and "RF+Magpie" in rst
    assert "Tasks won" in (tmp_path / "tables" / "loeo.rst").read_text()

    # a rerun resumes: everything comes from the cache
    assert main([*ARGS, "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"0 splits fitted, {len(files)} reused from the cache" in out
    # nothing fitted: the machine named is the one of the results' records, not this one's
    machine = json.loads(files[0].read_text())["machine"]
    expected = f"Machines of the results (nothing fitted by this invocation): {machine} ("
    assert expected in out

    # --report-only fits nothing and says what is missing
    args = [*ARGS, "--results-dir", str(tmp_path), "--report-only", "--models", "rf_descriptors"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Not computed yet" in out and "cv/rf_descriptors" in out
    assert len(list((tmp_path / "results").rglob("*.json"))) == len(files)

    # without its feature cache, --report-only keeps the earlier report's feature seconds
    assert main([*ARGS, "--results-dir", str(tmp_path)]) == 0
    seconds = json.loads((tmp_path / "summary.json").read_text())["feature_seconds"]
    assert seconds and "magpie" in seconds
    for path in (tmp_path / "features").iterdir():
        path.unlink()
    capsys.readouterr()
    assert main([*ARGS, "--results-dir", str(tmp_path), "--report-only"]) == 0
    out = capsys.readouterr().out
    assert "as recorded by an earlier report" in out and "0 splits fitted" in out
    assert json.loads((tmp_path / "summary.json").read_text())["feature_seconds"] == seconds


def test_cli_lists_models(capsys):
    from skecd.benchmark import GROUPS, RECOMMENDED

    assert main(["benchmark", "--list-models"]) == 0
    out = capsys.readouterr().out
    assert "rf_magpie" in out and "RF+Magpie" in out and "cnn3d_ecd" in out
    lines = out.splitlines()
    # the groups in order, the recommended model first, every model once under its group
    headers = [i for i, line in enumerate(lines) if not line.startswith(" ")]
    assert [lines[i].split(" ")[0] for i in headers] == list(GROUPS)
    assert lines[1].split()[0] == RECOMMENDED
    rows = [line for line in lines if line.startswith("  ")]
    assert sorted(r.split()[0] for r in rows) == sorted(MODELS)
    # aligned columns: every description starts at the same column
    starts = {r.index(MODELS[r.split()[0]].description) for r in rows}
    assert len(starts) == 1, starts


def test_quick_run_says_what_it_is(tmp_path, capsys):
    args = ["benchmark", "--quick", "--models", "rf_magpie", "--max-samples", "30"]
    assert main([*args, "--results-dir", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3-fold cross-validation" in out
    assert "What this is: a quick check" in out and "not the benchmark" in out
    assert "trains 8 epochs on a 24^3 grid" in out
    assert "docs/benchmark.rst" in out and "recommended" in out
