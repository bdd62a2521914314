"""Fit a model of the benchmark registry on a labelled set and describe it (``skecd train``).

The featurisers of the registry are stateless, so each feature is computed once
for the whole set (as the benchmark runner does) and the folds of the
cross-validation, the validation split and the final fit reuse the arrays; the
saved model is still one estimator that takes densities (or structures) itself.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.model_selection import KFold, train_test_split
from sklearn.multioutput import MultiOutputRegressor
from skorch import NeuralNet
from tqdm.auto import tqdm

from ..datasets import TARGET_NAMES
from ..models import ConformalIntervalRegressor
from ._data import coverage, dataset_hash, training_data

__all__ = ["DEFAULT_MODEL", "needs_density", "train_model"]

#: The recommended model (skecd.benchmark.RECOMMENDED): the default of skecd train.
DEFAULT_MODEL = "interstitial_late_fusion"  # skecd.benchmark.RECOMMENDED (tested)


def _networks(estimator):
    """Parameter paths of the skorch networks among ``estimator``'s parameters."""
    return [k for k, v in estimator.get_params(deep=True).items() if isinstance(v, NeuralNet)]


def needs_density(estimator):
    """Whether a model reads charge densities (False: a structure is enough).

    Parameters
    ----------
    estimator : estimator

    Returns
    -------
    bool
        True if any skecd featuriser in it other than the Magpie and crystal-graph
        featurisers (which take structures) is present.
    """
    from .. import preprocessing

    # Exact types: the structure featurisers share a base class with the density ones.
    density_types = {
        getattr(preprocessing, n)
        for n in preprocessing.__all__
        if isinstance(getattr(preprocessing, n), type)
        and getattr(getattr(preprocessing, n), "_sample_kind", "density") == "density"
        and n != "BaseSampleFeaturizer"
    }
    seen = []

    def walk(obj):
        if type(obj) in density_types:
            seen.append(obj)
        if hasattr(obj, "get_params"):
            for v in obj.get_params(deep=False).values():
                walk(v)
            for k, v in vars(obj).items():
                if k.endswith("_") and not k.startswith("_"):
                    walk(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v)

    walk(estimator)
    return bool(seen)


def _early_stopping(estimator, valid_fraction, patience, seed, progress):
    """Give every network of ``estimator`` a validation split and early stopping."""
    from skorch.callbacks import EarlyStopping, ProgressBar
    from skorch.dataset import ValidSplit

    params = {}
    for path in _networks(estimator):
        callbacks = []
        if patience:
            params[f"{path}__train_split"] = ValidSplit(valid_fraction, random_state=seed)
            callbacks.append(EarlyStopping(patience=patience, load_best=True))
        if progress:
            callbacks.append(ProgressBar())
        params[f"{path}__callbacks"] = callbacks or None
    return estimator.set_params(**params) if params else estimator


