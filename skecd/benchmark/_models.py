"""The benchmark's model registry: every model of the paper's tables, by name.

A model is a set of *features* (stateless transformers from a list of
:class:`~skecd.io.ChargeDensity` to arrays) followed by a learned *estimator*.
The runner computes each feature once for the whole data set and caches it (see
:mod:`skecd.benchmark._runner`); :func:`make_model` joins the two parts into one
scikit-learn ``Pipeline`` that takes the densities themselves, for users who want
a model outside the benchmark.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import FeatureUnion, Pipeline

from .._settings import default_settings
from ..models import (
    CGCNNRegressor,
    ECD3DCNNRegressor,
    FusionRegressor,
    InvariantECDRegressor,
    InvariantFusionRegressor,
    MagpieCNNRegressor,
    SEProjectedCNNRegressor,
    feature_columns,
    interstitial_columns,
    make_interstitial_late_fusion,
    make_late_fusion,
    make_radial_ensemble,
    make_radial_late_fusion,
)
from ..models._late import CORE_RADIUS, INTERSTITIAL_RADII
from ..preprocessing import (
    AxisProjector,
    ChargeDensityDescriptor,
    ChargeDensityVoxelizer,
    CrystalGraphFeaturizer,
    LocalDensityFeaturizer,
    MagpieFeaturizer,
    RadialDensityFeaturizer,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "OPTIONAL_SETTINGS",
    "FEATURES",
    "cached_feature",
    "GROUPS",
    "MODELS",
    "RECOMMENDED",
    "make_model",
    "settings_key",
]

#: Settings of a full run (each model reads only the ones it lists in ``settings``);
#: defined once, with their types, ranges and help, in :data:`skecd._settings.SETTINGS`.
#: ``epochs`` None: each network class's own; ``patience`` None: every CNN trains its
#: ``epochs``, an int: early stopping on 10% of the training split held out, after that
#: many epochs without a better validation loss, keeping the best epoch's weights.
DEFAULT_SETTINGS = default_settings()

#: Settings added after results were published: they enter a result's cache key only
#: when set, so that the results computed before they existed keep their keys.
OPTIONAL_SETTINGS = ("patience",)


@dataclass(frozen=True)
class FeatureSpec:
    """A stateless featuriser the runner computes once per data set and caches.

    Parameters
    ----------
    name : str
    make : callable
        ``make(settings) -> transformer``.
    settings : tuple of str
        Keys of the settings that change its output (part of the cache key).
    source : str or None
        Name of the feature whose output it transforms (None: the densities).
    """

    name: str
    make: Callable
    settings: tuple = ()
    source: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A model of the benchmark.

    Parameters
    ----------
    name : str
        Command-line name (``--models``).
    label : str
        Name in the tables (the paper's where it has one).
    features : tuple of str
        Names in :data:`FEATURES`; several are joined column-wise (``hstack``)
        unless ``combine`` says otherwise.
    make_estimator : callable
        ``make_estimator(settings) -> estimator`` fitted on the features.
    settings : tuple of str
        Settings that change its results (part of each result's cache key).
    quick : bool
        Part of ``skecd benchmark --quick``.
    combine : str
        ``"hstack"``, or ``"densities"``: the estimator takes the densities
        themselves and ``make_estimator(settings, cached)`` accepts transformers
        that return the cached features (see :func:`precomputed`).
    joint_targets : bool
        The estimator learns every target of a run at once, as one model with
        ``y`` of shape ``(n_samples, n_targets)`` (the networks of the invariant
        recipe, whose outputs K_VRH and G_VRH share one network by design); the
        runner then fits it once per split, not once per target.
    group : str
        One of :data:`GROUPS`: ``"recommended"`` (the one model to use),
        ``"paper"`` (Zhao et al.'s networks), ``"baseline"`` or ``"research"``.
    code_robust : bool
        Its predictions for a VASP CHGCAR and a GPAW density of one crystal agree
        within its cross-validated error (``benchmarks/vasp_vs_gpaw.py``): ``skecd
        predict`` does not warn about densities of another code.
    named_columns : bool
        The estimator selects its columns by name (:func:`skecd.models.feature_columns`):
        its ``X`` is a DataFrame named ``"<feature>__<name>"`` as the FeatureUnion of
        ``features`` names it (``set_output(transform="pandas")``).
    """

    name: str
    label: str
    features: tuple
    make_estimator: Callable
    settings: tuple = ()
    quick: bool = False
    combine: str = "hstack"
    joint_targets: bool = False
    description: str = field(default="", compare=False)
    group: str = "research"
    code_robust: bool = False
    named_columns: bool = False


