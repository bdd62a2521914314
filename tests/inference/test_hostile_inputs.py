"""``skecd train`` and ``skecd predict`` on careless and hostile inputs (issue 33).

Every case: one line per bad input or bad option, exit status 2 (usage) or 1 (a
failed input), rows for the inputs that worked, and no code run from a file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import sys

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Chgcar, Poscar

from skecd.cli import main
from skecd.datasets import get_sample_chgcar_paths, load_fcc_elastic
from skecd.inference import predict_files, train_model, training_data
from skecd.io import electron_count_problem, load_density

SI = get_sample_chgcar_paths()["Si_fcc"]


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def _write_table(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _table_rows(n=12, start=0):
    ds = load_fcc_elastic()
    return [
        {
            "id": ds.material_ids[i],
            "path": str(ds.filenames[i]),
            "K_VRH": ds.target[i, 0],
            "G_VRH": ds.target[i, 1],
        }
        for i in range(start, start + n)
    ]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small rf_magpie model file (reads structures, so no GPAW is needed)."""
    root = tmp_path_factory.mktemp("hostile")
    table = _write_table(root / "t.csv", _table_rows(20))
    out = root / "rf.skecd"
    args = ["train", "--model", "rf_magpie", "--data", str(table), "--n-estimators", "4"]
    assert main([*args, "--output", str(out), "--no-progress"]) == 0
    return out


def _scaled_chgcar(tmp_path, name, factor):
    chg = Chgcar.from_file(str(SI))
    chg.data["total"] = chg.data["total"] * factor
    path = tmp_path / name
    chg.write_file(str(path))
    return path


