"""Late fusion: the average of several regressors' predictions, every target at once."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import RegressorMixin, clone
from sklearn.utils import Bunch, get_tags
from sklearn.utils._param_validation import Interval
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "FeaturiserColumns",
    "LateFusionRegressor",
    "feature_columns",
    "interstitial_columns",
    "interstitial_features",
    "make_interstitial_late_fusion",
    "make_late_fusion",
    "make_radial_ensemble",
    "make_radial_late_fusion",
    "table_forest",
]


def _fit_one(estimator, X, y):
    return clone(estimator).fit(X, y)


class FeaturiserColumns:
    """The columns one featuriser of a FeatureUnion made, found by name.

    A column selector of :class:`~sklearn.compose.ColumnTransformer` for the
    pandas output of a :class:`~sklearn.pipeline.FeatureUnion`
    (``set_output(transform="pandas")``), whose columns are named
    ``"<featuriser>__<feature>"``: it picks every column of the featuriser named
    ``part``, wherever the union puts it and however many there are, and refuses
    to select nothing. It returns a boolean mask, which ColumnTransformer resolves
    in linear time (a list of names costs it a search per name).

    Parameters
    ----------
    part : str
        Name of the featuriser in the union.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["magpie__a", "radial__b", "radial__c"])
    >>> FeaturiserColumns("radial")(X).tolist()
    [False, True, True]
    """

    def __init__(self, part):
        self.part = part

    def __call__(self, X):
        """Boolean mask of the columns of ``X`` that featuriser ``part`` made."""
        if not hasattr(X, "columns"):
            raise TypeError(
                f"FeaturiserColumns({self.part!r}): the features must come as a pandas "
                "DataFrame named by the FeatureUnion (set_output(transform='pandas')), "
                f"got {type(X).__name__}"
            )
        names = X.columns.astype(str)
        mask = np.asarray(names.str.startswith(f"{self.part}__"), dtype=bool)
        if not mask.any():
            parts = sorted({name.split("__")[0] for name in names})
            raise ValueError(
                f"the feature table has no column of featuriser {self.part!r} "
                f"(no column named '{self.part}__...'); its featurisers are {parts}"
            )
        return mask

    def __repr__(self):
        return f"FeaturiserColumns({self.part!r})"


def feature_columns(part, features=None):
    """Column selection of a FeatureUnion's featuriser, by name.

    Parameters
    ----------
    part : str
        Name of the featuriser in the union.
    features : sequence of str, default=None
        Names of the features of that featuriser to take, in this order; None
        takes all of them (:class:`FeaturiserColumns`).

    Returns
    -------
    FeaturiserColumns or list of str
        A column selection for :class:`~sklearn.compose.ColumnTransformer`.
        ColumnTransformer raises a ``ValueError`` naming any listed column that
        the table lacks.

    Examples
    --------
    >>> feature_columns("descriptors", ["volume_per_atom"])
    ['descriptors__volume_per_atom']
    """
    if features is None:
        return FeaturiserColumns(part)
    return [f"{part}__{name}" for name in features]


def _select(columns, *groups):
    """A ColumnTransformer passing the named column ``groups`` through, side by side."""
    from sklearn.compose import ColumnTransformer

    missing = [g for g in groups if g not in columns]
    if missing:
        raise ValueError(f"columns: no column group {missing}; it has {sorted(columns)}")
    return ColumnTransformer([(g, "passthrough", columns[g]) for g in groups])


def _named(features):
    """``features`` (a FeatureUnion) with its output named, for the name-based selections."""
    return features.set_output(transform="pandas")


class LateFusionRegressor(RegressorMixin, _BaseComposition):
    """Fit several regressors on the same data and average their predictions.

    Late fusion of unlike models: a network on the charge density and a random
    forest on a feature table make different errors, and their mean is better than
    either. Each estimator gets the same ``X`` and ``y`` (select its columns with a
    :class:`~sklearn.compose.ColumnTransformer` in a pipeline). It is
    scikit-learn's :class:`~sklearn.ensemble.VotingRegressor` for targets with
    several columns, which that class refuses (it takes one target only).

    Parameters
    ----------
    estimators : list of (str, estimator)
        Named regressors, each predicting every target column.
    weights : array-like of shape (n_estimators,), default=None
        Weight of each estimator's prediction; ``None``: equal weights.
    n_jobs : int, default=None
        joblib workers fitting the estimators side by side (``None``: 1).

    Attributes
    ----------
    estimators_ : list of estimator
        The fitted clones, in the order of ``estimators``.
    named_estimators_ : sklearn.utils.Bunch
        The same, by name.

    See Also
    --------
    make_late_fusion : The invariant fusion network and the descriptors + Magpie
        forest, on charge densities.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.linear_model import Ridge
    >>> from skecd.models import LateFusionRegressor
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.random((40, 3)), rng.random((40, 2))
    >>> late = LateFusionRegressor(
    ...     [("ridge", Ridge()), ("forest", RandomForestRegressor(10, random_state=0))]
    ... ).fit(X, y)
    >>> late.predict(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "estimators": [list],
        "weights": ["array-like", None],
        "n_jobs": [Interval(Integral, None, None, closed="neither"), None],
    }

    def __init__(self, estimators, weights=None, n_jobs=None):
        self.estimators = estimators
        self.weights = weights
        self.n_jobs = n_jobs

    def get_params(self, deep=True):
        """Parameters, with those of every estimator as ``<name>__<param>``.

        Parameters
        ----------
        deep : bool, default=True
            Include the estimators' own parameters.

        Returns
        -------
        dict
        """
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, ``<name>__<param>`` reaching into an estimator.

        Parameters
        ----------
        **params
            Parameter names and values.

        Returns
        -------
        self : LateFusionRegressor
        """
        self._set_params("estimators", **params)
        return self

    def _weights(self):
        n = len(self.estimators)
        if self.weights is None:
            return np.full(n, 1.0 / n)
        w = np.asarray(self.weights, dtype=float)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(
                f"LateFusionRegressor: weights={self.weights!r} must be {n} non-negative "
                "numbers, not all zero (one per estimator)"
            )
        return w / w.sum()

    def _check_estimators(self):
        names = [
            item[0] if isinstance(item, tuple) and len(item) == 2 else None
            for item in self.estimators
        ]
        if not names or None in names or len(set(names)) != len(names):
            raise ValueError(
                "LateFusionRegressor: estimators must be a non-empty list of "
                "(distinct name, regressor) pairs"
            )
        return names

    def fit(self, X, y):
        """Fit a clone of every estimator on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like or list
            Input of every estimator.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : LateFusionRegressor
        """
        self._validate_params()
        names = self._check_estimators()
        self._weights()
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_one)(est, X, y) for _, est in self.estimators
        )
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_, strict=True)))
        return self

    def predict(self, X):
        """The weighted mean of the estimators' predictions.

        Parameters
        ----------
        X : array-like or list
            Input of every estimator.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self, "estimators_")
        preds = [np.asarray(est.predict(X), dtype=float) for est in self.estimators_]
        shapes = {p.shape for p in preds}
        if len(shapes) != 1:
            raise ValueError(f"LateFusionRegressor: the estimators predict unlike shapes {shapes}")
        return np.tensordot(self._weights(), np.stack(preds), axes=1)

    @property
    def n_features_in_(self):
        """Number of input columns, of the first estimator (absent for non-table input)."""
        check_is_fitted(self, "estimators_")
        return self.estimators_[0].n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        try:
            parts = [get_tags(est) for _, est in self.estimators]
        except (TypeError, ValueError):  # malformed estimators: fit says what is wrong
            parts = []
        tags.input_tags.sparse = bool(parts) and all(t.input_tags.sparse for t in parts)
        tags.input_tags.allow_nan = bool(parts) and all(t.input_tags.allow_nan for t in parts)
        return tags


