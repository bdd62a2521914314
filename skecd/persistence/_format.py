"""``save_model`` and ``load_model``: one zip file, no pickle on the load path.

Layout of a model file (a zip archive)::

    manifest.json         format and skecd versions, the estimator's configuration,
                          training metadata (JSON)
    estimator.skops       the scikit-learn part (pipelines, forests, featurisers) written
                          by skops.io, with every skorch network replaced by a reference
    networks.json         each network: allow-listed class, hyper-parameters, fitted
                          attributes (JSON)
    weights.safetensors   each network's ``state_dict`` (tensors only)

Loading reads JSON, safetensors and skops (with an explicit list of trusted
types); none of them unpickles, and every class is looked up in the allow-list of
:mod:`skecd.persistence._allowlist`, never imported by a name read from the file.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import platform
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.pipeline import FeatureUnion
from skorch import NeuralNet

from .._atomic import atomic_write
from .._version import __version__
from ..preprocessing import MagpieFeaturizer
from ._allowlist import allowed_object, allowed_type_names, decode, encode, object_name

__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "ModelVersionWarning",
    "describe_estimator",
    "load_model",
    "read_manifest",
    "save_model",
]

#: Version of the file layout; files of a newer version are refused.
FORMAT_VERSION = 1
_FORMAT = "skecd-model"
_MANIFEST = "manifest.json"
_SKOPS = "estimator.skops"
_NETWORKS = "networks.json"
_WEIGHTS = "weights.safetensors"
_MEMBERS = {_MANIFEST, _SKOPS, _NETWORKS, _WEIGHTS}
# skorch bookkeeping that initialize() rebuilds; not saved.
_NET_RUNTIME = {
    "module_",
    "criterion_",
    "optimizer_",
    "callbacks_",
    "history_",
    "initialized_",
    "virtual_params_",
    "prefixes_",
    "cuda_dependent_attributes_",
    "init_context_",
}


#: Largest size a member of a model file (or of its ``estimator.skops`` archive) may
#: inflate to, and the largest inflation ratio of a member over 16 MiB: a forest of
#: 500 trees on 10,000 materials stays far below both, a zip bomb does not.
_MAX_MEMBER_BYTES = 2 << 30
_MAX_RATIO = 200
_RATIO_FLOOR = 16 << 20
# Keys of the manifest: the SHA-256 of each member, and of the manifest without it.
_CHECKSUMS = "checksums"


class ModelFileError(ValueError):
    """A model file is malformed, tampered with, or from a newer skecd."""


class ModelVersionWarning(UserWarning):
    """A model file was saved by another version of skecd or scikit-learn.

    Like scikit-learn's ``InconsistentVersionWarning``: the file loads, but
    estimators may behave differently under other versions; retrain or check
    the predictions.
    """


class _NetRef(BaseEstimator):
    """Stands in, inside ``estimator.skops``, for the network saved under ``key``."""

    def __init__(self, key=None):
        self.key = key


class _Rebuild(BaseEstimator):
    """Stands in for a fitted attribute that is rebuilt from parameters on load."""

    def __init__(self, attribute=None):
        self.attribute = attribute


class _Packed(BaseEstimator):
    """Stands in for a long list of ints or object array of str, kept as one numpy array.

    skops writes such a value element by element (a column-name array of a table of
    100,000 features: seconds and megabytes); a numpy array of a fixed-size dtype is
    one binary member. ``kind`` says what to give back on load: ``"list"`` or
    ``"object"``.
    """

    def __init__(self, values=None, kind=None):
        self.values = values
        self.kind = kind


_PACK_FROM = 1000  # shorter values are written as they are


def _pack(value):
    """``value`` as a :class:`_Packed` if it is long and packs exactly, else None."""
    if isinstance(value, list) and len(value) >= _PACK_FROM:
        if all(type(v) is int for v in value):
            return _Packed(np.asarray(value, dtype=np.int64), "list")
    elif isinstance(value, np.ndarray) and value.dtype == object and value.size >= _PACK_FROM:
        if all(type(v) is str for v in value.flat):
            return _Packed(value.astype(str), "object")
    return None


def _unpack(packed):
    if packed.kind == "list":
        return [int(v) for v in packed.values]
    if packed.kind == "object":
        return np.asarray(packed.values, dtype=object)
    raise ModelFileError(f"unknown packed value {packed.kind!r}")


def _magpie_featurizer(est):
    # MagpieFeaturizer.fit builds matminer's ElementProperty from its parameters
    # only; that object holds matminer data tables that skops cannot vouch for,
    # so it is rebuilt the same way on load instead of being stored.
    from matminer.featurizers.composition import ElementProperty

    return ElementProperty.from_preset("magpie", impute_nan=bool(est.impute_nan))


def _rebuilders():
    return {MagpieFeaturizer: {"featurizer_": _magpie_featurizer}}


#: Attributes that cache the last ``transform``'s output and are set again by the next
#: one; not saved. A FeatureUnion with pandas output keeps its parts' column names as
#: pandas objects there, which skops cannot save (its ``get_feature_names_out`` asks
#: the parts instead).
_TRANSIENT = {FeatureUnion: ("_transformers_feature_names_out",)}


# ------------------------------------------------------------------ describe
def describe_estimator(estimator):
    """Return the configuration of an estimator as JSON data (for the manifest).

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn estimator, pipeline or skecd network.

    Returns
    -------
    dict
        ``{"class": "module.Class", "params": {...}}``; nested estimators are
        described the same way, other values by ``repr`` when JSON has no type
        for them.
    """

    def value(v):
        if isinstance(v, BaseEstimator) or isinstance(v, NeuralNet):
            return describe_estimator(v)
        if isinstance(v, (list, tuple)):
            return [value(x) for x in v]
        if isinstance(v, dict):
            return {str(k): value(x) for k, x in v.items()}
        if isinstance(v, np.generic):
            return v.item()
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, type) or callable(v):
            return f"{getattr(v, '__module__', '')}.{getattr(v, '__qualname__', repr(v))}"
        return repr(v)

    params = estimator.get_params(deep=False)
    return {
        "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "params": {k: value(v) for k, v in params.items() if not k.startswith("_")},
    }


# ---------------------------------------------------------------------- save
def _strip(obj, nets, rebuild):
    """Copy ``obj`` with networks replaced by ``_NetRef`` (``nets`` collects them)."""
    if isinstance(obj, NeuralNet):
        key = f"net{len(nets)}"
        nets[key] = obj
        return _NetRef(key=key)
    if isinstance(obj, BaseEstimator):
        new = object.__new__(type(obj))
        transient = _TRANSIENT.get(type(obj), ())
        state = {k: _strip(v, nets, rebuild) for k, v in vars(obj).items() if k not in transient}
        for attribute in rebuild.get(type(obj), {}):
            if attribute in state:
                state[attribute] = _Rebuild(attribute=attribute)
        new.__dict__.update(state)
        return new
    packed = _pack(obj)
    if packed is not None:
        return packed
    if isinstance(obj, list):
        return [_strip(v, nets, rebuild) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_strip(v, nets, rebuild) for v in obj)
    if isinstance(obj, dict):
        return {k: _strip(v, nets, rebuild) for k, v in obj.items()}
    return obj


def _net_record(key, net, tensors, weights_dtype):
    params = {
        k: encode(v, f"{type(net).__name__}.{k}")
        for k, v in net.get_params(deep=False).items()
        if not k.startswith("_")
    }
    initialized = bool(getattr(net, "initialized_", False)) and hasattr(net, "module_")
    attributes = {}
    if initialized:
        for k, v in vars(net).items():
            if k.endswith("_") and not k.startswith("_") and k not in _NET_RUNTIME:
                attributes[k] = encode(v, f"{type(net).__name__}.{k}")
        for name, t in net.module_.state_dict().items():
            t = t.detach().cpu()
            if weights_dtype is not None and t.is_floating_point():
                t = t.to(weights_dtype)
            tensors[f"{key}/{name}"] = t.contiguous().clone()
    return {
        "class": object_name(type(net)),
        "params": params,
        "attributes": attributes,
        "initialized": initialized,
    }


def _json_bytes(obj):
    return json.dumps(obj, indent=1, sort_keys=True, allow_nan=True).encode("utf-8")


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _manifest_digest(manifest):
    """SHA-256 of the manifest's content without its checksums (key order, spacing aside)."""
    body = {k: v for k, v in manifest.items() if k != _CHECKSUMS}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return _sha256(text.encode("utf-8"))