def _random_forest(s):
    return RandomForestRegressor(
        n_estimators=s["n_estimators"], random_state=s["seed"], n_jobs=s["n_jobs"]
    )


def _net_params(s):
    params = {"batch_size": s["batch_size"], "random_state": s["seed"], "device": s["device"]}
    if s["epochs"] is not None:  # None keeps the class's own max_epochs (and its recipe)
        params["max_epochs"] = s["epochs"]
    return params


def _early_stopping(s):
    """``_net_params`` plus skorch's early stopping when ``s["patience"]`` is set."""
    params = _net_params(s)
    if s.get("patience") is not None:
        from skorch.callbacks import EarlyStopping
        from skorch.dataset import ValidSplit

        params["train_split"] = ValidSplit(0.1, random_state=s["seed"])
        params["callbacks"] = [
            ("early_stopping", EarlyStopping(patience=s["patience"], load_best=True))
        ]
    return params


def settings_key(spec, s):
    """The settings of ``s`` that ``spec``'s results depend on (for cache keys)."""
    return {k: s.get(k) for k in spec.settings if not (k in OPTIONAL_SETTINGS and s.get(k) is None)}


def _invariant_params(s):
    """The invariant networks keep their own ``max_epochs`` (300): their epochs cost a
    fraction of a second, and ``--epochs`` sizes the budget of the CNNs."""
    params = _net_params(s)
    params.pop("max_epochs", None)
    return params


def _columns(*names):
    """Column groups named as the FeatureUnion of a model's ``features`` names its columns."""
    return {name: feature_columns(name) for name in names}


def _late_fusion(s):
    """make_late_fusion's network and forest, on the runner's named columns."""
    columns = {**_columns("descriptors", "magpie"), "local": feature_columns("local_flat")}
    late = make_late_fusion(
        n_estimators=s["n_estimators"], random_state=s["seed"], n_jobs=s["n_jobs"], columns=columns
    )
    params = _invariant_params(s)
    params.pop("random_state")
    return late.set_params(**{f"network__net__{k}": v for k, v in params.items()})


def _radial_ensemble(s):
    """make_radial_ensemble's two networks, on the runner's radial + descriptors columns."""
    late = make_radial_ensemble(random_state=s["seed"], columns=_columns("radial", "descriptors"))
    for net in ("log__net", "sqrt__net__regressor"):
        late.set_params(**{f"{net}__batch_size": s["batch_size"], f"{net}__device": s["device"]})
    return late


def _radial_late_fusion(s):
    """make_radial_late_fusion's network and forest, on the runner's radial + descriptors +
    Magpie columns."""
    late = make_radial_late_fusion(
        s["n_estimators"],
        s["seed"],
        s["n_jobs"],
        columns=_columns("radial", "descriptors", "magpie"),
    )
    late.set_params(network__net__batch_size=s["batch_size"], network__net__device=s["device"])
    return late


def _interstitial_late_fusion(s):
    """make_interstitial_late_fusion's network and forest, on the runner's columns."""
    late = make_interstitial_late_fusion(
        s["n_estimators"], s["seed"], s["n_jobs"], columns=interstitial_columns()
    )
    late.set_params(network__net__batch_size=s["batch_size"], network__net__device=s["device"])
    return late


