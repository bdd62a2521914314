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

__all__ = ["LateFusionRegressor", "make_late_fusion", "make_radial_ensemble", "table_forest"]


def _fit_one(estimator, X, y):
    return clone(estimator).fit(X, y)


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


def make_late_fusion(
    n_points=4096, sigmas=(0.25, 0.5, 1.0, 2.0), n_estimators=50, random_state=None, n_jobs=None
):
    """The invariant fusion network and a descriptors + Magpie forest, averaged.

    One :class:`~sklearn.pipeline.FeatureUnion` computes the point descriptors, the
    density descriptors and Magpie once; :class:`InvariantFusionRegressor` reads
    all of them, and a :class:`~sklearn.ensemble.RandomForestRegressor` (one model
    of every target) reads the table columns only.

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

    Returns
    -------
    sklearn.pipeline.Pipeline
        Taking densities (or paths) and moduli in GPa.
    """
    from sklearn.pipeline import Pipeline

    from ._invariant import make_invariant_fusion

    fusion = make_invariant_fusion(
        n_points=n_points, sigmas=sigmas, n_jobs=n_jobs, random_state=random_state
    )
    features, network = fusion.steps[0][1], fusion.steps[-1][1]
    forest = table_forest(6 * len(sigmas) * n_points, n_estimators, random_state, n_jobs)
    late = LateFusionRegressor([("network", network), ("forest", forest)])
    return Pipeline([("features", features), ("regressor", late)])


def table_forest(first_column, n_estimators=50, random_state=None, n_jobs=None):
    """A random forest on the columns from ``first_column`` on.

    The forest half of :func:`make_late_fusion`: the columns before
    ``first_column`` (the flattened point descriptors) are dropped. With several
    targets it is one forest of all of them (scikit-learn's multi-output trees).

    Parameters
    ----------
    first_column : int
        Index of the first column of the table.
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
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import make_pipeline

    table = ColumnTransformer([("table", "passthrough", slice(first_column, None))])
    forest = RandomForestRegressor(n_estimators, random_state=random_state, n_jobs=n_jobs)
    return make_pipeline(table, forest)


def make_radial_ensemble(random_state=None, n_jobs=None):
    """Two density-only networks on the radial profiles, one in log and one in sqrt space.

    The charge-density model of skecd with the best shear-modulus R\\ :sup:`2` on
    the Fm-3m folds of the benchmark. One
    :class:`~sklearn.pipeline.FeatureUnion` computes the radial profiles of the
    density around the atoms (:class:`~skecd.preprocessing.RadialDensityFeaturizer`)
    and the whole-cell density descriptors
    (:class:`~skecd.preprocessing.ChargeDensityDescriptor`); a
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

    Returns
    -------
    sklearn.pipeline.Pipeline
        Taking densities (or paths) and moduli in GPa (positive).

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
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.pipeline import FeatureUnion, Pipeline

    from ..preprocessing import ChargeDensityDescriptor, RadialDensityFeaturizer
    from ._invariant import InvariantFusionRegressor

    radial = RadialDensityFeaturizer(n_jobs=n_jobs)
    n_radial = len(radial.get_feature_names_out())
    features = FeatureUnion(
        [("radial", radial), ("descriptors", ChargeDensityDescriptor(n_jobs=n_jobs))]
    )
    table_only = {"module__point_channels": 0, "module__n_points": 0}
    log_net = Pipeline(
        [
            ("radial", ColumnTransformer([("radial", "passthrough", slice(0, n_radial))])),
            ("net", InvariantFusionRegressor(random_state=random_state, **table_only)),
        ]
    )
    sqrt_net = TransformedTargetRegressor(
        InvariantFusionRegressor(random_state=random_state, log_target=False, **table_only),
        func=np.sqrt,
        inverse_func=np.square,
    )
    late = LateFusionRegressor([("log", log_net), ("sqrt", sqrt_net)])
    return Pipeline([("features", features), ("regressor", late)])