class _Plan:
    """How to build and fit model ``name``: features computed once, then the estimator."""

    def __init__(self, name, settings, data, progress):
        from ..benchmark._models import DEFAULT_SETTINGS, MODELS

        if name not in MODELS:
            raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}")
        unknown = set(settings) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValueError(
                f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULT_SETTINGS)}"
            )
        self.spec = MODELS[name]
        self.settings = {**DEFAULT_SETTINGS, **settings}
        self.data = data
        self.progress = progress
        self.arrays = None
        self.cache = None  # a feature cache directory (train_model's feature_cache)
        self.joint = True  # one estimator of all targets (False: one per target)

    def features(self):
        """Compute the model's features of the whole set once (the runner's cache, in memory)."""
        from ..benchmark._models import FEATURES, cached_feature

        if self.arrays is None:
            done = {}
            for name in self.spec.features:
                chain = []
                f = name
                while f is not None:
                    chain.insert(0, f)
                    f = FEATURES[f].source
                for f in chain:
                    if f not in done:
                        if self.progress:
                            tqdm.write(f"features {f!r} of {len(self.data.samples)} samples ...")
                        if FEATURES[f].source is None:
                            value = cached_feature(
                                f, self.data.samples, self.data.ids, self.settings, self.cache
                            )
                        else:
                            value = (
                                FEATURES[f]
                                .make(self.settings)
                                .fit_transform(done[FEATURES[f].source])
                            )
                        if isinstance(value, np.ndarray) and value.ndim > 2:
                            value = value.astype(np.float32)
                        done[f] = value
            self.arrays = [done[f] for f in self.spec.features]
        return self.arrays

    def make(self):
        """A new, unfitted model of the registry with the plan's settings."""
        from ..benchmark._models import make_model

        return make_model(self.spec.name, **self.settings)

    def fit(self, rows, y):
        """The model fitted on ``rows`` of the targets ``y`` (all columns), joint or not."""
        if self.joint:
            return self.fit_rows(rows, y[rows])
        # One model per target; each is fitted from the shared features, so the
        # MultiOutputRegressor's estimators_ are set here rather than by its fit.
        multi = MultiOutputRegressor(self.make())
        multi.estimators_ = [self.fit_rows(rows, y[rows, j]) for j in range(y.shape[1])]
        return multi

    def predict(self, fitted, rows):
        """Predictions of a model of :meth:`fit` for ``rows``: shape (len(rows), n_targets)."""
        parts = [fitted] if self.joint else fitted.estimators_
        return np.column_stack(
            [np.asarray(self.predict_rows(m, rows)).reshape(len(rows), -1) for m in parts]
        )

    def predict_with_std(self, fitted, rows):
        """Predictions and spreads of a model of :meth:`fit` for ``rows``."""
        from ..models import predict_with_std

        parts = [fitted] if self.joint else fitted.estimators_
        ys, stds = [], []
        for model in parts:
            if self.spec.combine == "densities":
                y, std = predict_with_std(model, [self.data.samples[i] for i in rows])
            else:
                X = self.table(model, rows)
                y, std = predict_with_std(model.steps[-1][1], X)
            ys.append(y)
            stds.append(std)
        return np.hstack(ys), np.hstack(stds)

    def fit_rows(self, rows, y):
        """Return the model (taking samples) fitted on ``rows`` with targets ``y``."""

        model = self.prepare(self.make())
        samples = [self.data.samples[i] for i in rows]
        if self.spec.combine == "densities":
            return model.fit(samples, y)
        # The featurisers learn nothing (the benchmark relies on it too): fit them
        # for their checks, and the estimator on the features computed once.
        model.steps[0][1].fit(samples)
        model.steps[-1][1].fit(self.table(model, rows), y)
        return model

    def table(self, model, rows):
        """The estimator's input for ``rows``: the cached features, named as ``model``'s
        fitted featurisers name them where the estimator selects columns by name."""
        from ..benchmark._models import combine_features

        union = model.steps[0][1]
        names = union.get_feature_names_out() if self.spec.named_columns else None
        return combine_features(self.spec, self.features(), rows, names)

    def predict_rows(self, model, rows):
        """Predictions of a model of :meth:`fit_rows` for ``rows``, from the cached features."""
        if self.spec.combine == "densities":
            return model.predict([self.data.samples[i] for i in rows])
        return model.steps[-1][1].predict(self.table(model, rows))

    prepare = staticmethod(lambda est: est)


def _metrics(y_true, y_pred, names):
    from ..benchmark import regression_metrics

    return {t: regression_metrics(y_true[:, j], y_pred[:, j]) for j, t in enumerate(names)}


def _fold_summary(per_fold, names):
    out = {}
    for t in names:
        keys = ("r2", "rmse", "mae", "log10_mae")
        out[t] = {
            k: {
                "mean": float(np.mean([f[t][k] for f in per_fold])),
                # ddof=1 as the benchmark's tables
                "std": float(np.std([f[t][k] for f in per_fold], ddof=1)),
            }
            for k in keys
        }
    return out