def _fusion(s, cached=None):
    """FusionRegressor with the CNN+Magpie and 3D-CNN+ECD branches of the registry.

    ``cached``: two transformers (Magpie, voxels) replacing the featurisers of the
    branches, so that the runner's features computed once are reused.
    """
    if cached is None:
        cached = (FEATURES["magpie"].make(s), FEATURES["voxels"].make(s))
    magpie, ecd = cached
    net = _early_stopping(s)  # the branches and the head each stop on their own held-out tenth
    return FusionRegressor(
        magpie_branch=Pipeline([("features", magpie), ("net", MagpieCNNRegressor(**net))]),
        ecd_branch=Pipeline([("features", ecd), ("net", ECD3DCNNRegressor(**net))]),
        **net,
    )


class _Precomputed(TransformerMixin, BaseEstimator):
    """Rows of features computed once for a whole data set, looked up by sample.

    Not public: the runner puts it in place of a stateless featuriser inside
    estimators that take densities themselves (the fusion model), so that folds
    reuse the cached features instead of voxelising again. ``index`` maps
    ``id(sample)`` to its row of ``features``.
    """

    def __init__(self, index=None, features=None):
        self.index = index
        self.features = features

    def fit(self, X, y=None):
        self.fitted_ = True  # nothing is learnt; marks the transformer as fitted
        return self

    def transform(self, X):
        try:
            rows = [self.index[id(x)] for x in X]
        except KeyError as exc:
            raise ValueError("a sample is not one of the precomputed data set") from exc
        return self.features[rows]


def precomputed(spec, arrays, samples):
    """Transformers that look the cached ``arrays`` up for the objects in ``samples``."""
    index = {id(x): i for i, x in enumerate(samples)}
    return tuple(_Precomputed(index, a) for a in arrays)


FEATURES = {
    "magpie": FeatureSpec(
        "magpie",
        make=lambda s: MagpieFeaturizer(),
    ),
    "voxels": FeatureSpec(
        "voxels",
        make=lambda s: ChargeDensityVoxelizer(
            grid_size=s["grid"], frame=s["frame"], n_jobs=s["n_jobs"]
        ),
        settings=("grid", "frame"),
    ),
    "views": FeatureSpec(
        "views",
        make=lambda s: AxisProjector(),
        settings=("grid", "frame"),
        source="voxels",
    ),
    "descriptors": FeatureSpec(
        "descriptors",
        make=lambda s: ChargeDensityDescriptor(),
    ),
    "local": FeatureSpec(
        "local",
        make=lambda s: LocalDensityFeaturizer(n_jobs=s["n_jobs"]),
    ),
    "local_flat": FeatureSpec(
        "local_flat",
        make=lambda s: LocalDensityFeaturizer(flatten=True, n_jobs=s["n_jobs"]),
    ),
    "radial": FeatureSpec(
        "radial",
        make=lambda s: RadialDensityFeaturizer(n_jobs=s["n_jobs"]),
    ),
    "radial_interstitial": FeatureSpec(
        "radial_interstitial",
        make=lambda s: RadialDensityFeaturizer(
            radii=INTERSTITIAL_RADII, core_radius=CORE_RADIUS, n_jobs=s["n_jobs"]
        ),
    ),
    "graphs": FeatureSpec(
        "graphs",
        make=lambda s: CrystalGraphFeaturizer(),
    ),
}

_NET = ("epochs", "batch_size", "seed")
_STOPPED = _NET + ("patience",)  # networks that can stop early (SkecdNetRegressor)