def _late_or_pipeline(features, late):
    from sklearn.pipeline import Pipeline

    if features is None:
        return late
    return Pipeline([("features", _named(features)), ("regressor", late)])


def make_late_fusion(
    n_points=4096,
    sigmas=(0.25, 0.5, 1.0, 2.0),
    n_estimators=50,
    random_state=None,
    n_jobs=None,
    *,
    columns=None,
):
    """The invariant fusion network and a descriptors + Magpie forest, averaged.

    One :class:`~sklearn.pipeline.FeatureUnion` computes the point descriptors
    (``"local"``), the density descriptors and Magpie once;
    :class:`InvariantFusionRegressor` reads all of them (point descriptors first),
    and a :class:`~sklearn.ensemble.RandomForestRegressor` (one model of every
    target) reads the descriptors and Magpie. Each part selects its columns by the
    featurisers' names, so the union's order does not matter.

    Parameters
    ----------
    n_points, sigmas : int and tuple of float
        Of :class:`~skecd.preprocessing.LocalDensityFeaturizer`.
    n_estimators : int, default=50
        Trees of the forest (the benchmark's 50).
    random_state : int, default=None
        Seed of the network and of the forest.
    n_jobs : int, default=None
        joblib workers of the featurisers and the forest.
    columns : dict, default=None
        Column groups ``"local"``, ``"descriptors"`` and ``"magpie"`` of the input
        table (:func:`feature_columns`); None builds the featurisers too.

    Returns
    -------
    sklearn.pipeline.Pipeline or LateFusionRegressor
        A pipeline taking densities (or paths) and moduli in GPa; with ``columns``,
        only the late fusion, taking the feature table (a DataFrame).
    """
    from sklearn.pipeline import Pipeline

    from ._invariant import make_invariant_fusion

    fusion = make_invariant_fusion(
        n_points=n_points, sigmas=sigmas, n_jobs=n_jobs, random_state=random_state
    )
    features, network = fusion.steps[0][1], fusion.steps[-1][1]
    if columns is None:
        columns = {name: feature_columns(name) for name, _ in features.transformer_list}
    else:
        features = None
    network = Pipeline(
        [("table", _select(columns, "local", "descriptors", "magpie")), ("net", network)]
    )
    forest = table_forest(
        {g: columns[g] for g in ("descriptors", "magpie")}, n_estimators, random_state, n_jobs
    )
    late = LateFusionRegressor([("network", network), ("forest", forest)])
    return _late_or_pipeline(features, late)


