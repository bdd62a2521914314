"""Protocols of the benchmark and its on-disk cache of features and results.

Layout of a results directory::

    features/<feature>-<key>.npz          cached feature arrays (one per data set and settings)
    features/<feature>-<key>.json         how long each took to compute, and the SHA-256
                                          of the ``.npz``
    results/<protocol>/<model>/<target>/<split>-<key>.json   one fitted split each
    results.md, summary.json, tables/*.rst, plots/*.png      the report (skecd.benchmark._report)

``<key>`` hashes everything a result depends on (model, target, split and its test
materials, the data set, and the settings the model reads), so a rerun with other
settings computes new results beside the old ones instead of reusing them.

Every file is written atomically (:func:`skecd._atomic.atomic_write`), so
an interrupted run leaves only finished results, and a rerun with the same
settings skips them; ``.part`` files left by a killed run are removed by the next.
Each feature array and each result carries a checksum (in the feature's ``.json``,
in the result record), verified on read: an entry that cannot be read or whose
checksum differs is reported with its path, moved aside (``<name>.damaged``) and
recomputed. Features are stored as plain arrays (``.npz`` read with
``allow_pickle=False``, the crystal graphs as their concatenated arrays), and the
file's SHA-256 is checked before it is parsed: the cache never unpickles.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import platform
import time
import types
import warnings
from collections import Counter
from pathlib import Path

import joblib
import numpy as np
from sklearn.model_selection import KFold, PredefinedSplit
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from .._atomic import atomic_write, remove_partial_files
from .._settings import DATA_SETS as _DATA_SETS
from .._version import __version__
from ..datasets import CRYSTAL_SYSTEMS, TARGET_NAMES, crystal_system
from ..preprocessing import CrystalGraph
from ._metrics import regression_metrics
from ._models import DEFAULT_SETTINGS, FEATURES, MODELS, fold_inputs, settings_key

__all__ = [
    "DATA_SETS",
    "DEFAULT_LOEO_MIN_COUNT",
    "PROTOCOLS",
    "TARGETS",
    "TRANSFER_SPACE_GROUP",
    "element_counts",
    "load_benchmark_data",
    "locso_systems",
    "loeo_elements",
    "make_splits",
    "run_benchmark",
]

#: ``cv``: k-fold cross-validation; ``loeo``: leave one element out; ``transfer``:
#: train on the Fm-3m materials, test on all the others; ``locso``: leave one
#: crystal system out. The last two need the extended data (``data="extended"``).
PROTOCOLS = ("cv", "loeo", "transfer", "locso")
TARGETS = TARGET_NAMES
#: ``"bundled"``: the 369 Fm-3m materials shipped with skecd (the paper's setting);
#: ``"extended"``: every labelled material of :func:`skecd.datasets.load_elastic`
#: whose density is found (the bundled ones included).
DATA_SETS = tuple(_DATA_SETS)
#: The ``transfer`` protocol trains on this space group (Fm-3m, the paper's data).
TRANSFER_SPACE_GROUP = 225

#: Elements present in at least this many materials are held out, one at a time,
#: by the ``loeo`` protocol. On the 369 bundled materials with densities, 19 selects
#: eleven elements (Al 32, Li 31, Sn 28, N 24, C 23, Rb 22, O 22, Te 20, Se 20,
#: Co 19, Na 19), as many as the paper's Table 3; 20 would select nine.
DEFAULT_LOEO_MIN_COUNT = 19


def load_benchmark_data(max_samples=None, seed=0, data="bundled"):
    """Load a data set of the benchmark (densities and moduli), optionally a seeded subset.

    Parameters
    ----------
    max_samples : int, default=None
        Keep this many materials, drawn at random with ``seed`` (for tests and
        trials); None keeps all.
    seed : int, default=0
    data : {"bundled", "extended"}, default="bundled"
        See :data:`DATA_SETS`. ``"extended"`` reads every density that
        :func:`skecd.datasets.load_elastic` finds; the materials without one are
        counted in ``n_missing``, not used.

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (list of ChargeDensity), ``target`` (n, 2) K_VRH and G_VRH in
        GPa, ``target_names``, ``material_ids``, ``formulas``, ``space_groups``
        and ``crystal_systems`` (one per material), and of the whole data set
        before any subset: ``name``, ``n_available`` (materials with densities),
        ``n_missing`` (labelled, density not built yet) and ``n_excluded``
        (the builder failed).
    """
    if data not in DATA_SETS:
        raise ValueError(f"data must be one of {DATA_SETS}, got {data!r}")
    bunch = _load_all(data)
    n = len(bunch.data)
    index = np.arange(n)
    if max_samples is not None:
        if not 2 <= int(max_samples) <= n:
            raise ValueError(f"max_samples must be between 2 and {n}, got {max_samples!r}")
        rng = np.random.default_rng(seed)
        index = np.sort(rng.choice(n, size=int(max_samples), replace=False))
    return Bunch(
        data=[bunch.data[i] for i in index],
        target=np.asarray(bunch.target, dtype=np.float64)[index],
        target_names=list(bunch.target_names),
        material_ids=[str(bunch.material_ids[i]) for i in index],
        formulas=[str(bunch.formulas[i]) for i in index],
        space_groups=np.asarray(bunch.space_groups, dtype=int)[index],
        crystal_systems=[bunch.crystal_systems[i] for i in index],
        name=data,
        n_available=n,
        n_missing=bunch.n_missing,
        n_excluded=bunch.n_excluded,
    )


@functools.lru_cache(maxsize=len(DATA_SETS))
def _load_all(data):
    # Reading the densities takes seconds (the extended set: a minute); tests and
    # notebooks call the runner several times in one process, so the (read-only)
    # data are kept.
    from ..datasets import load_elastic, load_fcc_elastic

    if data == "extended":
        bunch = load_elastic(missing="ignore")
        bunch.n_missing, bunch.n_excluded = len(bunch.missing), len(bunch.excluded)
        return bunch
    bunch = load_fcc_elastic()
    n = len(bunch.data)
    bunch.space_groups = np.full(n, TRANSFER_SPACE_GROUP)
    bunch.crystal_systems = [crystal_system(TRANSFER_SPACE_GROUP)] * n
    bunch.n_missing = bunch.n_excluded = 0
    return bunch


def element_counts(formulas):
    """Count, for each element, the materials whose formula contains it.

    Parameters
    ----------
    formulas : list of str

    Returns
    -------
    collections.Counter
    """
    from pymatgen.core import Composition

    counts = Counter()
    for formula in formulas:
        counts.update(str(e) for e in Composition(formula).elements)
    return counts


def loeo_elements(formulas, min_count=DEFAULT_LOEO_MIN_COUNT):
    """Return the elements held out by the ``loeo`` protocol, most frequent first.

    Parameters
    ----------
    formulas : list of str
    min_count : int, default=DEFAULT_LOEO_MIN_COUNT

    Returns
    -------
    list of str
    """
    counts = element_counts(formulas)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    chosen = [e for e, c in ranked if c >= min_count]
    if not chosen:
        raise ValueError(
            f"no element is present in at least min_count={min_count} of the "
            f"{len(formulas)} materials; lower --min-count"
        )
    return chosen


def locso_systems(space_groups, min_count=DEFAULT_LOEO_MIN_COUNT):
    """Return the crystal systems held out by the ``locso`` protocol, most frequent first.

    Parameters
    ----------
    space_groups : array-like of int
        Space-group number of each material.
    min_count : int, default=DEFAULT_LOEO_MIN_COUNT
        Hold out each crystal system of at least this many materials.

    Returns
    -------
    list of str
    """
    counts = Counter(crystal_system(g) for g in space_groups)
    if len(counts) < 2:
        raise ValueError(
            f"protocol 'locso' needs materials of at least two crystal systems, the data have "
            f"{dict(counts)}; use the extended data (data='extended')"
        )
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], CRYSTAL_SYSTEMS.index(kv[0])))
    chosen = [system for system, c in ranked if c >= min_count]
    if not chosen:
        raise ValueError(
            f"no crystal system has at least min_count={min_count} materials "
            f"({dict(ranked)}); lower --min-count"
        )
    return chosen


def make_splits(
    protocol,
    formulas,
    *,
    n_splits=5,
    seed=0,
    min_count=DEFAULT_LOEO_MIN_COUNT,
    space_groups=None,
):
    """Return the train/test splits of a protocol.

    Parameters
    ----------
    protocol : {"cv", "loeo", "transfer", "locso"}
        ``cv``: shuffled ``KFold(n_splits)`` seeded with ``seed``; ``loeo``: for
        each element of :func:`loeo_elements`, test on the materials containing
        it and train on all the others (``LeaveOneElementOut``); ``transfer``:
        one split, training on the Fm-3m materials (:data:`TRANSFER_SPACE_GROUP`)
        and testing on all the others; ``locso``: for each crystal system of
        :func:`locso_systems`, test on its materials and train on all the others.
    formulas : list of str
    n_splits, seed, min_count : int
        ``min_count`` is the threshold of ``loeo`` and ``locso``.
    space_groups : array-like of int, default=None
        Space-group number of each material; needed by ``transfer`` and ``locso``.

    Returns
    -------
    list of (str, ndarray, ndarray)
        Split name (``"fold0"`` ..., the element, ``"non-Fm-3m"`` or the crystal
        system), train and test indices.
    """
    n = len(formulas)
    if protocol in ("transfer", "locso"):
        if space_groups is None or len(space_groups) != n:
            raise ValueError(f"protocol {protocol!r} needs the space group of every material")
        return _symmetry_splits(protocol, np.asarray(space_groups, dtype=int), min_count)
    if protocol == "cv":
        kf = KFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return [(f"fold{i}", tr, te) for i, (tr, te) in enumerate(kf.split(np.arange(n)))]
    if protocol == "loeo":
        elements = loeo_elements(formulas, min_count)
        return [(e, tr, te) for e, (tr, te) in zip(elements, _loeo_split(formulas, elements))]
    raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


def _symmetry_splits(protocol, space_groups, min_count):
    """The ``transfer`` and ``locso`` splits, as scikit-learn's ``PredefinedSplit``.

    Each material gets the number of the test set it belongs to, or -1 if it is
    always in the training set (the Fm-3m ones for ``transfer``; the crystal
    systems too small to be held out for ``locso``).
    """
    if protocol == "transfer":
        fm3m = space_groups == TRANSFER_SPACE_GROUP
        if fm3m.all() or not fm3m.any():
            raise ValueError(
                f"protocol 'transfer' trains on Fm-3m and tests on the other space groups; the "
                f"data have {int(fm3m.sum())} Fm-3m materials and {int((~fm3m).sum())} others; "
                "use the extended data (data='extended')"
            )
        names, test_fold = ["non-Fm-3m"], np.where(fm3m, -1, 0)
    else:
        names = locso_systems(space_groups, min_count)
        systems = [crystal_system(g) for g in space_groups]
        test_fold = np.array([names.index(s) if s in names else -1 for s in systems])
    splits = PredefinedSplit(test_fold).split()
    return [(name, train, test) for name, (train, test) in zip(names, splits)]


def _loeo_split(formulas, elements):
    from ..model_selection import LeaveOneElementOut

    splitter = LeaveOneElementOut(elements=elements)
    return splitter.split(np.arange(len(formulas)).reshape(-1, 1), groups=formulas)


def _digest(obj):
    return joblib.hash(json.dumps(obj, sort_keys=True, default=str))[:12]


def write_json(path, obj):
    """Write ``obj`` as JSON to ``path`` atomically."""
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1, default=_json_default)
    return Path(path)


def _record_checksum(record):
    """SHA-256 of a result record as JSON (without its ``checksum`` field)."""
    body = {k: v for k, v in record.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, default=_json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _set_aside(paths, reason, recompute=True):
    """Warn that a cache entry is damaged and move its files to ``<name>.damaged``.

    ``recompute``: whether this run computes the entry again (False under
    ``--report-only``, which leaves it out of the report); the warning says which.
    """
    paths = [Path(p) for p in paths if Path(p).exists()]
    moved = []
    for path in paths:
        try:
            os.replace(path, path.with_name(path.name + ".damaged"))
            moved.append(path)
        except OSError:  # a read-only results directory: leave it, still treat as missing
            pass
    where = ", ".join(str(p) for p in paths) or "(gone)"
    action = "moved aside to *.damaged" if moved else "left in place (it cannot be moved)"
    if recompute:
        action += " and recomputed"
    else:
        action += "; left out of this report (rerun without --report-only to recompute it)"
    warnings.warn(
        f"damaged benchmark cache entry {where}: {reason}; {action}", RuntimeWarning, stacklevel=3
    )


def _plain(value):
    """``value`` as JSON-able text that is the same in every run (no object addresses).

    Hand-written: ``repr`` and ``joblib.hash`` of estimator parameters hold object
    addresses or pickled internals (skorch callbacks, collate functions) that change
    between runs or library versions although the parameters do not.
    """
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(str(_plain(v)) for v in value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType):
        return f"{value.__module__}.{value.__qualname__}"
    if callable(getattr(value, "get_params", None)):  # estimators, skorch callbacks
        params = value.get_params(deep=False)
        return {"class": _plain(type(value)), **{k: _plain(v) for k, v in params.items()}}
    text = repr(value)
    return _plain(type(value)) if " at 0x" in text else text


def estimator_fingerprint(model, s):
    """Digest of every parameter of ``model``'s estimator under settings ``s``.

    Recorded with each result: a result whose estimator has changed since (a new
    default, say, that the settings do not name) is refitted instead of reused.
    """
    estimator = MODELS[model].make_estimator(s)
    return _digest(_plain(estimator.get_params(deep=True)))


def _read_result(path, recompute=True):
    """Return the verified result record at ``path``, or None if absent or damaged.

    ``recompute``: whether a damaged record is computed again in this run (for the
    warning's wording).
    """
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise ValueError(f"holds a {type(record).__name__}, not a result record")
        if "checksum" not in record:
            raise ValueError("has no checksum (written by an older skecd?)")
        if record["checksum"] != _record_checksum(record):
            raise ValueError("checksum mismatch: the file changed after it was written")
    except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
        _set_aside([path], str(exc), recompute)
        return None
    return record


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


_GRAPH_FIELDS = ("atom_features", "edge_index", "edge_features", "distances")


def _write_features(fh, value):
    """Write a feature array as plain arrays in an ``.npz`` (no pickle).

    A numeric array is stored as is; an object array of crystal graphs as the
    concatenation of each field with the per-graph sizes.
    """
    if isinstance(value, np.ndarray) and value.dtype != object:
        np.savez(fh, kind="array", array=value)
        return
    if not all(isinstance(g, CrystalGraph) for g in value):
        kinds = sorted({type(g).__name__ for g in value})
        raise TypeError(f"cannot cache features of types {kinds} without pickle")
    arrays = {
        f: np.concatenate([getattr(g, f) for g in value], axis=-1 if f == "edge_index" else 0)
        for f in _GRAPH_FIELDS
    }
    np.savez(
        fh,
        kind="graphs",
        n_atoms=np.array([g.n_atoms for g in value], dtype=np.int64),
        n_edges=np.array([g.n_edges for g in value], dtype=np.int64),
        formulas=np.array([g.formula for g in value], dtype=str),
        **arrays,
    )


def _read_features(data):
    """Inverse of :func:`_write_features`, from the file's bytes (never unpickles)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        kind = str(z["kind"])
        if kind == "array":
            return z["array"]
        if kind != "graphs":
            raise ValueError(f"unknown kind of cached features {kind!r}")
        fields = {f: z[f] for f in _GRAPH_FIELDS}
        n_atoms, n_edges, formulas = z["n_atoms"], z["n_edges"], z["formulas"]
    atom_at = np.concatenate([[0], np.cumsum(n_atoms)])
    edge_at = np.concatenate([[0], np.cumsum(n_edges)])
    if atom_at[-1] != len(fields["atom_features"]) or edge_at[-1] != len(fields["distances"]):
        raise ValueError("the graph sizes do not match the stored arrays")
    out = np.empty(len(n_atoms), dtype=object)
    for i in range(len(out)):
        a, e = slice(atom_at[i], atom_at[i + 1]), slice(edge_at[i], edge_at[i + 1])
        out[i] = CrystalGraph(
            atom_features=fields["atom_features"][a],
            edge_index=fields["edge_index"][:, e],
            edge_features=fields["edge_features"][e],
            distances=fields["distances"][e],
            formula=str(formulas[i]),
        )
    return out


class _FeatureCache:
    """Features of the whole data set, computed once per (feature, settings, data).

    The featurisers are stateless (their ``fit`` learns nothing from the data), so
    computing them once on all materials and indexing the rows per fold gives the
    same arrays as a Pipeline refitted in each fold, without leaking anything from
    the test materials, at a fraction of the cost (voxelising is the slow part).
    """

    def __init__(self, root, data, settings, verbose=True):
        self.root = Path(root) / "features"
        self.data = data
        self.settings = settings
        self.verbose = verbose
        self.data_key = _digest(data.material_ids)
        self.seconds = {}
        self._memory = {}

    def key(self, name):
        spec = FEATURES[name]
        parts = {"feature": name, "data": self.data_key}
        parts.update({k: self.settings[k] for k in spec.settings})
        return f"{name}-{_digest(parts)}"

    def get(self, name):
        key = self.key(name)
        if key in self._memory:
            return self._memory[key]
        value = self._load(name, key)
        if value is None:
            value = self._compute(name, key)
        self._memory[key] = value
        return value

    def _paths(self, key):
        return self.root / f"{key}.npz", self.root / f"{key}.json"

    def _load(self, name, key):
        """Return the cached, checksum-verified array of ``name``, or None."""
        path, meta_path = self._paths(key)
        if not path.exists():  # never computed, or only the timing of an older cache
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = path.read_bytes()
            # verified before parsing; the parser then reads plain arrays only
            if hashlib.sha256(data).hexdigest() != meta["sha256"]:
                raise ValueError("checksum mismatch: the file changed after it was written")
            value = _read_features(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _set_aside([path, meta_path], f"{type(exc).__name__}: {exc}")
            return None
        self.seconds[name] = meta["seconds"]
        return value

    def _compute(self, name, key):
        spec = FEATURES[name]
        source = self.data.data if spec.source is None else self.get(spec.source)
        if self.verbose:
            tqdm.write(f"computing features {name!r} of {len(self.data.data)} materials ...")
        start = time.perf_counter()
        value = spec.make(self.settings).fit_transform(source)
        seconds = time.perf_counter() - start
        if isinstance(value, np.ndarray) and value.dtype == np.float64 and value.ndim > 2:
            value = value.astype(np.float32)
        buffer = io.BytesIO()
        _write_features(buffer, value)
        data = buffer.getvalue()
        path, meta_path = self._paths(key)
        with atomic_write(path, "wb") as fh:
            fh.write(data)
        write_json(
            meta_path,
            {
                "feature": name,
                "seconds": seconds,
                "key": key,
                "settings": {k: self.settings[k] for k in spec.settings},
                "n_samples": len(self.data.data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        )
        self.seconds[name] = seconds
        return value

    def recorded_seconds(self, names):
        """Seconds each feature took when it was computed (now or by an earlier run)."""
        out = {}
        for name in sorted(names):
            spec = FEATURES[name]
            for n in [name] + ([spec.source] if spec.source else []):
                if n in self.seconds:
                    out[n] = self.seconds[n]
                    continue
                meta = self._paths(self.key(n))[1]
                try:
                    out[n] = json.loads(meta.read_text(encoding="utf-8"))["seconds"]
                except FileNotFoundError:
                    pass
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    warnings.warn(
                        f"unreadable feature timing {meta}: {exc}; not reported",
                        RuntimeWarning,
                        stacklevel=2,
                    )
        return out


def _result_path(root, protocol, model, target, split, key):
    return Path(root) / "results" / protocol / model / target / f"{split}-{key}.json"


def run_benchmark(
    models=("rf_magpie",),
    protocols=("cv",),
    targets=TARGETS,
    *,
    results_dir="skecd_results",
    settings=None,
    n_splits=5,
    min_count=DEFAULT_LOEO_MIN_COUNT,
    max_samples=None,
    data="bundled",
    fit=True,
    progress=True,
):
    """Fit and score every (model, target, protocol, split), reusing cached results.

    Parameters
    ----------
    models : sequence of str
        Keys of :data:`skecd.benchmark.MODELS`.
    protocols : sequence of {"cv", "loeo", "transfer", "locso"}
        See :func:`make_splits`.
    targets : sequence of {"K_VRH", "G_VRH"}
        One model is fitted per target, except the models of ``joint_targets``
        (see :data:`MODELS`), fitted once on all of them.
    results_dir : str or path-like, default="skecd_results"
    settings : dict, default=None
        Overrides of :data:`skecd.benchmark.DEFAULT_SETTINGS`.
    n_splits : int, default=5
        Folds of the ``cv`` protocol.
    min_count : int, default=DEFAULT_LOEO_MIN_COUNT
        Threshold of the ``loeo`` and ``locso`` protocols (see :func:`loeo_elements`
        and :func:`locso_systems`).
    max_samples : int, default=None
        Use a seeded random subset of the materials.
    data : {"bundled", "extended"}, default="bundled"
        The data set (see :data:`DATA_SETS` and :func:`load_benchmark_data`).
    fit : bool, default=True
        If False, only collect the results already in ``results_dir`` (for a report
        while a run is going on); the others are listed in ``missing``.
    progress : bool, default=True
        Show progress bars and messages.

    Returns
    -------
    sklearn.utils.Bunch
        ``results`` (list of dict, one per split, as written to disk),
        ``n_fitted`` and ``n_cached`` (how many were computed now and reused),
        ``missing`` (``(protocol, model, target, split)`` not computed, with ``fit=False``),
        ``feature_seconds`` (dict), ``settings``, ``data`` (the data set).
    """
    plan = _plan_benchmark(
        models,
        protocols,
        targets,
        settings=settings,
        n_splits=n_splits,
        min_count=min_count,
        max_samples=max_samples,
        data=data,
    )
    return _run_plan(plan, results_dir, fit=fit, progress=progress)


def _plan_benchmark(
    models=("rf_magpie",),
    protocols=("cv",),
    targets=TARGETS,
    *,
    settings=None,
    n_splits=5,
    min_count=DEFAULT_LOEO_MIN_COUNT,
    max_samples=None,
    data="bundled",
):
    """Check the arguments of :func:`run_benchmark`, load the data and make the splits.

    Nothing is computed or written: every ``ValueError`` about the arguments
    comes from here, before any feature is computed.

    Returns
    -------
    sklearn.utils.Bunch
        ``models``, ``protocols``, ``targets``, ``settings``, ``data``, ``splits``.
    """
    s = {**DEFAULT_SETTINGS, **(settings or {})}
    unknown = set(s) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}")
    for m in models:
        if m not in MODELS:
            raise ValueError(f"unknown model {m!r}; known: {sorted(MODELS)}")
    for p in protocols:
        if p not in PROTOCOLS:
            raise ValueError(f"unknown protocol {p!r}; known: {PROTOCOLS}")
    if not models or not protocols or not targets:
        raise ValueError("models, protocols and targets must each name at least one")
    data = load_benchmark_data(max_samples=max_samples, seed=s["seed"], data=data)
    for t in targets:
        if t not in data.target_names:
            raise ValueError(f"unknown target {t!r}; known: {data.target_names}")
    if "cv" in protocols and not 2 <= n_splits <= len(data.material_ids):
        raise ValueError(
            f"n_splits must be between 2 and the {len(data.material_ids)} materials, got {n_splits}"
        )
    splits = {
        p: make_splits(
            p,
            data.formulas,
            n_splits=n_splits,
            seed=s["seed"],
            min_count=min_count,
            space_groups=data.space_groups,
        )
        for p in protocols
    }
    return Bunch(
        models=list(models),
        protocols=list(protocols),
        targets=list(targets),
        settings=s,
        data=data,
        splits=splits,
    )


def _run_plan(plan, results_dir, *, fit=True, progress=True):
    """Fit and score the splits of a :func:`_plan_benchmark` plan (see :func:`run_benchmark`)."""
    if fit:
        for leftover in remove_partial_files(results_dir):
            warnings.warn(
                f"removed {leftover}, left by an interrupted run", RuntimeWarning, stacklevel=2
            )
    s, data = plan.settings, plan.data
    cache = _FeatureCache(results_dir, data, s, verbose=progress)
    fingerprints = {m: estimator_fingerprint(m, s) for m in plan.models}  # once, not per split
    # One unit per fit: a model of ``joint_targets`` learns every target of the
    # plan at once, the others one target at a time.
    units = [
        (p, m, tuple(plan.targets) if MODELS[m].joint_targets else (t,), split)
        for m in plan.models
        for p in plan.protocols
        for t in (plan.targets[:1] if MODELS[m].joint_targets else plan.targets)
        for split in plan.splits[p]
    ]
    results, missing, n_fitted, n_cached = [], [], 0, 0
    bar = tqdm(units, desc="benchmark", unit="fit", disable=not progress)
    for protocol, model, targets, (split, train, test) in bar:
        bar.set_postfix_str(f"{model} {'+'.join(targets)} {protocol}:{split}")
        keys, records = {}, {}
        for target in targets:
            keys[target] = _result_key(
                model, target, protocol, split, data, test, len(train), cache, s, targets
            )
            record = _read_result(
                _result_path(results_dir, protocol, model, target, split, keys[target]), fit
            )
            if record is not None and _same_estimator(record, fingerprints[model], fit):
                records[target] = record
        if len(records) == len(targets):
            results += [records[t] for t in targets]
            n_cached += len(targets)
        elif not fit:
            results += list(records.values())
            n_cached += len(records)
            missing += [(protocol, model, t, split) for t in targets if t not in records]
        else:  # a joint fit missing one of its targets is refitted whole
            fitted = _fit_split(model, targets, protocol, split, train, test, keys, data, cache, s)
            for target, record in zip(targets, fitted, strict=True):
                write_json(
                    _result_path(results_dir, protocol, model, target, split, keys[target]),
                    record,
                )
            results += fitted
            n_fitted += len(targets)
    return Bunch(
        results=results,
        n_fitted=n_fitted,
        n_cached=n_cached,
        missing=missing,
        feature_seconds=cache.recorded_seconds(
            {f for m in plan.models for f in MODELS[m].features}
        ),
        settings=s,
        data=data,
        splits={p: [name for name, _, _ in sp] for p, sp in plan.splits.items()},
    )


def _same_estimator(record, fingerprint, fit):
    """False (with a warning) when ``record`` was fitted by an estimator unlike today's
    (``fingerprint``, of :func:`estimator_fingerprint`).

    Records written before fingerprints were kept have none and are reused.
    """
    recorded = record.get("estimator")
    if recorded is None or recorded == fingerprint:
        return True
    where = f"{record['protocol']} {record['model']} {record['target']} {record['split']}"
    action = "it is refitted" if fit else "it is left out: rerun without --report-only"
    warnings.warn(
        f"benchmark result {where} was fitted with other estimator parameters than "
        f"{record['model']!r} has now (a changed default?); {action}",
        RuntimeWarning,
        stacklevel=3,
    )
    return False


def _result_key(model, target, protocol, split, data, test, n_train, cache, s, targets):
    """Hash of everything one split's result depends on.

    ``targets``: the targets fitted together with ``target``; part of the key of the
    models of ``joint_targets`` only (the others' keys are as they always were).
    """
    parts = {
        "model": model,
        "target": target,
        "protocol": protocol,
        "split": split,
        "test": [data.material_ids[i] for i in test],
        "n_train": n_train,
        "data": cache.data_key,
        "settings": settings_key(MODELS[model], s),
    }
    if MODELS[model].joint_targets:
        parts["targets_fitted"] = list(targets)
    return _digest(parts)


def _fit_split(model, targets, protocol, split, train, test, keys, data, cache, s):
    """Fit one model on one split and return a result record per target (with checksums).

    ``targets`` are learnt by one fit: all of the run's for a model of
    ``joint_targets`` (each record then names them in ``targets_fitted`` and carries
    the seconds of that one fit), else a single one.
    """
    spec = MODELS[model]
    arrays = [cache.get(f) for f in spec.features]
    y = data.target[:, [data.target_names.index(t) for t in targets]]
    estimator, X_train, X_test = fold_inputs(spec, s, arrays, data, train, test)
    start = time.perf_counter()
    # one target (every model but a joint one, or a one-target run): a 1-D y
    estimator.fit(X_train, y[train, 0] if len(targets) == 1 else y[train])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = np.asarray(estimator.predict(X_test))
    predict_seconds = time.perf_counter() - start
    y_pred = y_pred.reshape(len(test), -1)
    if y_pred.shape[1] != len(targets):
        raise ValueError(
            f"model {model!r} predicted {y_pred.shape[1]} columns for the {len(targets)} "
            f"target(s) {list(targets)} it was fitted on"
        )
    shared = {  # the same in the record of every target of this fit
        "n_train": int(len(train)),
        "material_ids": [data.material_ids[i] for i in test],
        "formulas": [data.formulas[i] for i in test],
        "crystal_systems": [data.crystal_systems[i] for i in test],
        "space_groups": [int(data.space_groups[i]) for i in test],
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "settings": settings_key(spec, s),
        "estimator": estimator_fingerprint(model, s),
        "skecd_version": __version__,
        "machine": machine_description(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if spec.joint_targets:
        shared["targets_fitted"] = list(targets)
    records = []
    for j, target in enumerate(targets):
        record = {
            "model": model,
            "label": spec.label,
            "target": target,
            "protocol": protocol,
            "split": split,
            "key": keys[target],
            "y_true": y[test, j].tolist(),
            "y_pred": y_pred[:, j].astype(np.float64).tolist(),
            "metrics": regression_metrics(y[test, j], y_pred[:, j]),
            **shared,
        }
        # JSON round trip first, so the checksum is of exactly what is written and read
        record = json.loads(json.dumps(record, default=_json_default))
        record["checksum"] = _record_checksum(record)
        records.append(record)
    return records


def machine_description():
    """A one-line description of this machine (CPU model and count, platform)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {n} CPU cores available, {platform.system()} {platform.release()}"