MODELS = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "interstitial_late_fusion",
            "Interstitial-density net + RF+descriptors+Magpie",
            features=("radial_interstitial", "descriptors", "magpie"),
            make_estimator=_interstitial_late_fusion,
            settings=("batch_size", "seed", "n_estimators"),
            joint_targets=True,
            named_columns=True,
            group="recommended",
            code_robust=True,
            description="mean of a network on the density between the atoms (radial "
            "profiles with 1 A cores left out, code-robust descriptors) and a forest on "
            "those descriptors and Magpie: the same for VASP and GPAW densities",
        ),
        ModelSpec(
            "rf_magpie",
            "RF+Magpie",
            features=("magpie",),
            make_estimator=_random_forest,
            settings=("n_estimators", "seed"),
            quick=True,
            group="baseline",
            description="random forest on matminer's Magpie composition features",
        ),
        ModelSpec(
            "cnn_magpie",
            "CNN+Magpie",
            features=("magpie",),
            make_estimator=lambda s: MagpieCNNRegressor(**_early_stopping(s)),
            settings=_STOPPED,
            group="paper",
            description="2D CNN on the Magpie vector laid out as a square image",
        ),
        ModelSpec(
            "cnn3d_ecd",
            "3D-CNN+ECD",
            features=("voxels",),
            make_estimator=lambda s: ECD3DCNNRegressor(**_early_stopping(s)),
            settings=_STOPPED + ("grid", "frame"),
            quick=True,
            group="paper",
            description="3D CNN on the voxelised charge density",
        ),
        ModelSpec(
            "invariant_ecd",
            "Invariant ECD net",
            features=("local",),
            make_estimator=lambda s: InvariantECDRegressor(**_invariant_params(s)),
            settings=("batch_size", "seed"),
            joint_targets=True,
            description="invariant network on the quantiles of local density descriptors "
            "(log targets, 3-member ensemble, its own 300 epochs)",
        ),
        ModelSpec(
            "invariant_ecd_descriptors",
            "Invariant ECD net + density descriptors",
            features=("local_flat", "descriptors"),
            make_estimator=lambda s: InvariantFusionRegressor(**_invariant_params(s)),
            settings=("batch_size", "seed"),
            joint_targets=True,
            description="invariant density network joined end to end with whole-cell "
            "density descriptors (charge density only, no composition)",
        ),
        ModelSpec(
            "radial_ecd",
            "Radial-profile density net + density descriptors",
            features=("radial", "descriptors"),
            make_estimator=lambda s: InvariantFusionRegressor(
                **_invariant_params(s),
                criterion=torch.nn.L1Loss,
                module__point_channels=0,
                module__n_points=0,
            ),
            settings=("batch_size", "seed"),
            joint_targets=True,
            description="network of the invariant recipe on the density's radial profiles "
            "around the atoms and whole-cell density descriptors (charge density only), "
            "trained with the L1 loss on the log moduli",
        ),
        ModelSpec(
            "radial_ensemble",
            "Radial-profile density nets, log + sqrt targets",
            features=("radial", "descriptors"),
            make_estimator=_radial_ensemble,
            settings=("batch_size", "seed"),
            joint_targets=True,
            named_columns=True,
            description="mean of two networks of the invariant recipe (charge density only): "
            "one on the radial profiles learning log10 of the moduli, one on the profiles "
            "and density descriptors learning their square root",
        ),
        ModelSpec(
            "radial_late_fusion",
            "Late fusion (radial-profile net + RF+descriptors+Magpie)",
            features=("radial", "descriptors", "magpie"),
            make_estimator=_radial_late_fusion,
            settings=("batch_size", "seed", "n_estimators"),
            joint_targets=True,
            named_columns=True,
            description="mean of the radial-profile density network (radial_ecd) and the "
            "random forest on density descriptors and Magpie features",
        ),
        ModelSpec(
            "invariant_fusion",
            "Invariant fusion (ECD+descriptors+Magpie)",
            features=("local_flat", "descriptors", "magpie"),
            make_estimator=lambda s: InvariantFusionRegressor(**_invariant_params(s)),
            settings=("batch_size", "seed"),
            joint_targets=True,
            description="invariant density network joined end to end with density "
            "descriptors and Magpie features",
        ),
        ModelSpec(
            "late_fusion",
            "Late fusion (invariant fusion + RF+descriptors+Magpie)",
            features=("local_flat", "descriptors", "magpie"),
            make_estimator=_late_fusion,
            settings=("batch_size", "seed", "n_estimators"),
            joint_targets=True,
            named_columns=True,
            description="mean of the invariant fusion network and the random forest on "
            "density descriptors and Magpie features",
        ),
        ModelSpec(
            "cnn2d_ecd",
            "2D-CNN+ECD (SE)",
            features=("views",),
            make_estimator=lambda s: SEProjectedCNNRegressor(**_early_stopping(s)),
            settings=_STOPPED + ("grid", "frame"),
            group="paper",
            description="2D CNN with squeeze-and-excitation on the three axis views",
        ),
        ModelSpec(
            "fusion",
            "Fusion (Magpie+ECD)",
            features=("magpie", "voxels"),
            make_estimator=_fusion,
            settings=_STOPPED + ("grid", "frame"),
            combine="densities",
            group="paper",
            description="Magpie branch and ECD branch joined before the dense layers",
        ),
        ModelSpec(
            "rf_descriptors",
            "RF+descriptors",
            features=("descriptors",),
            make_estimator=_random_forest,
            settings=("n_estimators", "seed"),
            quick=True,
            group="baseline",
            description="random forest on physical descriptors of the density",
        ),
        ModelSpec(
            "rf_descriptors_magpie",
            "RF+descriptors+Magpie",
            features=("descriptors", "magpie"),
            make_estimator=_random_forest,
            settings=("n_estimators", "seed"),
            group="baseline",
            description="random forest on density descriptors and Magpie features",
        ),
        ModelSpec(
            "cgcnn",
            "CGCNN",
            features=("graphs",),
            make_estimator=lambda s: CGCNNRegressor(**_early_stopping(s)),
            settings=_STOPPED,
            group="baseline",
            description="crystal graph convolutional network (Xie and Grossman 2018)",
        ),
    ]
}