def table_forest(columns, n_estimators=50, random_state=None, n_jobs=None):
    """A random forest on the named column groups of a feature table.

    The forest half of the late-fusion models. With several targets it is one
    forest of all of them (scikit-learn's multi-output trees).

    Parameters
    ----------
    columns : dict of str to column selection
        The groups the forest reads, side by side (:func:`feature_columns`, or
        any column selection of :class:`~sklearn.compose.ColumnTransformer`).
    n_estimators : int, default=50
        Trees of the forest.
    random_state : int, default=None
        Seed of the forest.
    n_jobs : int, default=None
        joblib workers of the forest.

    Returns
    -------
    sklearn.pipeline.Pipeline
    """
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import Pipeline

    forest = RandomForestRegressor(n_estimators, random_state=random_state, n_jobs=n_jobs)
    return Pipeline([("table", _select(columns, *columns)), ("forest", forest)])


def make_radial_ensemble(random_state=None, n_jobs=None, *, columns=None):
    """Two density-only networks on the radial profiles, one in log and one in sqrt space.

    The charge-density model of skecd with the best shear-modulus R\\ :sup:`2` on
    the Fm-3m folds of the benchmark. One
    :class:`~sklearn.pipeline.FeatureUnion` computes the radial profiles of the
    density around the atoms (:class:`~skecd.preprocessing.RadialDensityFeaturizer`,
    ``"radial"``) and the whole-cell density descriptors
    (:class:`~skecd.preprocessing.ChargeDensityDescriptor`, ``"descriptors"``); a
    :class:`LateFusionRegressor` averages two :class:`InvariantFusionRegressor`:

    - ``"log"``: on the radial profiles alone, learning ``log10`` of the moduli
      (the class's default);
    - ``"sqrt"``: on the profiles and the descriptors, learning the square root of
      the moduli (a :class:`~sklearn.compose.TransformedTargetRegressor`; its
      predictions are squared back).

    A network fitted in log space weighs a 10% error on a soft material as much as
    on a stiff one, so it wins in log10-MAE; R\\ :sup:`2` in GPa is ruled by the
    stiff materials, which the square-root network fits better. Their mean keeps
    most of both (``benchmarks/bench_invariant.py``, model ``radial_ensemble``).
    Nothing in the input depends on the composition, only on the density and the
    atomic positions.

    Parameters
    ----------
    random_state : int, default=None
        Seed of both networks.
    n_jobs : int, default=None
        joblib workers of the featurisers.
    columns : dict, default=None
        Column groups ``"radial"`` and ``"descriptors"`` of the input table
        (:func:`feature_columns`); None builds the featurisers too.

    Returns
    -------
    sklearn.pipeline.Pipeline or LateFusionRegressor
        A pipeline taking densities (or paths) and moduli in GPa (positive); with
        ``columns``, only the late fusion, taking the feature table (a DataFrame).

    See Also
    --------
    make_invariant_fusion : One such network (``table=("radial", "descriptors"),
        points=False``).

    Notes
    -----
    :func:`skecd.inference.predict_with_std` gives the spread of the mixture: the
    log network's members and the two networks' disagreement (the square-root
    network adds no spread of its own).
    """
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import FeatureUnion, Pipeline

    from ..preprocessing import ChargeDensityDescriptor, RadialDensityFeaturizer
    from ._invariant import InvariantFusionRegressor

    features = None
    if columns is None:
        features = FeatureUnion(
            [
                ("radial", RadialDensityFeaturizer(n_jobs=n_jobs)),
                ("descriptors", ChargeDensityDescriptor(n_jobs=n_jobs)),
            ]
        )
        columns = {name: feature_columns(name) for name in ("radial", "descriptors")}
    table_only = {"module__point_channels": 0, "module__n_points": 0}
    log_net = Pipeline(
        [
            ("radial", _select(columns, "radial")),
            ("net", InvariantFusionRegressor(random_state=random_state, **table_only)),
        ]
    )
    sqrt_net = TransformedTargetRegressor(
        InvariantFusionRegressor(random_state=random_state, log_target=False, **table_only),
        func=np.sqrt,
        inverse_func=np.square,
    )
    sqrt_net = Pipeline([("density", _select(columns, "radial", "descriptors")), ("net", sqrt_net)])
    late = LateFusionRegressor([("log", log_net), ("sqrt", sqrt_net)])
    return _late_or_pipeline(features, late)


