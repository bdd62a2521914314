"""Tampered, forged and oversized model files (issue 33, items 6, 10 and 15)."""

from __future__ import annotations

import json
import threading
import warnings
import zipfile

import numpy as np
import pytest
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

import skecd
from skecd.benchmark import make_model
from skecd.datasets import load_fcc_elastic
from skecd.persistence import (
    ModelFileError,
    ModelVersionWarning,
    _format,
    load_model,
    read_manifest,
    save_model,
)

TINY = {"n_estimators": 3, "epochs": 1, "grid": 30, "batch_size": 8, "seed": 0}


@pytest.fixture(scope="module")
def data():
    ds = load_fcc_elastic()
    return ds.data[:12], ds.target[:12], ds.data[12:15]


@pytest.fixture(scope="module")
def rf_file(tmp_path_factory, data):
    X, y, _ = data
    model = make_model("rf_magpie", n_estimators=3).fit(X, y)
    meta = {"targets": ["K_VRH", "G_VRH"]}
    return save_model(model, tmp_path_factory.mktemp("rf") / "rf.skecd", metadata=meta)


@pytest.fixture(scope="module")
def net_file(tmp_path_factory, data):
    X, y, _ = data
    model = make_model("invariant_ecd", **TINY).fit(X, y)
    return save_model(model, tmp_path_factory.mktemp("net") / "net.skecd")


def _rewrite(src, dst, replace=None, forge=False, infos=None):
    """Copy a model file changing members; ``forge`` recomputes its checksums too."""
    with zipfile.ZipFile(src) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    for name, change in (replace or {}).items():
        members[name] = change(members.get(name))
    if forge:
        manifest = json.loads(members["manifest.json"])
        others = {k: v for k, v in members.items() if k != "manifest.json"}
        manifest["checksums"] = _format._checksums(manifest, others)
        members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return dst


def _edit_json(edit):
    def change(raw):
        obj = json.loads(raw)
        edit(obj)
        return json.dumps(obj).encode()

    return change


def _swap_targets(manifest):
    manifest["metadata"]["targets"] = manifest["metadata"]["targets"][::-1]


# ------------------------------------------------------------- item 6: tampering
def test_swapped_targets_in_the_manifest_are_refused(rf_file, tmp_path):
    bad = _rewrite(
        rf_file, tmp_path / "swapped.skecd", {"manifest.json": _edit_json(_swap_targets)}
    )
    with pytest.raises(ModelFileError, match=r"manifest.json does not match the checksum"):
        load_model(bad)
    with pytest.raises(ModelFileError, match="modified or damaged after it was saved"):
        read_manifest(bad)


def test_an_edited_member_is_refused_naming_it(rf_file, tmp_path):
    def flip(raw):  # one bit of the estimator's networks.json, still valid JSON
        return raw.replace(b"{}", b"{ }")

    bad = _rewrite(rf_file, tmp_path / "edited.skecd", {"networks.json": flip})
    with pytest.raises(ModelFileError, match="networks.json does not match the checksum"):
        load_model(bad)


def test_a_file_without_checksums_loads_with_a_warning(rf_file, data, tmp_path):
    # Files saved before the checksums were recorded stay readable, but not silently.
    old = _rewrite(
        rf_file, tmp_path / "old.skecd", {"manifest.json": _edit_json(lambda m: m.pop("checksums"))}
    )
    X, _, X_new = data
    match = r"old.skecd carries no checksums \(saved by an older skecd\)"
    with pytest.warns(ModelVersionWarning, match=match):
        unchecked = load_model(old)
    with pytest.warns(ModelVersionWarning, match=match):
        read_manifest(old)
    np.testing.assert_array_equal(unchecked.predict(X_new), load_model(rf_file).predict(X_new))


def test_shipped_models_carry_checksums():
    # the shipped models were saved again by this code: checked, no checksum warning
    from skecd import pretrained

    names = pretrained.available_models()
    assert names
    for name in names:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            manifest = read_manifest(pretrained.get_model_path(name))
        assert set(manifest["checksums"]) >= {"manifest.json", "networks.json"}, name
        assert not [w for w in caught if "checksums" in str(w.message)], name


def _retype(dtype):
    def change(raw):
        tensors = load_tensors(raw)
        name = next(k for k in sorted(tensors) if k.endswith("weight"))
        tensors[name] = (tensors[name] * 1000).to(dtype)
        return save_tensors(tensors)

    return change


def test_int32_weights_are_refused_not_cast(net_file, tmp_path):
    bad = _rewrite(
        net_file, tmp_path / "int.skecd", {"weights.safetensors": _retype(torch.int32)}, forge=True
    )
    with pytest.raises(ModelFileError, match=r"torch.int32, not torch.float32"):
        load_model(bad)


def test_float64_weights_are_refused(net_file, tmp_path):
    bad = _rewrite(
        net_file,
        tmp_path / "f64.skecd",
        {"weights.safetensors": _retype(torch.float64)},
        forge=True,
    )
    with pytest.raises(ModelFileError, match=r"torch.float64, not torch.float32"):
        load_model(bad)