#: The model to use: the default of ``skecd predict`` and ``skecd train``, chosen on
#: every protocol of the benchmark (docs, "Which model to use").
RECOMMENDED = "interstitial_late_fusion"

#: Groups of :data:`MODELS`, in the order ``--list-models`` shows them.
GROUPS = {
    "recommended": "the one model to use",
    "paper": "the networks of Zhao et al.",
    "baseline": "composition, descriptor and crystal-graph baselines",
    "research": "variants kept for the published comparisons",
}


def cached_feature(name, samples, ids, settings, cache=None):
    """Feature ``name`` of ``samples`` (material ``ids``), read from or written to ``cache``.

    The file is ``<cache>/<name>-<key>.npy``, ``key`` a hash of the ids and of the
    settings the feature depends on; plain ``.npy`` (loaded without pickle), written
    atomically. A feature that is not a numeric array (crystal graphs) is not cached.

    Parameters
    ----------
    name : str
        A key of :data:`FEATURES` computed from the samples (no ``source``).
    samples : list
        The densities.
    ids : sequence of str
        Their material ids, in order.
    settings : dict
        Settings (:data:`DEFAULT_SETTINGS` keys).
    cache : path-like, default=None
        Directory of the cache; None computes without caching.

    Returns
    -------
    ndarray or list
    """
    import hashlib
    import json
    from pathlib import Path

    spec = FEATURES[name]
    text = json.dumps([list(ids), {k: settings.get(k) for k in spec.settings}], default=str)
    path = None
    if cache is not None:
        key = hashlib.sha256(text.encode()).hexdigest()[:12]
        path = Path(cache) / f"{name}-{key}.npy"
        if path.is_file():
            return np.load(path, allow_pickle=False)
    value = spec.make(settings).fit_transform(samples)
    if path is not None and isinstance(value, np.ndarray) and value.dtype != object:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.stem}.{os.getpid()}.npy")
        np.save(part, value, allow_pickle=False)
        os.replace(part, path)
    return value