def train_model(
    model=DEFAULT_MODEL,
    data="bundled",
    *,
    targets=TARGET_NAMES,
    cv=0,
    valid_fraction=0.2,
    patience=0,
    joint=None,
    settings=None,
    intervals=True,
    feature_cache=None,
    progress=True,
):
    """Fit a registry model on a labelled set and gather its training metadata.

    Parameters
    ----------
    model : str, default="interstitial_late_fusion"
        A key of :data:`skecd.benchmark.MODELS`.
    data : {"bundled", "extended"} or path-like, default="bundled"
        See :func:`skecd.inference.training_data`.
    targets : sequence of str, default=("K_VRH", "G_VRH")
    cv : int, default=0
        If 2 or more: ``KFold(cv, shuffle=True, random_state=seed)``
        cross-validation (the benchmark's protocol), then a final fit on every
        sample. Otherwise a hold-out validation split of ``valid_fraction``;
        the returned model is the one fitted without it.
    valid_fraction : float, default=0.2
        Hold-out fraction (``cv < 2``) and, for networks with ``patience``,
        the fraction of their training data that early stopping monitors.
    patience : int, default=0
        Early stopping of the networks (skorch ``EarlyStopping`` on a
        ``ValidSplit``); 0 trains every epoch. Must not be negative.
    joint : bool or None, default=None
        One estimator for all targets (True) or one per target in a
        ``MultiOutputRegressor`` (False); None: joint for networks (one network
        of two outputs is half the size), separate otherwise (as the benchmark).
    settings : dict, default=None
        Overrides of :data:`skecd.benchmark.DEFAULT_SETTINGS`.
    intervals : bool, default=True
        With ``cv >= 2``, wrap the model in a
        :class:`~skecd.models.ConformalIntervalRegressor` calibrated on the
        out-of-fold predictions (``predict_interval``; ``skecd predict
        --interval``). Needs positive out-of-fold predictions.
    feature_cache : path-like, default=None
        A directory where the features of the data set are kept as ``.npy`` files
        between runs (keyed by the material ids and the settings): training
        another model of the same features on the same data reuses them.
    progress : bool, default=True
        Progress bars.

    Returns
    -------
    estimator : estimator
        The fitted model, taking densities (or structures, see
        :func:`needs_density`).
    metadata : dict
        Data set and hash, targets, settings, training protocol (with the
        epochs each network ran in the final fit), metrics, coverage, timings.
    predictions : dict
        ``y_true`` and ``y_pred`` (arrays of shape (n, n_targets)) of the
        validation or out-of-fold predictions, for a parity plot.
    """
    settings = dict(settings or {})
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
        raise ValueError(f"patience must be an integer >= 0, got {patience!r}")
    start = time.perf_counter()
    ds = training_data(data, targets)
    plan = _Plan(model, settings, ds, progress)
    plan.cache = feature_cache
    probe = plan.make()
    has_net = bool(_networks(probe))
    density = needs_density(probe)
    if density and any(not hasattr(s, "total") for s in ds.samples):
        raise ValueError(
            f"model {model!r} reads charge densities but the data give structures; compute "
            "their densities first (skecd density) or choose a model that needs none (rf_magpie)"
        )
    plan.joint = has_net if joint is None else bool(joint)
    seed = plan.settings["seed"]
    plan.prepare = lambda est: _early_stopping(
        est, valid_fraction, patience, seed, progress and has_net
    )
    y = ds.target
    n = len(y)
    splits, protocol = _validation_splits(n, cv, valid_fraction, seed, ds.get("groups"))
    estimator, y_pred, y_std, per_fold = _validate(
        plan, splits, y, f"{model} ({protocol['protocol']})"
    )
    tested = np.unique(np.concatenate([t for _, t in splits]))
    if cv >= 2:
        if progress:
            tqdm.write(f"fitting {model} on all {n} samples ...")
        estimator = plan.fit(np.arange(n), y)
        metrics = {"cv": _fold_summary(per_fold, ds.target_names), "folds": per_fold}
    else:  # the model fitted without the validation rows is the one returned
        metrics = {"validation": per_fold[0]}
    training = {**protocol, "patience": patience, "valid_fraction": valid_fraction}
    epochs = _epochs_trained(estimator)
    if epochs:
        training["epochs_trained"] = epochs
    if not plan.joint and len(ds.target_names) == 1:
        estimator = estimator.estimators_[0]
    if cv >= 2 and intervals and np.all(y_pred[tested] > 0):
        # Calibrated intervals from the out-of-fold errors just measured (crepes).
        unfitted = plan.make()
        if not plan.joint and len(ds.target_names) > 1:
            unfitted = MultiOutputRegressor(unfitted)
        estimator = ConformalIntervalRegressor.from_predictions(
            unfitted, estimator, y, y_pred, y_std, cv=int(cv)
        )
        training["intervals"] = {
            "method": "normalised conformal regression (crepes), log moduli, "
            "difficulty = relative spread + 0.01",
            "calibration": f"{int(cv)}-fold out-of-fold predictions",
            "n_calibration": n,
        }
    elif cv >= 2 and intervals:
        warnings.warn(
            f"model {model!r} predicted a non-positive modulus out of fold: saved without "
            "prediction intervals",
            UserWarning,
            stacklevel=2,
        )
    metadata = _metadata(plan, density, training, metrics, start)
    predictions = {
        "y_true": y[tested],
        "y_pred": y_pred[tested],
        "ids": [ds.ids[i] for i in tested],
    }
    return estimator, metadata, predictions