def test_tensors_of_an_unknown_network_are_refused(net_file, tmp_path):
    def add(raw):
        tensors = load_tensors(raw)
        tensors["net9/extra.weight"] = torch.zeros(3)
        return save_tensors(tensors)

    bad = _rewrite(net_file, tmp_path / "extra.skecd", {"weights.safetensors": add}, forge=True)
    with pytest.raises(ModelFileError, match=r"tensors of no fitted network.*net9/extra.weight"):
        load_model(bad)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [("skecd_version", "0.0.1", "skecd 0.0.1"), (None, "0.24.2", "scikit-learn 0.24.2")],
)
def test_file_of_another_version_warns(rf_file, tmp_path, key, value, match):
    def edit(m):
        if key is None:
            m["environment"]["sklearn"] = value
        else:
            m[key] = value

    other = _rewrite(rf_file, tmp_path / "v.skecd", {"manifest.json": _edit_json(edit)}, forge=True)
    with pytest.warns(ModelVersionWarning, match=rf"v.skecd was saved with {match} \(running"):
        load_model(other)


def test_file_of_this_version_loads_without_warning(rf_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(rf_file)


# ------------------------------------------------------------ item 10: concurrency
def test_concurrent_saves_to_one_path_do_not_collide(data, tmp_path):
    X, y, _ = data
    models = [make_model("rf_magpie", n_estimators=n).fit(X, y[:, 0]) for n in (2, 3, 4, 5)]
    target = tmp_path / "same.skecd"
    errors = []

    def save(model):
        try:
            for _ in range(3):
                save_model(model, target)
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    n = len(load_model(target).named_steps["estimator"].estimators_)
    assert n in (2, 3, 4, 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.skecd"]  # no temp file left


# --------------------------------------------------------------- item 15: resources
def test_a_member_that_inflates_too_far_is_refused_before_inflating(rf_file, tmp_path, monkeypatch):
    monkeypatch.setattr(_format, "_RATIO_FLOOR", 1 << 20)
    bomb = _rewrite(
        rf_file,
        tmp_path / "bomb.skecd",
        {"networks.json": lambda _: b" " * (8 << 20) + b"{}"},
        forge=True,
    )
    with pytest.raises(ModelFileError, match=r"networks.json declares 8,388,610 bytes"):
        load_model(bomb)
    monkeypatch.setattr(_format, "_MAX_MEMBER_BYTES", 1 << 20)
    with pytest.raises(ModelFileError, match=r"at most 1,048,576 bytes"):
        read_manifest(bomb)


def test_a_bomb_inside_the_skops_archive_is_refused(rf_file, tmp_path, monkeypatch):
    import io

    monkeypatch.setattr(_format, "_RATIO_FLOOR", 1 << 20)

    def inflate(raw):
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(raw)) as zin,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
        ):
            for n in zin.namelist():
                zout.writestr(n, zin.read(n))
            zout.writestr("padding.npy", b"\0" * (8 << 20))
        return out.getvalue()

    bomb = _rewrite(rf_file, tmp_path / "bomb.skecd", {"estimator.skops": inflate}, forge=True)
    with pytest.raises(ModelFileError, match=r"estimator.skops/padding.npy declares"):
        load_model(bomb)


def test_network_sizes_are_checked_against_the_weights_before_building(net_file, tmp_path):
    def widen(nets):
        nets["net0"]["params"]["module__hidden_widths"] = {"__tuple__": [300000, 300000]}

    bad = _rewrite(
        net_file, tmp_path / "wide.skecd", {"networks.json": _edit_json(widen)}, forge=True
    )
    # Building it would need 360 GB; the meta-device check refuses it first.
    with pytest.raises(ModelFileError, match=r"shape \(256, 384\), but the network's parameters"):
        load_model(bad)


def test_save_load_still_round_trip(net_file, data):
    _, _, X_new = data
    model = load_model(net_file)
    assert np.isfinite(model.predict(X_new)).all()
    assert "checksums" in read_manifest(net_file)
    assert skecd.__version__ == read_manifest(net_file)["skecd_version"]


def test_cli_says_the_version_note_in_one_line(rf_file, tmp_path, capsys):
    from skecd.cli import main
    from skecd.datasets import get_sample_chgcar_paths

    def edit(m):
        m["skecd_version"] = "0.0.1"

    other = _rewrite(rf_file, tmp_path / "v.skecd", {"manifest.json": _edit_json(edit)}, forge=True)
    chgcar = str(next(iter(get_sample_chgcar_paths().values())))
    main(["predict", "--model", str(other), chgcar, "--no-progress"])
    err = [line for line in capsys.readouterr().err.splitlines() if "0.0.1" in line]
    assert err == [
        f"skecd predict: warning: {other} was saved with skecd 0.0.1 (running "
        f"{skecd.__version__}): its estimators may predict differently under these versions; "
        "retrain it, or check its predictions"
    ]