def _feature_pipeline(name, settings):
    spec = FEATURES[name]
    steps = []
    while spec is not None:
        steps.insert(0, (spec.name, spec.make(settings)))
        spec = FEATURES[spec.source] if spec.source else None
    return steps[0][1] if len(steps) == 1 else Pipeline(steps)


def make_model(name, **settings):
    """Return model ``name`` as one scikit-learn estimator taking charge densities.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS` (``skecd benchmark --list-models`` lists them).
    **settings
        Overrides of :data:`DEFAULT_SETTINGS` (``grid``, ``epochs``, ...).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Featurisers then the estimator; ``fit(X, y)`` takes a list of
        :class:`~skecd.io.ChargeDensity` (or paths) and moduli in GPa.

    Examples
    --------
    >>> from skecd.benchmark import make_model
    >>> make_model("rf_magpie", n_estimators=10).steps[-1][0]
    'estimator'
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULT_SETTINGS)}")
    spec = MODELS[name]
    s = {**DEFAULT_SETTINGS, **settings}
    if spec.combine == "densities":
        return spec.make_estimator(s)
    if len(spec.features) == 1:
        featurizer = _feature_pipeline(spec.features[0], s)
    else:
        featurizer = FeatureUnion([(f, _feature_pipeline(f, s)) for f in spec.features])
        if spec.named_columns:
            featurizer.set_output(transform="pandas")
    return Pipeline([("features", featurizer), ("estimator", spec.make_estimator(s))])


def feature_names(spec, settings, samples):
    """The column names of model ``spec``'s features, or None if it selects by position.

    The names of :func:`make_model`'s FeatureUnion (``"<feature>__<name>"``), fitted on
    the first of ``samples`` (Magpie knows its names once fitted).
    """
    if not spec.named_columns:
        return None
    s = {**DEFAULT_SETTINGS, **settings}
    union = FeatureUnion([(f, _feature_pipeline(f, s)) for f in spec.features])
    return union.fit(samples[:1]).get_feature_names_out()


def combine_features(spec, arrays, index=None, names=None):
    """Join the cached feature arrays of ``spec`` (rows ``index``) into the estimator's X.

    ``names``: the columns' names (:func:`feature_names`); given, X is a DataFrame.
    """
    parts = [a if index is None else _take(a, index) for a in arrays]
    if len(parts) == 1:
        return parts[0]
    X = np.hstack([np.asarray(p, dtype=np.float64).reshape(len(p), -1) for p in parts])
    if names is None:
        return X
    import pandas as pd

    if len(names) != X.shape[1]:
        raise ValueError(
            f"model {spec.name!r}: its features {list(spec.features)} have {X.shape[1]} "
            f"columns but {len(names)} names"
        )
    return pd.DataFrame(X, columns=names)


def fold_inputs(spec, settings, arrays, data, train, test):
    """Return ``(estimator, X_train, X_test)`` of model ``spec`` for one split.

    ``arrays`` are the cached features of ``spec.features`` for the whole data set.
    A model that takes the densities themselves (``combine="densities"``) gets
    featurisers that look the cached features up, so nothing is recomputed per fold.
    """
    if spec.combine == "densities":
        estimator = clone(spec.make_estimator(settings, precomputed(spec, arrays, data.data)))
        return estimator, [data.data[i] for i in train], [data.data[i] for i in test]
    estimator = clone(spec.make_estimator(settings))
    names = feature_names(spec, settings, data.data)
    return (
        estimator,
        combine_features(spec, arrays, train, names),
        combine_features(spec, arrays, test, names),
    )


def _take(a, index):
    if isinstance(a, np.ndarray):
        return a[index]
    return [a[i] for i in index]
