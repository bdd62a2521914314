"""The builder's output directory after crashes, damage and bad input (issue 33, item 11).

GPAW is replaced by the shipped densities of the same materials, so these run
without it; the resumed state, the warnings and the CLI's messages are what is tested.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from skecd.cli import main
from skecd.datasets import get_data_dir, load_fcc_elastic_structures
from skecd.density import _builder, build_densities, read_structure_records
from skecd.io import read_gpaw_npz

IDS = ["mp-134", "mp-1138"]  # Al, LiF (shipped densities)


@pytest.fixture
def fake_gpaw(monkeypatch):
    """compute_density returning the shipped density; ``calls`` lists what was computed."""
    raw = load_fcc_elastic_structures()
    by_formula = {
        raw.structures[raw.material_ids.index(m)].composition.reduced_formula: m for m in IDS
    }
    calls = []

    def compute(structure, txt=None):
        formula = structure.composition.reduced_formula
        calls.append(by_formula.get(formula, formula))
        if formula not in by_formula:
            raise RuntimeError(f"no setup for {formula}")
        return read_gpaw_npz(get_data_dir() / "ecd_gpaw" / f"{by_formula[formula]}.npz")

    monkeypatch.setattr(_builder, "import_gpaw", lambda: None)
    monkeypatch.setattr(_builder, "compute_density", compute)
    monkeypatch.setattr(_builder, "_code_versions", lambda: {"gpaw": "test"})
    return calls


def _records(ids=IDS):
    raw = load_fcc_elastic_structures()
    return [{"material_id": m, "structure": raw.structures[raw.material_ids.index(m)]} for m in ids]


def _build(out, ids=IDS):
    return build_densities(_records(ids), out, n_jobs=1, progress=False)


@pytest.mark.parametrize("text", ["{not json", "", "[]", '{"done": 5}', '{"done": [{"x": 1}]}'])
def test_a_damaged_manifest_is_rebuilt_from_the_files(fake_gpaw, tmp_path, text):
    _build(tmp_path)
    (tmp_path / "MANIFEST.json").write_text(text)
    fake_gpaw.clear()
    with pytest.warns(UserWarning, match=r"MANIFEST.json is damaged .*rebuilt from the \.npz"):
        manifest = _build(tmp_path)
    assert fake_gpaw == []  # nothing computed again
    assert sorted(e["material_id"] for e in manifest["done"]) == sorted(IDS)
    assert json.loads((tmp_path / "MANIFEST.json").read_text())["counts"]["done"] == 2
    assert list(tmp_path.glob("MANIFEST.json.damaged*")), "the damaged file is kept aside"


@pytest.mark.parametrize("text", ["[{", "", "{}", "[1, 2]", '[{"error": "x"}]'])
def test_damaged_failures_are_recovered_from_the_manifest(fake_gpaw, tmp_path, text):
    raw = load_fcc_elastic_structures()
    ids = [*IDS, raw.material_ids[5]]  # a third material that "fails"
    _build(tmp_path, ids)
    (tmp_path / "failures.json").write_text(text)
    fake_gpaw.clear()
    with pytest.warns(UserWarning, match=r"failures.json is damaged .*from MANIFEST.json"):
        manifest = _build(tmp_path, ids)
    assert fake_gpaw == []  # the recorded failure is not retried
    assert [e["material_id"] for e in manifest["failed"]] == [ids[2]]
    (saved,) = json.loads((tmp_path / "failures.json").read_text())
    assert saved["material_id"] == ids[2] and "no setup" in saved["error"]


@pytest.mark.parametrize("in_manifest", [True, False])
def test_a_truncated_density_is_computed_again(fake_gpaw, tmp_path, in_manifest):
    _build(tmp_path)
    npz = tmp_path / "mp-134.npz"
    npz.write_bytes(npz.read_bytes()[:1000])
    if not in_manifest:  # a run killed between writing the file and the manifest
        (tmp_path / "MANIFEST.json").unlink()
    fake_gpaw.clear()
    with pytest.warns(UserWarning, match=r"mp-134.npz is damaged .*computed again"):
        manifest = _build(tmp_path)
    assert fake_gpaw == ["mp-134"]
    assert read_gpaw_npz(npz).formula == "Al"
    assert manifest["counts"]["done"] == 2


def test_stale_partial_files_are_removed(fake_gpaw, tmp_path):
    tmp_path.mkdir(exist_ok=True)
    dead = tmp_path / ".mp-134.npz.99999999.part"  # no such process
    mine = tmp_path / f".mp-1138.npz.{os.getpid()}.part"  # a live writer: left alone
    dead.write_bytes(b"half")
    mine.write_bytes(b"half")
    _build(tmp_path)
    assert not dead.exists()
    assert mine.exists()


@pytest.mark.parametrize("mid", ["a\\b:c*?", "../x", "x/y", ".hidden", "", "a b", 7])
def test_ids_that_cannot_name_a_file_are_refused(tmp_path, mid):
    path = tmp_path / "s.json"
    (structure,) = [r["structure"].as_dict() for r in _records(IDS[:1])]
    path.write_text(json.dumps([{"material_id": mid, "structure": structure}]))
    with pytest.raises(ValueError, match=r"record 0: material_id .* cannot name a file"):
        read_structure_records(path)


def test_records_given_directly_are_checked_too(fake_gpaw, tmp_path):
    records = _records(IDS[:1])
    with pytest.raises(ValueError, match=r"record 0: material_id 'a\*b' cannot name a file"):
        build_densities([{**records[0], "material_id": "a*b"}], tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"record 1: material_id 'mp-134' appears twice"):
        build_densities(records * 2, tmp_path, progress=False)


def _cli(capsys, *args):
    status = main(["density", *map(str, args), "--no-progress"])
    err = capsys.readouterr().err
    return status, err


def test_cli_errors_are_one_line(fake_gpaw, tmp_path, capsys, monkeypatch):
    structure = _records(IDS[:1])[0]["structure"].as_dict()
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps([{"material_id": "a", "structure": structure}] * 2))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"material_id": "../x", "structure": structure}]))
    out = tmp_path / "out"
    for path, match in [(dup, "'a' appears twice"), (bad, "'../x' cannot name a file")]:
        status, err = _cli(capsys, path, "-o", out)
        assert status == 1
        assert err.count("\n") == 1 and err.startswith("skecd density: error: ")
        assert str(path) in err and match in err
    status, err = _cli(capsys, tmp_path / "nope.json", "-o", out)
    assert status == 2 and err.count("\n") == 1 and "nope.json" in err
    afile = tmp_path / "afile"
    afile.write_text("x")
    status, err = _cli(capsys, dup, "-o", afile)
    assert status == 2 and err.count("\n") == 1 and "afile" in err

    def no_gpaw():
        raise ImportError("GPAW is needed: pip install 'skecd[dft]' (No module named 'gpaw')")

    monkeypatch.setattr(_builder, "import_gpaw", no_gpaw)
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"material_id": "a", "structure": structure}]))
    status, err = _cli(capsys, good, "-o", out)
    assert status == 1 and err.count("\n") == 1 and "pip install 'skecd[dft]'" in err


def test_cli_folder_files_are_recognised_as_predict_does(fake_gpaw, tmp_path, capsys):
    """A folder's files are told apart by skecd.io.file_kind: structures by name or content
    (``LiF_POSCAR``) are computed, every other entry gets one line saying why not."""
    from skecd.datasets import get_sample_chgcar_paths
    from skecd.inference._data import expand_inputs

    (al, lif) = (r["structure"] for r in _records(IDS))
    folder = tmp_path / "in"
    folder.mkdir()
    lif.to(filename=str(folder / "LiF_POSCAR"), fmt="poscar")
    al.to(filename=str(folder / "x.cif"))
    (folder / "README.txt").write_text("structures of the test\n")
    shutil.copy(get_sample_chgcar_paths()["Si_fcc"], folder / "Si.vasp_chg")
    (folder / "sub").mkdir()
    status, err = _cli(capsys, folder, "-o", tmp_path / "out")
    assert status == 0
    assert err.splitlines() == [
        f"skecd density: skipped {folder / 'README.txt'}: neither a structure nor a density "
        "file (by name and content)",
        f"skecd density: skipped {folder / 'Si.vasp_chg'}: a chgcar density file, not a "
        "structure (skecd density computes densities)",
        f"skecd density: skipped {folder / 'sub'}: a folder (folders are not searched recursively)",
    ]
    manifest = json.loads((tmp_path / "out" / "MANIFEST.json").read_text())
    assert sorted(e["material_id"] for e in manifest["done"]) == ["LiF_POSCAR", "x"]
    assert sorted(fake_gpaw) == sorted(IDS)  # both structures computed, nothing else
    # the files `skecd predict` takes from the folder: the same structures, plus the density
    used = {p.name for p in expand_inputs([folder])}
    assert used == {"LiF_POSCAR", "x.cif", "Si.vasp_chg"}


def test_the_existing_output_layout_still_resumes(fake_gpaw, tmp_path):
    """A directory of the earlier builder (its manifest, failures and files) resumes as is."""
    shipped = get_data_dir() / "ecd_gpaw"
    for m in IDS:
        shutil.copy(shipped / f"{m}.npz", tmp_path / f"{m}.npz")
    earlier = json.loads((shipped / "MANIFEST.json").read_text())
    done = [e for e in earlier["done"] if e["material_id"] in IDS]
    (tmp_path / "MANIFEST.json").write_text(json.dumps({**earlier, "done": done}))
    (tmp_path / "failures.json").write_text("[]")
    manifest = _build(tmp_path)
    assert fake_gpaw == []
    assert manifest["done"] == done


def test_structure_records_import_no_module(tmp_path, monkeypatch):
    """A site property naming a module (monty's "@module") is refused, never imported."""
    marker = tmp_path / "imported"
    (tmp_path / "skecd_test_evilmod.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    structure = _records(IDS[:1])[0]["structure"].as_dict()
    for site in structure["sites"]:
        site["properties"] = {"x": {"@module": "skecd_test_evilmod", "@class": "Evil"}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"material_id": "al", "structure": structure}]))
    with pytest.raises(ValueError, match=r"s.json, record 0 \(al\).*skecd_test_evilmod"):
        read_structure_records(path)
    assert not marker.exists()