def make_radial_late_fusion(n_estimators=50, random_state=None, n_jobs=None, *, columns=None):
    """The radial-profile density network and a descriptors + Magpie forest, averaged.

    One :class:`~sklearn.pipeline.FeatureUnion` computes the radial profiles of the
    density around the atoms (``"radial"``), the whole-cell density descriptors
    (``"descriptors"``) and Magpie (``"magpie"``) once. The network
    (:class:`InvariantFusionRegressor` with the L1 loss on the log moduli, the
    registry's ``radial_ecd``) reads the profiles and descriptors, the forest
    (:func:`table_forest`, one forest of every target) the descriptors and Magpie;
    their mean is the prediction. Trained on the Fm-3m materials and tested on
    those of other space groups it is the best model of the extended benchmark on
    both moduli (docs, "Protocols of the extended data set").

    Parameters
    ----------
    n_estimators : int, default=50
        Trees of the forest (the benchmark's 50).
    random_state : int, default=None
        Seed of the network and of the forest.
    n_jobs : int, default=None
        joblib workers of the featurisers and the forest.
    columns : dict, default=None
        Column groups ``"radial"``, ``"descriptors"`` and ``"magpie"`` of the input
        table (:func:`feature_columns`); None builds the featurisers too.

    Returns
    -------
    sklearn.pipeline.Pipeline or LateFusionRegressor
        A pipeline taking densities (or paths) and moduli in GPa; with ``columns``,
        only the late fusion, taking the feature table (a DataFrame).
    """
    import torch
    from sklearn.pipeline import Pipeline

    from ._invariant import InvariantFusionRegressor, make_invariant_fusion

    features = None
    if columns is None:
        features = make_invariant_fusion(
            table=("radial", "descriptors", "magpie"), points=False, n_jobs=n_jobs
        ).steps[0][1]
        columns = {name: feature_columns(name) for name, _ in features.transformer_list}
    net = InvariantFusionRegressor(
        criterion=torch.nn.L1Loss,
        module__point_channels=0,
        module__n_points=0,
        random_state=random_state,
    )
    network = Pipeline([("density", _select(columns, "radial", "descriptors")), ("net", net)])
    forest = table_forest(
        {g: columns[g] for g in ("descriptors", "magpie")}, n_estimators, random_state, n_jobs
    )
    late = LateFusionRegressor([("network", network), ("forest", forest)])
    return _late_or_pipeline(features, late)


#: Radii (Angstrom) of the interstitial radial profiles: all beyond the cores.
INTERSTITIAL_RADII = (1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.3, 2.6, 3.0)
#: Radius (Angstrom) of the spheres around the nuclei left out of those profiles.
CORE_RADIUS = 1.0
#: The density descriptors that VASP and GPAW densities of one crystal give alike
#: (benchmarks/vasp_vs_gpaw.py): geometry, the bulk of the interstitial density and the
#: magnetisation. Left out: counts and high quantiles that include the cores, where the
#: codes' PAW data (and which states are valence) differ.
CODE_ROBUST_DESCRIPTORS = (
    "volume_per_atom",
    "nearest_neighbour_distance",
    "density_p25",
    "density_p50",
    "interstitial_min_density",
    "abs_magnetisation_per_atom",
    "local_magnetisation_per_atom",
)