def make_radial_late_fusion(n_estimators=50, random_state=None, n_jobs=None):
    """The radial-profile density network and a descriptors + Magpie forest, averaged.

    One :class:`~sklearn.pipeline.FeatureUnion` computes the radial profiles of the
    density around the atoms, the whole-cell density descriptors and Magpie once.
    The network (:class:`InvariantFusionRegressor` with the L1 loss on the log
    moduli, the registry's ``radial_ecd``) reads the profiles and descriptors, the
    forest (:func:`table_forest`, one forest of every target) the descriptors and
    Magpie; their mean is the prediction. Trained on the Fm-3m materials and
    tested on those of other space groups it is the best model of the extended
    benchmark on both moduli (docs, "Protocols of the extended data set").

    Parameters
    ----------
    n_estimators : int, default=50
        Trees of the forest (the benchmark's 50).
    random_state : int, default=None
        Seed of the network and of the forest.
    n_jobs : int, default=None
        joblib workers of the featurisers and the forest.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Taking densities (or paths) and moduli in GPa.
    """
    import torch
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    from ..preprocessing import ChargeDensityDescriptor, RadialDensityFeaturizer
    from ._invariant import InvariantFusionRegressor, make_invariant_fusion

    features = make_invariant_fusion(
        table=("radial", "descriptors", "magpie"), points=False, n_jobs=n_jobs
    ).steps[0][1]
    n_radial = len(RadialDensityFeaturizer().get_feature_names_out())
    n_density = n_radial + len(ChargeDensityDescriptor().get_feature_names_out())
    network = Pipeline(
        [
            ("density", ColumnTransformer([("density", "passthrough", slice(0, n_density))])),
            (
                "net",
                InvariantFusionRegressor(
                    criterion=torch.nn.L1Loss,
                    module__point_channels=0,
                    module__n_points=0,
                    random_state=random_state,
                ),
            ),
        ]
    )
    forest = table_forest(n_radial, n_estimators, random_state, n_jobs)
    late = LateFusionRegressor([("network", network), ("forest", forest)])
    return Pipeline([("features", features), ("regressor", late)])


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
        Interstitial radial profiles, density descriptors, Magpie.
    columns : dict of str to list of int
        ``"profiles"``, ``"descriptors"`` (the code-robust ones only) and
        ``"magpie"``: indices of the union's output columns, found by the
        featurisers' own feature names.
    """
    from sklearn.pipeline import FeatureUnion

    from ..preprocessing import ChargeDensityDescriptor, MagpieFeaturizer, RadialDensityFeaturizer

    radial = RadialDensityFeaturizer(
        radii=INTERSTITIAL_RADII, core_radius=CORE_RADIUS, n_jobs=n_jobs
    )
    descriptors = ChargeDensityDescriptor(n_jobs=n_jobs)
    n_radial = len(radial.get_feature_names_out())
    names = [str(c) for c in descriptors.get_feature_names_out()]
    columns = {
        "profiles": list(range(n_radial)),
        "descriptors": [n_radial + names.index(c) for c in CODE_ROBUST_DESCRIPTORS],
        "magpie": slice(n_radial + len(names), None),
    }
    features = FeatureUnion(
        [("radial", radial), ("descriptors", descriptors), ("magpie", MagpieFeaturizer())]
    )
    return features, columns


def make_interstitial_late_fusion(n_estimators=50, random_state=None, n_jobs=None, *, columns=None):
    """skecd's recommended model: a density network and a composition forest, averaged.

    The network (:class:`InvariantFusionRegressor`, L1 loss on the log moduli) reads
    the radial profiles of the density *between* the atoms
    (:class:`~skecd.preprocessing.RadialDensityFeaturizer` with
    ``core_radius=1.0``: every grid point within 1 A of a nucleus left out) and the
    density descriptors that do not look into the cores; the forest
    (:func:`table_forest`-like, one forest of all targets) reads those descriptors
    and Magpie. Leaving the cores out makes the prediction nearly the same for a VASP
    CHGCAR and a GPAW density of one crystal, as the two codes differ mainly there
    (user guide, "Densities from other DFT codes"). Its figures on every protocol
    are in the user guide's benchmark page.

    Parameters
    ----------
    n_estimators : int, default=50
        Trees of the forest.
    random_state : int, default=None
        Seed of the network and of the forest.
    n_jobs : int, default=None
        joblib workers of the featurisers and the forest.
    columns : dict, default=None
        Column groups of the input table (:func:`interstitial_features`'s); None
        builds the features too and returns a whole pipeline.

    Returns
    -------
    sklearn.pipeline.Pipeline or LateFusionRegressor
        A pipeline taking densities (or paths) and moduli in GPa; with ``columns``,
        only the late fusion, taking the feature table.
    """
    import torch
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import Pipeline

    from ._invariant import InvariantFusionRegressor

    features = None
    if columns is None:
        features, columns = interstitial_features(n_jobs)

    def passthrough(*groups):  # the named column groups of the feature table, side by side
        return ColumnTransformer([(name, "passthrough", columns[name]) for name in groups])

    net = InvariantFusionRegressor(
        criterion=torch.nn.L1Loss,
        module__point_channels=0,
        module__n_points=0,
        random_state=random_state,
    )
    network = Pipeline([("density", passthrough("profiles", "descriptors")), ("net", net)])
    forest = RandomForestRegressor(n_estimators, random_state=random_state, n_jobs=n_jobs)
    forest = Pipeline([("table", passthrough("descriptors", "magpie")), ("forest", forest)])
    late = LateFusionRegressor([("network", network), ("forest", forest)])
    if features is None:
        return late
    return Pipeline([("features", features), ("regressor", late)])
