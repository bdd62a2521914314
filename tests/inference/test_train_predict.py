"""``skecd train`` and ``skecd predict`` on the bundled data."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from pymatgen.io.vasp import Poscar

from skecd.cli import main
from skecd.datasets import get_sample_chgcar_paths, load_fcc_elastic
from skecd.inference import predict_with_std, train_model
from skecd.persistence import load_model, read_manifest


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A user's table of 30 bundled densities (paths relative to the table)."""
    ds = load_fcc_elastic()
    root = tmp_path_factory.mktemp("table")
    rows = []
    for i in range(30):
        rows.append(
            {
                "id": ds.material_ids[i],
                "path": str(ds.filenames[i]),
                "K_VRH": ds.target[i, 0],
                "G_VRH": ds.target[i, 1],
            }
        )
    path = root / "mine.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def magpie_model(table, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "rf.skecd"
    status = main(
        [
            "train",
            "--model",
            "rf_magpie",
            "--data",
            str(table),
            "--n-estimators",
            "8",
            "--valid-fraction",
            "0.3",
            "--output",
            str(out),
            "--no-progress",
        ]
    )
    assert status == 0
    return out


def test_train_writes_model_report_and_plot(magpie_model, capsys):
    manifest = read_manifest(magpie_model)
    meta = manifest["metadata"]
    assert meta["model"] == "rf_magpie" and meta["targets"] == ["K_VRH", "G_VRH"]
    assert meta["dataset"]["n"] == 30 and len(meta["dataset"]["sha256"]) == 64
    assert meta["needs_density"] is False
    assert meta["coverage"]["density_sources"] == {"GPAW": 30}
    assert meta["coverage"]["crystal_systems"] == {"cubic": 30}
    val = meta["metrics"]["validation"]
    assert val["K_VRH"]["n"] == 9 and np.isfinite(val["K_VRH"]["mae"])
    assert (magpie_model.parent / "rf.report.json").is_file()
    assert (magpie_model.parent / "rf.parity.png").stat().st_size > 1000
    # the validation metrics are those of the saved model on the held-out rows
    report = json.loads((magpie_model.parent / "rf.report.json").read_text())
    assert report["metrics"] == meta["metrics"]


def test_train_cv_matches_manual_kfold(table):
    from sklearn.model_selection import KFold

    from skecd.benchmark import make_model, regression_metrics
    from skecd.inference import training_data

    est, meta, pred = train_model(
        "rf_magpie",
        str(table),
        targets=["K_VRH"],
        cv=3,
        settings={"n_estimators": 5},
        progress=False,
    )
    ds = training_data(str(table), ["K_VRH"])
    oof = np.empty(len(ds.target))
    for train, test in KFold(3, shuffle=True, random_state=0).split(ds.target):
        m = make_model("rf_magpie", n_estimators=5).fit(
            [ds.samples[i] for i in train], ds.target[train, 0]
        )
        oof[test] = m.predict([ds.samples[i] for i in test])
    np.testing.assert_allclose(pred["y_pred"][:, 0], oof)
    folds = [f["K_VRH"]["r2"] for f in meta["metrics"]["folds"]]
    assert meta["metrics"]["cv"]["K_VRH"]["r2"]["mean"] == pytest.approx(np.mean(folds))
    assert regression_metrics(ds.target[:, 0], oof)["n"] == 30


