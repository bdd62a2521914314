"""Tests of the safe model file (skecd.save_model / skecd.load_model)."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator
from sklearn.multioutput import MultiOutputRegressor

import skecd
from skecd.benchmark import MODELS, make_model
from skecd.datasets import load_fcc_elastic
from skecd.persistence import FORMAT_VERSION, ModelFileError, load_model, read_manifest, save_model

# Small enough to fit every registry model in seconds, large enough for its convolutions.
TINY = {"n_estimators": 3, "epochs": 1, "grid": 30, "batch_size": 8, "seed": 0}


@pytest.fixture(scope="module")
def data():
    ds = load_fcc_elastic()
    return ds.data[:12], ds.target[:12], ds.data[12:15]


@pytest.fixture(scope="module")
def rf_file(tmp_path_factory, data):
    X, y, _ = data
    model = make_model("rf_magpie", n_estimators=5).fit(X, y[:, 0])
    return save_model(model, tmp_path_factory.mktemp("rf") / "rf.skecd", metadata={"a": 1})


# One epoch on 12 materials leaves a network (CGCNN) whose log-space output may pass the
# clip of its log targets: the warning is then right, and the loaded model must clip alike.
@pytest.mark.filterwarnings("ignore:.*were clipped there:UserWarning")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registry_model_round_trips_bit_for_bit(name, data, tmp_path):
    X, y, X_new = data
    model = make_model(name, **TINY).fit(X, y[:, 0])
    path = save_model(model, tmp_path / f"{name}.skecd")
    state = torch.random.get_rng_state()
    loaded = load_model(path)
    assert torch.equal(state, torch.random.get_rng_state()), "loading moved torch's global RNG"
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(X_new), model.predict(X_new))


def test_multioutput_and_metadata(data, tmp_path):
    X, y, X_new = data
    model = MultiOutputRegressor(make_model("rf_descriptors", n_estimators=4)).fit(X, y)
    path = save_model(model, tmp_path / "m.skecd", metadata={"targets": ["K_VRH", "G_VRH"]})
    loaded, manifest = skecd.load_model(path, return_manifest=True)
    np.testing.assert_array_equal(loaded.predict(X_new), model.predict(X_new))
    assert manifest["metadata"] == {"targets": ["K_VRH", "G_VRH"]}
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["skecd_version"] == skecd.__version__
    config = manifest["configuration"]
    assert config["class"] == "sklearn.multioutput.MultiOutputRegressor"
    assert config["params"]["estimator"]["class"] == "sklearn.pipeline.Pipeline"


def test_float16_weights_are_smaller_and_close(data, tmp_path):
    X, y, X_new = data
    model = make_model("cnn_magpie", **TINY).fit(X, y[:, 0])
    full = save_model(model, tmp_path / "a.skecd")
    half = save_model(model, tmp_path / "b.skecd", weights_dtype="float16")
    assert half.stat().st_size < 0.7 * full.stat().st_size
    assert read_manifest(half)["weights_dtype"] == "float16"
    np.testing.assert_allclose(load_model(half).predict(X_new), model.predict(X_new), rtol=1e-2)


def _rewrite(src, dst, replace=None, add=None):
    """Copy a model file changing members, with its checksums recomputed (as a forger
    would), so that the checks behind the checksums are the ones tested."""
    from skecd.persistence._format import _checksums

    with zipfile.ZipFile(src) as zin:
        members = {item: zin.read(item) for item in zin.namelist()}
    for item, change in (replace or {}).items():
        members[item] = change(members[item])
    members.update(add or {})
    try:
        manifest = json.loads(members["manifest.json"])
        others = {k: v for k, v in members.items() if k != "manifest.json"}
        manifest["checksums"] = _checksums(manifest, others)
        members["manifest.json"] = json.dumps(manifest).encode()
    except (ValueError, KeyError):  # a manifest replaced by something else: keep it
        pass
    with zipfile.ZipFile(dst, "w") as zout:
        for item, data in members.items():
            zout.writestr(item, data)
    return dst


class _Payload:
    """Unpickling this creates ``marker`` (a harmless stand-in for malicious code)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize(
    "where", ["estimator.skops", "weights.safetensors", "networks.json", "extra_member"]
)
def test_pickle_payload_is_refused_and_not_run(where, data, tmp_path):
    X, y, _ = data
    model = make_model("cnn_magpie", **TINY).fit(X, y[:, 0])
    good = save_model(model, tmp_path / "good.skecd")
    marker = tmp_path / "payload_ran"
    payload = pickle.dumps(_Payload(marker))
    if where == "extra_member":
        bad = _rewrite(good, tmp_path / "bad.skecd", add={"model.pkl": payload})
        match = "model.pkl"
    else:
        bad = _rewrite(good, tmp_path / "bad.skecd", replace={where: lambda _: payload})
        match = where
    with pytest.raises(ModelFileError, match=match):
        load_model(bad)
    assert not marker.exists()


def test_untrusted_type_in_skops_is_refused(rf_file, tmp_path):
    def swap(data):
        # Point the forest's node at an arbitrary callable in skops' own schema.
        with zipfile.ZipFile(__import__("io").BytesIO(data)) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        text = members["schema.json"].decode()
        assert "RandomForestRegressor" in text
        members["schema.json"] = (
            text.replace('"RandomForestRegressor"', '"system"')
            .replace('"sklearn.ensemble._forest"', '"os"')
            .encode()
        )
        out = __import__("io").BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            for n, d in members.items():
                zf.writestr(n, d)
        return out.getvalue()

    bad = _rewrite(rf_file, tmp_path / "bad.skecd", replace={"estimator.skops": swap})
    with pytest.raises(ModelFileError, match="os.system"):
        load_model(bad)


def test_network_class_outside_allow_list_is_refused(data, tmp_path):
    X, y, _ = data
    good = save_model(make_model("cnn_magpie", **TINY).fit(X, y[:, 0]), tmp_path / "g.skecd")

    def swap(raw):
        nets = json.loads(raw)
        nets["net0"]["class"] = "os.system"
        return json.dumps(nets).encode()

    bad = _rewrite(good, tmp_path / "bad.skecd", replace={"networks.json": swap})
    with pytest.raises(ModelFileError, match="not one of the classes"):
        load_model(bad)


def test_newer_format_version_is_refused(rf_file, tmp_path):
    def bump(raw):
        manifest = json.loads(raw)
        manifest["format_version"] = FORMAT_VERSION + 1
        return json.dumps(manifest).encode()

    bad = _rewrite(rf_file, tmp_path / "new.skecd", replace={"manifest.json": bump})
    with pytest.raises(ModelFileError, match=f"format version {FORMAT_VERSION + 1}.*upgrade"):
        load_model(bad)
    with pytest.raises(ModelFileError, match="newer skecd"):
        read_manifest(bad)


def test_not_a_model_file(tmp_path):
    path = tmp_path / "x.skecd"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelFileError, match="not a skecd model file"):
        load_model(path)
    with pytest.raises(FileNotFoundError, match="No such model file"):
        load_model(tmp_path / "missing.skecd")


class _Custom(BaseEstimator):
    """An estimator of no allow-listed module."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self


def test_unsavable_estimator_is_refused_at_save(tmp_path):
    X = np.random.default_rng(0).random((10, 3))
    with pytest.raises(TypeError, match="allow-list"):
        save_model(_Custom().fit(X, X[:, 0]), tmp_path / "custom.skecd")
    assert not (tmp_path / "custom.skecd").exists()