def interstitial_features(n_jobs=None):
    """The features of :func:`make_interstitial_late_fusion`, and its column groups.

    Parameters
    ----------
    n_jobs : int, default=None
        joblib workers of the featurisers.

    Returns
    -------
    features : sklearn.pipeline.FeatureUnion
        Interstitial radial profiles (``"radial_interstitial"``), density
        descriptors (``"descriptors"``) and Magpie (``"magpie"``), as a DataFrame
        named ``"<featuriser>__<feature>"``.
    columns : dict of str to column selection
        ``"profiles"``, ``"descriptors"`` (the code-robust ones only) and
        ``"magpie"``: the union's columns, by the featurisers' names
        (:func:`feature_columns`).
    """
    from sklearn.pipeline import FeatureUnion

    from ..preprocessing import ChargeDensityDescriptor, MagpieFeaturizer, RadialDensityFeaturizer

    radial = RadialDensityFeaturizer(
        radii=INTERSTITIAL_RADII, core_radius=CORE_RADIUS, n_jobs=n_jobs
    )
    features = FeatureUnion(
        [
            ("radial_interstitial", radial),
            ("descriptors", ChargeDensityDescriptor(n_jobs=n_jobs)),
            ("magpie", MagpieFeaturizer()),
        ]
    )
    return _named(features), interstitial_columns()


def interstitial_columns(
    profiles="radial_interstitial", descriptors="descriptors", magpie="magpie"
):
    """The column groups of :func:`make_interstitial_late_fusion`, by featuriser name.

    Parameters
    ----------
    profiles, descriptors, magpie : str
        Names, in the FeatureUnion, of the interstitial radial profiles, the density
        descriptors and Magpie.

    Returns
    -------
    dict of str to column selection
        ``"profiles"`` (every column of ``profiles``), ``"descriptors"`` (the
        :data:`CODE_ROBUST_DESCRIPTORS` of ``descriptors``, in that order) and
        ``"magpie"``.
    """
    return {
        "profiles": feature_columns(profiles),
        "descriptors": feature_columns(descriptors, CODE_ROBUST_DESCRIPTORS),
        "magpie": feature_columns(magpie),
    }


def make_interstitial_late_fusion(n_estimators=50, random_state=None, n_jobs=None, *, columns=None):
    """skecd's recommended model: a density network and a composition forest, averaged.

    The network (:class:`InvariantFusionRegressor`, L1 loss on the log moduli) reads
    the radial profiles of the density *between* the atoms
    (:class:`~skecd.preprocessing.RadialDensityFeaturizer` with
    ``core_radius=1.0``: every grid point within 1 A of a nucleus left out) and the
    density descriptors that do not look into the cores; the forest
    (:func:`table_forest`, one forest of all targets) reads those descriptors
    and Magpie. Leaving the cores out makes the prediction nearly the same for a VASP
    CHGCAR and a GPAW density of one crystal, as the two codes differ mainly there
    (user guide, "Densities from other DFT codes"). Its figures on every protocol
    are in the user guide's benchmark page. Both parts select their columns by the
    featurisers' feature names.

    Parameters
    ----------
    n_estimators : int, default=50
        Trees of the forest.
    random_state : int, default=None
        Seed of the network and of the forest.
    n_jobs : int, default=None
        joblib workers of the featurisers and the forest.
    columns : dict, default=None
        Column groups of the input table (:func:`interstitial_columns`); None
        builds the features too and returns a whole pipeline.

    Returns
    -------
    sklearn.pipeline.Pipeline or LateFusionRegressor
        A pipeline taking densities (or paths) and moduli in GPa; with ``columns``,
        only the late fusion, taking the feature table (a DataFrame).
    """
    import torch
    from sklearn.pipeline import Pipeline

    from ._invariant import InvariantFusionRegressor

    features = None
    if columns is None:
        features, columns = interstitial_features(n_jobs)
    net = InvariantFusionRegressor(
        criterion=torch.nn.L1Loss,
        module__point_channels=0,
        module__n_points=0,
        random_state=random_state,
    )
    network = Pipeline([("density", _select(columns, "profiles", "descriptors")), ("net", net)])
    forest = table_forest(
        {g: columns[g] for g in ("descriptors", "magpie")}, n_estimators, random_state, n_jobs
    )
    late = LateFusionRegressor([("network", network), ("forest", forest)])
    return _late_or_pipeline(features, late)