def test_train_usage_errors(tmp_path, capsys):
    out = str(tmp_path / "m.skecd")
    assert main(["train", "--model", "nope", "--output", out, "--no-progress"]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    import skecd.datasets

    if not hasattr(skecd.datasets, "load_elastic"):
        assert main(["train", "--data", "all", "--output", out, "--no-progress"]) == 2
        assert "load_elastic" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("path,K_VRH\nmissing.npz,1.0\n")
    assert main(["train", "--data", str(bad), "--output", out, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "G_VRH" in err


def test_train_epochs_own_keeps_each_network_class_default(tmp_path, capsys, monkeypatch):
    import skecd.inference._train as train
    from skecd.benchmark import make_model
    from skecd.models import InvariantECDRegressor

    default = InvariantECDRegressor().max_epochs
    assert make_model("invariant_ecd", epochs=None)[-1].max_epochs == default
    # the invariant networks keep their own epochs whatever --epochs says; the CNNs take it
    assert make_model("invariant_ecd", epochs=7)[-1].max_epochs == default
    assert make_model("cnn3d_ecd")[-1].max_epochs == 30  # DEFAULT_SETTINGS["epochs"]
    seen = {}

    def fake_train_model(model, data, *, settings, **kwargs):
        seen.update(settings)
        raise ValueError("stopped before training")

    monkeypatch.setattr(train, "train_model", fake_train_model)
    out = str(tmp_path / "m.skecd")
    assert main(["train", "--model", "invariant_ecd", "--epochs", "own", "-o", out]) == 2
    assert seen == {"epochs": None}
    assert main(["train", "--epochs", "7", "-o", out]) == 2 and seen["epochs"] == 7
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["train", "--epochs", "0", "-o", out])
    assert exc.value.code == 2
    assert "expected an integer >= 1 or 'own', got '0'" in capsys.readouterr().err


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_predict_chgcars_structures_and_bad_files(magpie_model, tmp_path, capsys):
    chg = get_sample_chgcar_paths()
    structure = load_fcc_elastic().structures[0]
    poscar = tmp_path / "POSCAR"
    Poscar(structure).write_file(poscar)
    cif = tmp_path / "x.cif"
    structure.to(filename=str(cif))
    bad = tmp_path / "broken.CHGCAR"
    bad.write_text("not a chgcar\n")
    status = main(
        [
            "predict",
            "--model",
            str(magpie_model),
            str(chg["Si_fcc"]),
            str(chg["Fe3O4"]),
            str(poscar),
            str(cif),
            str(bad),
            "--no-progress",
            "--n-jobs",
            "2",
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    errors = captured.err.strip().splitlines()
    assert len(errors) == 1 and "broken.CHGCAR" in errors[0]
    rows = _rows(captured.out)
    # the header says the unit of each modulus
    assert list(rows[0]) == [
        "id",
        "formula",
        "K_VRH_GPa",
        "K_VRH_std_GPa",
        "G_VRH_GPa",
        "G_VRH_std_GPa",
        "density_source",
        "warnings",
        "seconds",
    ]
    assert [r["formula"] for r in rows] == [
        "Si",
        "Fe3O4",
        structure.composition.reduced_formula,
        structure.composition.reduced_formula,
    ]
    model = load_model(magpie_model)
    y, std = predict_with_std(model, [structure])
    assert float(rows[2]["K_VRH_GPa"]) == pytest.approx(y[0, 0], rel=1e-5)
    assert float(rows[2]["G_VRH_std_GPa"]) == pytest.approx(std[0, 1], rel=1e-5)
    assert all(float(r["K_VRH_std_GPa"]) > 0 for r in rows)
    assert "trigonal (R-3m) not in training" in rows[1]["warnings"]
    assert rows[2]["warnings"] == ""  # a training structure: nothing to warn about


def test_unseen_element_is_warned(magpie_model, tmp_path, capsys):
    ds = load_fcc_elastic()
    seen = set(read_manifest(magpie_model)["metadata"]["coverage"]["elements"])
    i = next(
        i for i, s in enumerate(ds.structures) if {e.symbol for e in s.composition.elements} - seen
    )
    new = sorted({e.symbol for e in ds.structures[i].composition.elements} - seen)
    cif = tmp_path / "new.cif"
    ds.structures[i].to(filename=str(cif))
    assert main(["predict", "--model", str(magpie_model), str(cif), "--no-progress"]) == 0
    (row,) = _rows(capsys.readouterr().out)
    assert f"element(s) {', '.join(new)} never seen in training" in row["warnings"]


def test_predict_density_model_needs_gpaw_for_structures(tmp_path, capsys, monkeypatch):
    import skecd.density

    def no_gpaw():
        raise ImportError("No module named 'gpaw'")

    monkeypatch.setattr(skecd.density, "import_gpaw", no_gpaw)
    cif = tmp_path / "al.cif"
    load_fcc_elastic().structures[0].to(filename=str(cif))
    status = main(
        [
            "predict",
            str(cif),
            str(get_sample_chgcar_paths()["Si_fcc"]),
            "--no-progress",
            "--format",
            "json",
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert "al.cif" in captured.err and "pip install 'skecd[dft]'" in captured.err
    rows = json.loads(captured.out)
    assert len(rows) == 1 and rows[0]["formula"] == "Si"
    assert rows[0]["density_source"] == "VASP"
    # the default (recommended) model was measured to agree across codes: no code warning
    assert "VASP density" not in rows[0]["warnings"]


def test_predict_usage_errors(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "none.skecd"), "x"]) == 2
    assert "neither a file nor a shipped model" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["predict", str(empty), "--no-progress"]) == 2
    assert "no density or structure files" in capsys.readouterr().err


def test_train_network_with_early_stopping(table, tmp_path):
    from skorch.callbacks import EarlyStopping
    from skorch.dataset import ValidSplit

    from skecd.persistence import save_model

    est, meta, _ = train_model(
        "cnn_magpie", str(table), patience=2, settings={"epochs": 60}, progress=False
    )
    net = est.steps[-1][1]
    assert meta["joint"] is True and net.n_outputs_ == 2  # one network for both targets
    assert isinstance(net.train_split, ValidSplit)
    assert any(isinstance(c, EarlyStopping) for c in net.callbacks)
    assert len(net.history_) < 60, "early stopping did not stop"
    loaded = load_model(save_model(est, tmp_path / "cnn.skecd", metadata=meta))
    X = [load_fcc_elastic().data[i] for i in range(3)]
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert isinstance(loaded.steps[-1][1].train_split, ValidSplit)


def test_warnings_for_non_physical_and_out_of_range_predictions():
    from skecd.inference import applicability_warnings

    structure = load_fcc_elastic().structures[0]
    meta = {"target_range": {"K_VRH": [3.0, 365.0], "G_VRH": [0.5, 229.0]}}
    assert applicability_warnings(structure, None, meta, {"K_VRH": 50.0, "G_VRH": 20.0}) == []
    out = applicability_warnings(structure, None, meta, {"K_VRH": -5.0, "G_VRH": 400.0})
    assert out == [
        "K_VRH -5 GPa is negative: not physical, do not use it",
        "G_VRH outside the training range (0.5 to 229 GPa)",
    ]


def test_json_table_of_structures(tmp_path):
    ds = load_fcc_elastic()
    records = [
        {
            "id": ds.material_ids[i],
            "structure": ds.structures[i].as_dict(),
            "K_VRH": ds.target[i, 0],
            "G_VRH": ds.target[i, 1],
        }
        for i in range(20)
    ]
    path = tmp_path / "structures.json"
    path.write_text(json.dumps(records))
    est, meta, pred = train_model(
        "rf_magpie", str(path), settings={"n_estimators": 5}, valid_fraction=0.25, progress=False
    )
    assert meta["coverage"]["density_sources"] == {"structure": 20}
    assert pred["y_pred"].shape == (5, 2) and np.isfinite(pred["y_pred"]).all()
    with pytest.raises(ValueError, match="reads charge densities but the data give structures"):
        train_model("rf_descriptors", str(path), progress=False)


def test_predict_cube_file(tmp_path, capsys):
    from ase.io.cube import write_cube
    from ase.units import Bohr
    from pymatgen.io.ase import AseAtomsAdaptor

    from skecd.io import read_chgcar

    rho = read_chgcar(get_sample_chgcar_paths()["Si_fcc"])
    cube = tmp_path / "si.cube"
    with open(cube, "w") as fh:
        write_cube(fh, AseAtomsAdaptor.get_atoms(rho.structure), data=rho.total * Bohr**3)
    assert (
        main(["predict", str(cube), str(get_sample_chgcar_paths()["Si_fcc"]), "--no-progress"]) == 0
    )
    cube_row, chgcar_row = _rows(capsys.readouterr().out)
    assert cube_row["density_source"] == "cube file"
    assert "density but the model was trained on GPAW" not in cube_row["warnings"]  # robust
    main(["predict", "--model", "rf_descriptors_magpie", str(cube), "--no-progress"])
    (forest_row,) = _rows(capsys.readouterr().out)
    assert "cube file density but the model was trained on GPAW" in forest_row["warnings"]
    # the same density in another file format: the same prediction to ASE's 5 digits
    assert float(cube_row["K_VRH_GPa"]) == pytest.approx(float(chgcar_row["K_VRH_GPa"]), rel=2e-2)


def test_cross_validated_training_gives_calibrated_intervals(table, tmp_path):
    from skecd.models import ConformalIntervalRegressor

    cache = tmp_path / "features"
    args = {
        "targets": ["K_VRH", "G_VRH"],
        "cv": 3,
        "settings": {"n_estimators": 5},
        "progress": False,
    }
    est, meta, pred = train_model("rf_magpie", str(table), feature_cache=cache, **args)
    assert isinstance(est, ConformalIntervalRegressor)
    assert meta["training"]["intervals"]["n_calibration"] == 30
    # the calibration is the out-of-fold error of the reported cross-validation
    np.testing.assert_allclose(est.oof_prediction_, pred["y_pred"])
    cached = sorted(p.name for p in cache.glob("*.npy"))
    assert len(cached) == 1 and cached[0].startswith("magpie-")
    again, _, pred_again = train_model("rf_magpie", str(table), feature_cache=cache, **args)
    np.testing.assert_allclose(pred_again["y_pred"], pred["y_pred"])  # from the cache
    # lower < prediction < upper, positive, for materials outside the table
    others = [str(p) for p in load_fcc_elastic().filenames[100:103]]
    y, std = predict_with_std(est.estimator_, others)
    lower, upper = est.interval(y, std, 0.9)
    assert np.all((0 < lower) & (lower < y) & (y < upper))
    np.testing.assert_allclose(est.predict_interval(others, 0.9), (lower, upper))


def test_predict_interval_columns_and_errors(table, tmp_path, capsys):
    si = str(get_sample_chgcar_paths()["Si_fcc"])
    assert main(["predict", si, "--interval", "0.9", "--no-progress"]) == 0
    (row,) = _rows(capsys.readouterr().out)
    for t in ("K_VRH", "G_VRH"):
        lower, value, upper = (float(row[f"{t}_{k}GPa"]) for k in ("lower_", "", "upper_"))
        assert 0 < lower < value < upper
    with pytest.raises(SystemExit) as exc:
        main(["predict", si, "--interval", "90"])
    assert exc.value.code == 2 and "confidence in (0, 1)" in capsys.readouterr().err
    out = tmp_path / "m.skecd"
    args = ["train", "--model", "rf_magpie", "--data", str(table), "-o", str(out)]
    assert main([*args, "--n-estimators", "5", "--no-progress"]) == 0  # hold-out: no intervals
    capsys.readouterr()
    assert main(["predict", "--model", str(out), si, "--interval", "0.9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no calibrated intervals" in err[0]


def test_train_the_recommended_model_on_named_columns(table, tmp_path):
    # its network and forest select their columns by name from the cached features
    from skecd.persistence import save_model

    est, meta, pred = train_model(
        "interstitial_late_fusion",
        str(table),
        settings={"n_estimators": 5},
        valid_fraction=0.2,
        intervals=False,
        progress=False,
    )
    assert pred["y_pred"].shape == (6, 2) and np.all(pred["y_pred"] > 0)
    X = [load_fcc_elastic().data[i] for i in range(3)]
    loaded = load_model(save_model(est, tmp_path / "rec.skecd", metadata=meta))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    network = est[-1].named_estimators_.network[0]
    assert network.feature_names_in_[0].startswith("radial_interstitial__")