def _checksums(manifest, members):
    """The checksums a manifest records for itself and the other ``members`` (bytes)."""
    sums = {name: _sha256(data) for name, data in sorted(members.items())}
    sums[_MANIFEST] = _manifest_digest(manifest)
    return sums


def save_model(estimator, path, metadata=None, *, weights_dtype="float32"):
    """Save a fitted estimator to one file that loads without running code from it.

    Parameters
    ----------
    estimator : estimator
        A fitted skecd model: any pipeline of skecd featurisers, scikit-learn
        estimators of the allow-list (forests, ``MultiOutputRegressor``, ...) and
        skecd networks, such as those of :func:`skecd.benchmark.make_model`.
    path : str or path-like
        Destination (conventionally ``*.skecd``). Written to a temporary name
        and renamed, so an interrupted save leaves no half-written file.
    metadata : dict, default=None
        JSON-serialisable training metadata (data set and its hash, targets,
        settings, CV metrics, element and space-group coverage); stored in the
        manifest under ``"metadata"``.
    weights_dtype : {"float32", "float16"}, default="float32"
        Storage type of the network weights. ``"float32"`` keeps them exactly
        (predictions after loading are identical to the bit); ``"float16"``
        halves the file and rounds every weight (recorded in the manifest).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skecd import load_model, save_model
    >>> from skecd.benchmark import make_model
    >>> from skecd.datasets import load_fcc_elastic
    >>> ds = load_fcc_elastic()
    >>> model = make_model("rf_magpie", n_estimators=5).fit(ds.data[:20], ds.target[:20, 0])
    >>> path = save_model(model, pathlib.Path(tempfile.mkdtemp()) / "rf.skecd")
    >>> bool((load_model(path).predict(ds.data[:3]) == model.predict(ds.data[:3])).all())
    True
    """
    import skops.io as sio
    from safetensors.torch import save as save_tensors

    dtypes = {"float32": None, "float16": torch.float16}
    if weights_dtype not in dtypes:
        raise ValueError(f"weights_dtype must be 'float32' or 'float16', got {weights_dtype!r}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    nets = {}
    skeleton = _strip(estimator, nets, _rebuilders())
    tensors = {}
    networks = {
        key: _net_record(key, net, tensors, dtypes[weights_dtype]) for key, net in nets.items()
    }
    skops_bytes = sio.dumps(skeleton, compression=zipfile.ZIP_DEFLATED)
    allowed = set(skops_trusted_types())
    extra = sorted(set(sio.get_untrusted_types(data=skops_bytes)) - allowed)
    if extra:
        raise TypeError(
            f"cannot save {type(estimator).__name__}: it holds {extra}, which are not on "
            "skecd's allow-list of types a model file may hold"
        )
    manifest = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "skecd_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sklearn": __import__("sklearn").__version__,
        },
        "estimator_class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "configuration": describe_estimator(estimator),
        "weights_dtype": weights_dtype,
        "metadata": metadata or {},
    }
    json.dumps(manifest["metadata"])  # raises TypeError here if not JSON-serialisable
    members = {_SKOPS: skops_bytes, _NETWORKS: _json_bytes(networks)}
    if tensors:
        members[_WEIGHTS] = save_tensors(tensors)
    manifest[_CHECKSUMS] = _checksums(manifest, members)
    path = Path(path)
    # A temporary file of its own in the destination's folder (atomic_write), renamed
    # over ``path`` when complete: concurrent saves to one path never share it.
    with atomic_write(path, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_MANIFEST, _json_bytes(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# ---------------------------------------------------------------------- load
def _check_sizes(path, infos, where=""):
    """Refuse members that would inflate beyond the caps, before inflating any."""
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _MAX_MEMBER_BYTES:
            limit = f"a model file member is at most {_MAX_MEMBER_BYTES:,} bytes"
        elif info.file_size > _RATIO_FLOOR and ratio > _MAX_RATIO:
            limit = (
                f"a member over {_RATIO_FLOOR:,} bytes inflates at most {_MAX_RATIO} times "
                "(a zip bomb does more)"
            )
        else:
            continue
        raise ModelFileError(
            f"{path}: refused: {where}{info.filename} declares {info.file_size:,} bytes "
            f"({ratio:.0f} times its compressed size); {limit}"
        )


def _read_capped(path, zf, info):
    """The bytes of one member; never more than its declared (and checked) size."""
    with zf.open(info) as fh:
        data = fh.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise ModelFileError(f"{path}: {info.filename} does not hold its declared size; refused")
    return data


def _read_members(path):
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"{path}: not a skecd model file ({exc})") from exc
    with zf:
        infos = zf.infolist()
        names = {info.filename for info in infos}
        unknown = sorted(names - _MEMBERS)
        if unknown:
            raise ModelFileError(
                f"{path}: refused: the file holds {unknown}, which a skecd model file never "
                f"contains (expected only {sorted(_MEMBERS)}); it may have been tampered with"
            )
        if len(infos) != len(names):
            raise ModelFileError(f"{path}: refused: a member appears twice in the archive")
        missing = sorted({_MANIFEST, _SKOPS, _NETWORKS} - names)
        if missing:
            raise ModelFileError(f"{path}: not a complete skecd model file (missing {missing})")
        _check_sizes(path, infos)
        try:
            return {info.filename: _read_capped(path, zf, info) for info in infos}
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ModelFileError(f"{path}: damaged model file ({exc}); refused") from exc


def _parse_json(path, name, data):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: {name} is not valid JSON ({exc}); refused") from exc


def _check_manifest(path, manifest):
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise ModelFileError(f"{path}: not a skecd model file (no '{_FORMAT}' manifest)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{path}: the manifest has no integer format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format version {version} was written by a newer skecd "
            f"({manifest.get('skecd_version', '?')}); this skecd {__version__} reads versions "
            f"up to {FORMAT_VERSION}: upgrade skecd (pip install -U skecd)"
        )


def _check_checksums(path, manifest, members):
    """Refuse a file whose members or manifest changed after :func:`save_model` wrote it.

    Files saved before the checksums were recorded have none: they load unchecked, with
    a :class:`ModelVersionWarning` saying so. The checksums catch an edited or damaged
    file, not a forger who recomputes them: a model file is as trustworthy as its source.
    """
    recorded = manifest.get(_CHECKSUMS)
    if recorded is None:
        warnings.warn(
            f"{path} carries no checksums (saved by an older skecd): a change made to it "
            "since it was saved cannot be detected; load it and save it again with "
            "save_model to add them",
            ModelVersionWarning,
            stacklevel=3,
        )
        return
    if not isinstance(recorded, dict):
        raise ModelFileError(f"{path}: the manifest's {_CHECKSUMS!r} is not a JSON object")
    others = {k: v for k, v in members.items() if k != _MANIFEST}
    actual = _checksums(manifest, others)
    for name in sorted(set(actual) | set(recorded)):
        if recorded.get(name) != actual.get(name):
            raise ModelFileError(
                f"{path}: refused: {name} does not match the checksum saved with it: the file "
                "was modified or damaged after it was saved"
            )


def _warn_versions(path, manifest):
    """Warn when the file comes from another skecd or scikit-learn (it may behave differently)."""
    import sklearn

    env = manifest.get("environment")
    env = env if isinstance(env, dict) else {}
    saved = {"skecd": manifest.get("skecd_version"), "scikit-learn": env.get("sklearn")}
    running = {"skecd": __version__, "scikit-learn": sklearn.__version__}
    other = [f"{k} {saved[k]} (running {running[k]})" for k in saved if saved[k] != running[k]]
    if other:
        warnings.warn(
            f"{path} was saved with {' and '.join(other)}: its estimators may predict "
            "differently under these versions; retrain it, or check its predictions",
            ModelVersionWarning,
            stacklevel=3,
        )


def skops_trusted_types():
    """Names of the types ``skops.io`` may build when loading the scikit-learn part.

    Returns
    -------
    list of str
        The skecd transformers and estimators, the scikit-learn estimators of the
        allow-list, the internal types they hold (the trees' ``Tree``) and this
        module's stand-ins for networks and rebuilt attributes.
    """
    names = allowed_type_names() + ["sklearn.tree._tree.Tree"]
    names += [f"{c.__module__}.{c.__qualname__}" for c in (_NetRef, _Rebuild, _Packed)]
    return sorted(set(names))


def _load_skeleton(path, data):
    import skops.io as sio

    trusted = skops_trusted_types()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            infos = inner.infolist()
    except zipfile.BadZipFile as exc:
        raise ModelFileError(
            f"{path}: {_SKOPS} is not a valid skops file ({exc}); refused"
        ) from exc
    _check_sizes(path, infos, where=f"{_SKOPS}/")  # skops' own zip: capped like the file's
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises several types on a malformed archive
        raise ModelFileError(
            f"{path}: {_SKOPS} is not a valid skops file ({exc}); refused"
        ) from exc
    refused = sorted(set(untrusted) - set(trusted))
    if refused:
        raise ModelFileError(
            f"{path}: refused: {_SKOPS} asks for types outside skecd's allow-list: {refused}"
        )
    try:
        return sio.loads(data, trusted=trusted)
    except Exception as exc:
        raise ModelFileError(f"{path}: could not load {_SKOPS} ({exc}); refused") from exc


def _load_net(path, key, record, tensors, weights_dtype):
    try:
        cls = allowed_object(record["class"])
        if not (isinstance(cls, type) and issubclass(cls, NeuralNet)):
            raise ValueError(f"{record['class']} is not a network class")
        params = {k: decode(v) for k, v in record["params"].items()}
        # A parameter added after the file was saved takes the value the file was trained
        # with (log_target: False, the linear output of the networks before it), not today's
        # default.
        for name, old in getattr(cls, "_PARAMS_BEFORE_THEY_EXISTED", {}).items():
            params.setdefault(name, old)
        if str(params.get("device", "cpu")).startswith("cuda") and not torch.cuda.is_available():
            params["device"] = "cpu"  # a model trained on a GPU predicts on a CPU-only machine
        net = cls(**params)
        if not record["initialized"]:
            return net
        for k, v in record["attributes"].items():
            if not (isinstance(k, str) and k.endswith("_")):
                raise ValueError(f"unexpected network attribute {k!r}")
            setattr(net, k, decode(v))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: network {key!r}: {exc}") from exc
    prefix = f"{key}/"
    state = {k[len(prefix) :]: t for k, t in tensors.items() if k.startswith(prefix)}
    _check_weights(path, key, net, state, weights_dtype)
    # initialize() draws random initial weights; fork the RNG so loading leaves
    # torch's global random state as it was (the weights are replaced below).
    with torch.random.fork_rng():
        net.initialize()
    # Files written before the networks kept their input shape and target rank as
    # buffers lack those two; they are rebuilt from the saved fitted attributes, which
    # hold the same values (any other missing or extra tensor is still an error).
    module_state = net.module_.state_dict()
    for name in _SIZE_BUFFERS:
        if name not in state and name in module_state:
            state[name] = module_state[name]
    try:
        net.module_.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(f"{path}: weights of network {key!r} do not fit it: {exc}") from exc
    net.module_.eval()
    return net


def _meta_state(net):
    """The network's ``state_dict`` shapes and types, built on torch's "meta" device.

    Nothing is allocated, so sizes a tampered file declares (``hidden_widths`` of
    300,000) are compared with its weights before the real network is built.
    """
    # skorch lets module_ be set only inside its init context (a private helper).
    with torch.device("meta"), net._current_init_context("module"):
        net.initialize_module()
    meta = {
        name: (None if torch.nn.parameter.is_lazy(t) else tuple(t.shape), t.dtype)
        for name, t in net.module_.state_dict().items()
    }
    del net.module_
    return meta


def _check_weights(path, key, net, state, weights_dtype):
    """Refuse weights of another shape or type than the network its JSON describes."""
    try:
        meta = _meta_state(net)
    except Exception as exc:  # any error of a module's constructor on these parameters
        raise ModelFileError(f"{path}: network {key!r} cannot be built: {exc}") from exc
    where = f"{path}: weights of network {key!r}"
    extra = sorted(set(state) - set(meta))
    missing = sorted(set(meta) - set(state) - set(_SIZE_BUFFERS))
    if extra or missing:
        raise ModelFileError(
            f"{where} do not fit it: unexpected {extra[:5]}, missing {missing[:5]}; refused"
        )
    for name, (shape, dtype) in meta.items():  # the module's order: first layers first
        t = state.get(name)
        if t is None:  # one of _SIZE_BUFFERS of an older file: rebuilt on load
            continue
        stored = torch.float16 if weights_dtype == "float16" and dtype.is_floating_point else dtype
        if t.dtype not in (dtype, stored):
            raise ModelFileError(
                f"{where}: {name} is {t.dtype}, not {stored} as saved by skecd; refused"
            )
        if shape is not None and tuple(t.shape) != shape:
            raise ModelFileError(
                f"{where}: {name} has shape {tuple(t.shape)}, but the network's parameters "
                f"in {_NETWORKS} make it {shape}; refused"
            )


_SIZE_BUFFERS = ("input_shape", "y_ndim")


def _restore(obj, nets, rebuild):
    if isinstance(obj, _Packed):
        return _unpack(obj)
    if isinstance(obj, _NetRef):
        if obj.key not in nets:
            raise ModelFileError(f"the estimator refers to an unknown network {obj.key!r}")
        return nets[obj.key]
    if isinstance(obj, BaseEstimator):
        for k, v in list(vars(obj).items()):
            if isinstance(v, _Rebuild):
                builder = rebuild.get(type(obj), {}).get(v.attribute)
                if builder is None:
                    raise ModelFileError(f"no way to rebuild {type(obj).__name__}.{v.attribute}")
                obj.__dict__[k] = builder(obj)
            else:
                obj.__dict__[k] = _restore(v, nets, rebuild)
        return obj
    if isinstance(obj, list):
        return [_restore(v, nets, rebuild) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_restore(v, nets, rebuild) for v in obj)
    if isinstance(obj, dict):
        return {k: _restore(v, nets, rebuild) for k, v in obj.items()}
    return obj


def read_manifest(path):
    """Return the manifest of a model file (format, versions, configuration, metadata).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict

    Raises
    ------
    ModelFileError
        If the file is not a skecd model file, holds unexpected members, is of a
        newer format version, or was modified after it was saved.

    Warns
    -----
    ModelVersionWarning
        If the file carries no checksums (saved by an older skecd).
    """
    path = os.fspath(path)
    members = _read_members(path)
    manifest = _parse_json(path, _MANIFEST, members[_MANIFEST])
    _check_manifest(path, manifest)
    _check_checksums(path, manifest, members)
    return manifest


def load_model(path, *, return_manifest=False):
    """Load a model saved by :func:`save_model`, without unpickling anything.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model` (or ``skecd train``).
    return_manifest : bool, default=False
        Also return the manifest (configuration and training metadata).

    Returns
    -------
    estimator : estimator
        The fitted estimator, ready to ``predict``.
    manifest : dict
        Only if ``return_manifest``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is malformed, holds anything a model file never holds (such
        as a pickle), names a class outside skecd's allow-list, was written
        in a newer format version, was modified after it was saved (its checksums),
        holds weights of another type or shape than its networks, or a member
        that inflates beyond the size caps (a zip bomb).

    Warns
    -----
    ModelVersionWarning
        If the file was saved by another version of skecd or scikit-learn, or
        carries no checksums (saved by an older skecd: it loads unchecked).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such model file: {path!r}")
    members = _read_members(path)
    manifest = _parse_json(path, _MANIFEST, members[_MANIFEST])
    _check_manifest(path, manifest)
    _check_checksums(path, manifest, members)
    _warn_versions(path, manifest)
    networks = _parse_json(path, _NETWORKS, members[_NETWORKS])
    if not isinstance(networks, dict) or not all(isinstance(r, dict) for r in networks.values()):
        raise ModelFileError(f"{path}: {_NETWORKS} is not a JSON object of network records")
    weights_dtype = manifest.get("weights_dtype", "float32")
    if weights_dtype not in ("float32", "float16"):
        raise ModelFileError(f"{path}: the manifest's weights_dtype {weights_dtype!r} is unknown")
    tensors = {}
    if _WEIGHTS in members:
        try:
            tensors = load_tensors(members[_WEIGHTS])
        except (SafetensorError, ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"{path}: {_WEIGHTS} is not a safetensors file ({exc}); refused"
            ) from exc
    elif any(r.get("initialized") for r in networks.values()):
        raise ModelFileError(f"{path}: fitted networks but no {_WEIGHTS}")
    fitted = {key for key, r in networks.items() if r.get("initialized")}
    stray = sorted(k for k in tensors if k.split("/", 1)[0] not in fitted)
    if stray:
        raise ModelFileError(
            f"{path}: refused: {_WEIGHTS} holds tensors of no fitted network in "
            f"{_NETWORKS}: {stray[:5]}" + (f" and {len(stray) - 5} more" if len(stray) > 5 else "")
        )
    skeleton = _load_skeleton(path, members[_SKOPS])
    nets = {key: _load_net(path, key, rec, tensors, weights_dtype) for key, rec in networks.items()}
    estimator = _restore(skeleton, nets, _rebuilders())
    return (estimator, manifest) if return_manifest else estimator