def _metadata(plan, density, training, metrics, start):
    """The training record of a model file (see :func:`train_model`)."""
    ds, y = plan.data, plan.data.target
    return {
        "model": plan.spec.name,
        "label": plan.spec.label,
        "dataset": {
            "name": ds.name,
            "sha256": dataset_hash(ds.ids, y, ds.samples),
            "n": len(y),
            # the training set exactly, so that it can be rebuilt and checked against the
            # hash while the extended data set grows
            "ids": list(ds.ids),
        },
        "targets": list(ds.target_names),
        "joint": plan.joint,
        "needs_density": density,
        # its inputs agree between VASP and GPAW densities (no "other code" warning)
        "code_robust": plan.spec.code_robust,
        "settings": plan.settings,
        "training": training,
        "metrics": metrics,
        "coverage": coverage(ds.structures, ds.sources),
        "target_range": {
            t: [float(y[:, j].min()), float(y[:, j].max())] for j, t in enumerate(ds.target_names)
        },
        "train_seconds": round(time.perf_counter() - start, 1),
    }


def _epochs_trained(estimator):
    """``{network path: epochs run}`` of a fitted model of :meth:`_Plan.fit`.

    Early stopping may end a network before its ``max_epochs``, and a model file
    keeps no training history: the metadata records it.
    """
    parts = estimator.estimators_ if isinstance(estimator, MultiOutputRegressor) else [estimator]
    out = {}
    for i, part in enumerate(parts):
        params = part.get_params(deep=True)
        for path in _networks(part):
            history = getattr(params[path], "history_", None)
            if history is not None:
                out[path if len(parts) == 1 else f"{i}/{path}"] = len(history)
    return out


def _validation_splits(n, cv, valid_fraction, seed, groups=None):
    """``(train, test)`` index pairs of ``cv`` folds or one hold-out split, and their record.

    Rows of equal ``groups`` (the same sample twice) stay on one side of every
    split; the folds are drawn over the distinct groups, so without duplicates
    they are ``KFold(cv, shuffle=True, random_state=seed)``'s over the rows.
    """
    if cv != 0 and (isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2):
        raise ValueError(f"cv must be 0 (a hold-out split) or an integer >= 2, got {cv!r}")
    if groups is None:
        groups = range(n)
    first = {}
    inverse = np.array([first.setdefault(g, len(first)) for g in groups])
    n_groups = len(first)
    protocol = {"random_state": seed}
    if n_groups < n:
        protocol["duplicates_grouped"] = int(n - n_groups)

    def rows(group_index):
        return np.flatnonzero(np.isin(inverse, group_index))

    if cv >= 2:
        if cv > n_groups:
            raise ValueError(f"cv={cv} folds but only {n_groups} distinct samples")
        folds = KFold(cv, shuffle=True, random_state=seed).split(np.arange(n_groups))
        splits = [(rows(train), rows(test)) for train, test in folds]
        protocol = {"protocol": "cv", "n_splits": int(cv), "shuffle": True, **protocol}
        return splits, protocol
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction!r}")
    train, test = train_test_split(np.arange(n_groups), test_size=valid_fraction, random_state=seed)
    protocol = {"protocol": "holdout", "valid_fraction": valid_fraction, **protocol}
    return [(rows(train), rows(test))], protocol


def _validate(plan, splits, y, desc):
    """Fit and test on each split: the last model, the test predictions and spreads,
    per-split metrics."""
    y_pred = np.full_like(y, np.nan)
    y_std = np.full_like(y, np.nan)
    per_fold = []
    estimator = None
    for train, test in tqdm(splits, desc=desc, disable=not plan.progress):
        estimator = plan.fit(train, y)
        pred, std = plan.predict_with_std(estimator, test)
        y_pred[test], y_std[test] = pred, std
        per_fold.append(_metrics(y[test], pred, plan.data.target_names))
    return estimator, y_pred, y_std, per_fold
