"""The shipped models: loadable, documented, small, trained on the data the manifest names."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from skecd.datasets import get_sample_chgcar_paths, load_elastic, load_fcc_elastic
from skecd.inference import dataset_hash, predict_files
from skecd.pretrained import (
    DEFAULT_PRETRAINED,
    available_models,
    get_model_path,
    load_pretrained,
)

SHIPPED = available_models()


def test_shipped_models_and_size():
    assert DEFAULT_PRETRAINED in SHIPPED
    total = sum(get_model_path(n).stat().st_size for n in SHIPPED)
    # the recommended model (a network and a forest of 2,315 materials) and the forest
    assert total <= 16_000_000, f"shipped models take {total / 1e6:.1f} MB (budget 16 MB)"
    with pytest.raises(ValueError, match="no shipped model 'nope'"):
        get_model_path("nope")


@cache
def _extended():
    # one load for every shipped model (it reads every density of the source tree)
    return load_elastic(missing="ignore")


def _training_set(meta):
    """The labelled densities a shipped model was trained on, rebuilt from its manifest."""
    dataset = meta["dataset"]
    if dataset["name"] == "skecd.datasets.load_fcc_elastic":
        ds = load_fcc_elastic()
        return list(ds.material_ids), ds.target, list(ds.data)
    assert dataset["name"] == "skecd.datasets.load_elastic"
    # the extended set grows as densities are built: the manifest lists its ids
    ds = _extended()
    index = {str(m): i for i, m in enumerate(ds.material_ids)}
    absent = [m for m in dataset["ids"] if m not in index]
    if absent:  # an installed wheel has the Fm-3m densities only
        pytest.skip(f"{len(absent)} training densities are not here (first: {absent[0]})")
    rows = [index[m] for m in dataset["ids"]]
    return list(dataset["ids"]), ds.target[rows], [ds.data[i] for i in rows]


@pytest.mark.parametrize("name", SHIPPED)
def test_manifest_records_training(name):
    _, manifest = load_pretrained(name, return_manifest=True)
    meta = manifest["metadata"]
    ids, y, densities = _training_set(meta)
    assert meta["model"] == name
    assert meta["targets"] == ["K_VRH", "G_VRH"]
    assert meta["dataset"]["n"] == len(ids) == len(set(ids))
    # trained on exactly that data (ids, targets and density grids)
    assert meta["dataset"]["sha256"] == dataset_hash(ids, y, densities)
    assert meta["training"]["protocol"] == "cv" and meta["training"]["n_splits"] == 5
    for target in meta["targets"]:
        cv = meta["metrics"]["cv"][target]
        assert 0 < cv["r2"]["mean"] < 1 and cv["mae"]["mean"] > 0
        folds = [f[target]["r2"] for f in meta["metrics"]["folds"]]
        assert len(folds) == 5 and cv["r2"]["mean"] == pytest.approx(np.mean(folds))
    assert meta["coverage"]["density_sources"] == {"GPAW": len(ids)}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_predicts_chgcars(name):
    model, manifest = load_pretrained(name, return_manifest=True)
    paths = [get_sample_chgcar_paths()[k] for k in ("Si_fcc", "Fe3O4")]
    rows, errors = predict_files(model, manifest, paths, progress=False)
    assert errors == []
    assert [r["formula"] for r in rows] == ["Si", "Fe3O4"]
    lo, hi = manifest["metadata"]["target_range"]["K_VRH"]
    assert lo <= rows[0]["K_VRH"] <= hi  # Si, a cubic crystal of the training chemistry
    for r in rows:
        assert np.isfinite(r["K_VRH"]) and np.isfinite(r["G_VRH"])
        # warned about the code exactly when the model was not measured to be code-robust
        robust = manifest["metadata"].get("code_robust", False)
        assert ("VASP density but the model was trained on GPAW" in r["warnings"]) != robust
        # a prediction outside the training range never goes unflagged
        if not lo <= r["K_VRH"] <= hi:
            assert "K_VRH" in r["warnings"].split("crystal system")[-1]
    # Fe3O4 is trigonal: flagged exactly when no trigonal crystal was in training
    trained_on = manifest["metadata"]["coverage"]["crystal_systems"]
    assert ("crystal system trigonal" in rows[1]["warnings"]) == ("trigonal" not in trained_on)


def test_a_local_file_named_like_a_shipped_model_does_not_shadow_it(tmp_path, monkeypatch, capsys):
    from skecd.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / DEFAULT_PRETRAINED).write_bytes(get_model_path().read_bytes())
    chgcar = str(next(iter(get_sample_chgcar_paths().values())))
    args = ["predict", "--model", DEFAULT_PRETRAINED, chgcar, "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"--model {DEFAULT_PRETRAINED!r} names both a shipped model and the file" in err
    # either one, named without ambiguity, is used
    assert main(["predict", "--model", f"./{DEFAULT_PRETRAINED}", chgcar, "--no-progress"]) == 0
    assert main(["predict", "--model", str(get_model_path()), chgcar, "--no-progress"]) == 0