# ------------------------------------------------------------- item 1: units
def test_density_in_wrong_units_is_flagged_with_its_count(model, tmp_path, capsys):
    volume = Chgcar.from_file(str(SI)).structure.volume
    files = {
        "per_volume": _scaled_chgcar(tmp_path, "a_CHGCAR", 1 / volume),
        "micro": _scaled_chgcar(tmp_path, "b_CHGCAR", 1e-6),
        "times_volume": _scaled_chgcar(tmp_path, "c_CHGCAR", volume),
    }
    args = ["predict", "--model", str(model), str(SI), *map(str, files.values())]
    assert main([*args, "--no-progress"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert "electrons" not in rows[0]["warnings"]  # the file as VASP wrote it
    for row, factor in zip(rows[1:], (1 / volume, 1e-6, volume), strict=True):
        count = 4 * factor
        assert f"the cell holds {count:.4g} electrons" in row["warnings"], row
        assert "Si has 4 to 12 valence electrons" in row["warnings"]
        assert "wrong units?" in row["warnings"]


def test_bundled_densities_pass_the_electron_count_check():
    ds = load_fcc_elastic()
    assert len(ds.data) == 369
    flagged = [f for f, d in zip(ds.filenames, ds.data, strict=True) if electron_count_problem(d)]
    assert flagged == []
    problems = {
        name: electron_count_problem(load_density(path))
        for name, path in get_sample_chgcar_paths().items()
    }
    assert len(problems) == 5
    # the README of the data says so: a reference-type density integrating to 395 e,
    # more than the 220 electrons of Fe6O8's atoms: flagged, not a valence density
    assert "395.3 electrons" in problems.pop("Fe3O4")
    assert set(problems.values()) == {None} and len(problems) == 4


# -------------------------------------------------- item 2: files by content
def test_every_file_of_a_folder_gets_a_row_or_a_line(model, tmp_path, capsys):
    ds = load_fcc_elastic()
    s = ds.structures[0]
    folder = tmp_path / "mixed"
    folder.mkdir()
    Poscar(s).write_file(folder / "BaTe_POSCAR")
    with gzip.open(SI) as src:
        text = src.read()
    (folder / "Si.chgcar").write_bytes(text)
    (folder / "Si.vasp_chg").write_bytes(text)
    shutil.copy(SI, folder / "si_density.gz")
    shutil.copy(ds.filenames[1], folder / "mp-x.npz")
    s.to(filename=str(folder / "BaTe.CIF"))
    (folder / "notes.txt").write_text("my notes\n")
    (folder / "sub").mkdir()
    status = main(["predict", "--model", str(model), str(folder), "--no-progress"])
    captured = capsys.readouterr()
    rows = _rows(captured.out)
    formulas = {os.path.basename(r["id"]): r["formula"] for r in rows}
    assert formulas == {
        "BaTe.CIF": "BaTe",
        "BaTe_POSCAR": "BaTe",
        "Si.chgcar": "Si",
        "Si.vasp_chg": "Si",
        "mp-x.npz": ds.structures[1].composition.reduced_formula,
        "si_density.gz": "Si",
    }
    assert status == 0
    notes, sub = captured.err.strip().splitlines()
    assert "notes.txt" in notes and "neither a density nor a structure file" in notes
    assert "sub" in sub and "not searched recursively" in sub
    # given by name, a file of no known kind is one error line, not the CHGCAR parser's bytes
    assert main(["predict", "--model", str(model), str(folder / "notes.txt")]) == 1
    assert "notes.txt' is neither a density nor a structure file" in capsys.readouterr().err
    # a POSCAR given by a name without the word first is read as a structure
    assert main(["predict", "--model", str(model), str(folder / "BaTe_POSCAR")]) == 0
    assert _rows(capsys.readouterr().out)[0]["density_source"] == ""


def test_cube_file_is_a_density_everywhere(tmp_path):
    from ase.io.cube import write_cube

    from skecd.io import file_kind, read_cube, read_structure
    from skecd.preprocessing import ChargeDensityDescriptor

    rho = load_density(SI)
    atoms = rho.structure.to_ase_atoms()
    path = tmp_path / "si.cube"
    with open(path, "w") as fh:
        write_cube(fh, atoms, data=rho.total * 0.529177210903**3)
    odd = tmp_path / "si_density"  # no suffix: known by its content
    shutil.copy(path, odd)
    assert file_kind(path) == file_kind(odd) == "cube"
    np.testing.assert_allclose(load_density(odd).total, read_cube(path).total)
    assert read_structure(odd).composition.reduced_formula == "Si"
    X = ChargeDensityDescriptor().fit_transform([str(odd), rho])
    np.testing.assert_allclose(X[0], X[1], rtol=1e-4, atol=1e-6)


# ----------------------------------------------- item 3: non-finite output
def test_non_finite_prediction_is_an_error_of_that_row(tmp_path):
    from sklearn.dummy import DummyRegressor

    nan_model = DummyRegressor(strategy="constant", constant=[100.0, 100.0])
    nan_model.fit(np.zeros((2, 1)), np.ones((2, 2)))
    nan_model.constant_ = np.array([[np.nan, 100.0]])  # as a model file with NaN weights

    manifest = {"metadata": {"targets": ["K_VRH", "G_VRH"], "needs_density": False}}
    rows, errors = predict_files(nan_model, manifest, [SI], progress=False)
    assert rows == []
    (line,) = errors
    assert "Si_fcc" in line and "non-finite K_VRH" in line


# ---------------------------------------------------- item 4: train targets
@pytest.mark.parametrize(
    ("value", "shown"), [(-50, "-50"), (0, "0"), (1e30, "1e+30"), ("abc", "'abc'"), ("", "nan")]
)
def test_train_refuses_impossible_targets(tmp_path, capsys, value, shown):
    rows = _table_rows(6)
    rows[3]["K_VRH"] = value
    table = _write_table(tmp_path / "t.csv", rows)
    out = tmp_path / "m.skecd"
    assert main(["train", "--data", str(table), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "column 'K_VRH'" in err and "row 3" in err and shown in err
    assert not out.exists()


def test_train_refuses_duplicate_ids_and_groups_duplicate_rows(tmp_path, capsys):
    rows = _table_rows(6)
    rows[4]["id"] = rows[1]["id"]
    table = _write_table(tmp_path / "dup.csv", rows)
    assert main(["train", "--data", str(table), "-o", str(tmp_path / "m.skecd")]) == 2
    err = capsys.readouterr().err
    assert f"id {rows[1]['id']!r} in rows 1 and 4" in err
    # the same density under two ids: never on both sides of a fold
    rows = _table_rows(10)
    copies = [{**r, "id": r["id"] + "-copy"} for r in rows]
    table = _write_table(tmp_path / "copies.csv", rows + copies)
    ds = training_data(str(table))
    from skecd.inference._train import _validation_splits

    splits, protocol = _validation_splits(20, 5, 0.2, 0, ds.groups)
    assert protocol["duplicates_grouped"] == 10
    for train, test in splits:
        assert not {ds.groups[i] for i in train} & {ds.groups[i] for i in test}
    est, meta, _ = train_model(
        "rf_magpie", str(table), cv=3, settings={"n_estimators": 3}, progress=False
    )
    assert meta["training"]["duplicates_grouped"] == 10


# ------------------------------------------------ item 5: applicability
def test_partial_occupancy_vacuum_coarse_grid_and_close_atoms_are_warned(model, tmp_path, capsys):
    s = load_fcc_elastic().structures[0]
    partial = s.copy()
    partial.replace_species({partial[0].specie: {partial[0].specie: 0.3}})
    partial.to(filename=str(tmp_path / "partial.cif"))
    vacuum = Structure(Lattice.cubic(1000.0), s.species, s.cart_coords, coords_are_cartesian=True)
    vacuum.to(filename=str(tmp_path / "vacuum.cif"))
    rho = load_density(SI)
    coarse = tmp_path / "coarse_CHGCAR"
    Chgcar(Poscar(rho.structure), {"total": np.full((1, 1, 1), 4.0)}).write_file(str(coarse))
    close = s.copy()
    close.append(close[0].specie, close[0].coords + [0.6, 0, 0], coords_are_cartesian=True)
    close.to(filename=str(tmp_path / "close.cif"))
    overlap = s.copy()
    overlap.append(overlap[0].specie, overlap[0].coords + [0.004, 0, 0], coords_are_cartesian=True)
    overlap.to(filename=str(tmp_path / "overlap.cif"))
    names = ["partial.cif", "vacuum.cif", "coarse_CHGCAR", "close.cif", "overlap.cif"]
    args = ["predict", "--model", str(model), *[str(tmp_path / n) for n in names]]
    assert main([*args, "--no-progress"]) == 1
    captured = capsys.readouterr()
    rows = {os.path.basename(r["id"]): r["warnings"] for r in _rows(captured.out)}
    assert "partial occupancies" in rows["partial.cif"]
    assert "vacuum" in rows["vacuum.cif"]
    assert "grid 1x1x1 is coarse" in rows["coarse_CHGCAR"]
    assert "A apart" in rows["close.cif"]
    (line,) = captured.err.strip().splitlines()
    assert "overlap.cif" in line and "0.004 A apart" in line and "symmetry" not in line


# ------------------------------------------------ item 7: NaN lattice
@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_nan_lattice_poscar_is_one_error_line(model, tmp_path, capsys, n_jobs):
    text = Poscar(load_fcc_elastic().structures[0]).get_str().splitlines()
    text[2] = "nan 0.0 0.0"
    bad = tmp_path / "POSCAR"
    bad.write_text("\n".join(text) + "\n")
    args = ["predict", "--model", str(model), str(bad), str(SI), "--n-jobs", n_jobs]
    assert main([*args, "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert [r["formula"] for r in _rows(captured.out)] == ["Si"]
    (line,) = captured.err.strip().splitlines()
    assert "POSCAR" in line and "non-finite" in line


def test_zero_lattice_structure_in_graph_featurizer_names_the_sample():
    from skecd.preprocessing import CrystalGraphFeaturizer

    s = load_fcc_elastic().structures[0]
    zero = Structure(Lattice(np.zeros((3, 3))), s.species, s.frac_coords)
    with pytest.raises(ValueError, match=r"singular.*sample 1"):
        CrystalGraphFeaturizer().fit_transform([s, zero])


# ------------------------------------------------ item 8: predict --output
def test_predict_output_is_checked_before_the_work(model, tmp_path, capsys):
    for target, words in [
        (tmp_path, "is a directory"),
        (tmp_path / "missing" / "x.csv", "does not exist"),
    ]:
        args = ["predict", "--model", str(model), str(SI), "-o", str(target)]
        assert main([*args, "--no-progress"]) == 2
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and words in captured.err
        assert captured.out == ""
    # every input failing leaves the user's file alone
    mine = tmp_path / "mine.csv"
    mine.write_text("precious\n")
    bad = tmp_path / "broken_CHGCAR"
    bad.write_text("not a chgcar\n")
    assert main(["predict", "--model", str(model), str(bad), "-o", str(mine)]) == 1
    assert mine.read_text() == "precious\n"
    assert "not written" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root")
def test_predict_unwritable_output_is_refused_first(model, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["predict", "--model", str(model), str(SI), "-o", str(ro / "x.csv")]) == 2
        assert "permission denied" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


# ------------------------------------------------ item 9: train --output
def test_train_refuses_bad_output_device_and_empty_rows_before_training(tmp_path, capsys):
    table = _write_table(tmp_path / "t.csv", _table_rows(6))
    base = ["train", "--model", "rf_magpie", "--data", str(table), "--no-progress"]
    (tmp_path / "dir.skecd").mkdir()
    assert main([*base, "-o", str(tmp_path / "dir.skecd")]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert not (tmp_path / "dir.skecd.part").exists()
    import torch

    if not torch.cuda.is_available():
        assert main([*base, "-o", str(tmp_path / "m.skecd"), "--device", "cuda"]) == 2
        assert "no CUDA GPU" in capsys.readouterr().err
    rows = _table_rows(4)
    for r in rows:
        r["structure"] = ""
    rows[2]["path"] = ""
    empty = _write_table(tmp_path / "empty.csv", rows)
    args = ["train", "--model", "rf_magpie", "--data", str(empty), "-o", str(tmp_path / "e.skecd")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 2" in err and "no 'path' and no 'structure'" in err


# ------------------------------------------------ item 14: no code from JSON
@pytest.fixture
def evil_module(tmp_path, monkeypatch):
    """A module that leaves a marker file when imported."""
    marker = tmp_path / "imported"
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "evilmod_33.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "class Evil:\n    @classmethod\n    def from_dict(cls, d):\n        return cls()\n"
    )
    monkeypatch.syspath_prepend(str(lib))
    yield marker
    sys.modules.pop("evilmod_33", None)


def _evil_structure_dict():
    d = load_fcc_elastic().structures[0].as_dict()
    d["sites"][0]["properties"] = {"x": {"@module": "evilmod_33", "@class": "Evil"}}
    return d


def test_structure_json_imports_no_module(model, tmp_path, capsys, evil_module):
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(_evil_structure_dict()))
    assert main(["predict", "--model", str(model), str(path), str(SI), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert [r["formula"] for r in _rows(captured.out)] == ["Si"]
    assert "evil.json" in captured.err and "evilmod_33" in captured.err
    table = tmp_path / "t.json"
    rows = [
        {"id": f"m{i}", "structure": _evil_structure_dict(), "K_VRH": 100.0, "G_VRH": 50.0}
        for i in range(3)
    ]
    table.write_text(json.dumps(rows))
    args = ["train", "--model", "rf_magpie", "--data", str(table), "-o", str(tmp_path / "m.skecd")]
    assert main([*args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "row 0" in err and "evilmod_33" in err
    assert not evil_module.exists() and "evilmod_33" not in sys.modules


# ------------------------------------------------ item 16: --n-jobs bound
def test_n_jobs_is_bounded_by_the_cpu_count(model, capsys):
    assert main(["predict", "--model", str(model), str(SI), "--n-jobs", "1000"]) == 0
    captured = capsys.readouterr()
    assert f"--n-jobs 1000 reduced to {os.cpu_count()}" in captured.err
    assert len(_rows(captured.out)) == 1


# ------------------------------------------------ item 17: messages
def test_vasp4_file_needs_species_option(model, tmp_path, capsys):
    with gzip.open(SI, "rt") as fh:
        lines = fh.read().splitlines()
    assert lines[5].split() == ["Si"]
    vasp4 = tmp_path / "old_CHGCAR"
    vasp4.write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    assert main(["predict", "--model", str(model), str(vasp4), "--no-progress"]) == 1
    assert "--species" in capsys.readouterr().err
    args = ["predict", "--model", str(model), str(vasp4), "--species", "Si", "--no-progress"]
    assert main(args) == 0
    assert _rows(capsys.readouterr().out)[0]["formula"] == "Si"


@pytest.mark.parametrize(
    ("targets", "words"),
    [("id", "'id' cannot be a target"), (",", "names no column"), ("K_VRH,K_VRH", "twice")],
)
def test_bad_targets_option_is_one_line(tmp_path, capsys, targets, words):
    table = _write_table(tmp_path / "t.csv", _table_rows(4))
    args = ["train", "--data", str(table), "--targets", targets, "-o", str(tmp_path / "m.skecd")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_bad_structure_json_in_a_table_names_its_row(tmp_path, capsys):
    rows = [{"id": "a", "structure": '{"lattice": ', "K_VRH": 100.0, "G_VRH": 50.0}]
    table = _write_table(tmp_path / "t.csv", rows)
    args = ["train", "--model", "rf_magpie", "--data", str(table), "-o", str(tmp_path / "m.skecd")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "row 0" in err and "not valid JSON" in err


def test_clipped_prediction_is_said_in_its_row_without_a_spread(tmp_path):
    from sklearn.pipeline import make_pipeline

    from skecd.models import InvariantECDRegressor
    from skecd.preprocessing import LocalDensityFeaturizer

    ds = load_fcc_elastic()
    net = InvariantECDRegressor(max_epochs=1, random_state=0)
    pipe = make_pipeline(LocalDensityFeaturizer(n_points=64, sigmas=(1.0,)), net)
    pipe.fit(ds.data[:6], ds.target[:6])
    net.CLIP = 1e-6  # every prediction lies beyond: clipped
    manifest = {"metadata": {"targets": ["K_VRH", "G_VRH"], "needs_density": True}}
    (row,), errors = predict_files(pipe, manifest, [ds.filenames[7]], progress=False)
    assert errors == []
    assert "the predictions of this input" in row["warnings"] and "clipped" in row["warnings"]
    assert "samples [0]" not in row["warnings"]
    assert np.isnan(row["K_VRH_std"]) and np.isnan(row["G_VRH_std"])


def test_sample_weight_given_to_a_network_is_refused_before_training():
    from skecd.models import InvariantECDRegressor

    X = np.random.default_rng(0).random((4, 3, 8))
    with pytest.raises(TypeError, match="InvariantECDRegressor.fit does not take sample_weight"):
        InvariantECDRegressor(max_epochs=1).fit(X, np.full((4, 2), 100.0), sample_weight=np.ones(4))


@pytest.mark.parametrize("command", ["train", "benchmark"])
def test_negative_seed_names_the_option(tmp_path, capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([command, "--seed", "-1", *(["-o", str(tmp_path / "m.skecd")] * (command == "train"))])
    assert exc.value.code == 2
    assert "argument --seed: expected an integer from 0 to 2**32 - 1" in capsys.readouterr().err


def test_overflowing_formula_names_the_sample():
    from skecd.preprocessing import MagpieFeaturizer

    with pytest.raises(ValueError, match=r"sample 1: amounts .*inf"):
        MagpieFeaturizer().fit_transform(["NaCl", "NaCl1e400"])


def test_npz_metadata_nested_and_mixed_lists_are_refused_naming_the_file(tmp_path):
    from skecd.io import write_gpaw_npz

    rho = load_density(SI)
    rho.metadata = {"ragged": [[1, 2], [3]]}
    with pytest.raises(ValueError, match=r"x\.npz.*'ragged'.*not a rectangular array"):
        write_gpaw_npz(rho, tmp_path / "x.npz")
    rho.metadata = {"mixed": [1, "a"]}
    with pytest.raises(ValueError, match=r"x\.npz.*'mixed'.*mixes strings and numbers"):
        write_gpaw_npz(rho, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


# ------------------------------------------------ item 18: options
@pytest.mark.parametrize(("option", "value"), [("--cv", "1"), ("--cv", "-3"), ("--patience", "-1")])
def test_train_refuses_bad_cv_and_patience(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as exc:
        main(["train", option, value, "-o", str(tmp_path / "m.skecd")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert option in err and value in err
    with pytest.raises(ValueError, match="cv must be 0"):
        train_model("rf_magpie", cv=1, progress=False)
