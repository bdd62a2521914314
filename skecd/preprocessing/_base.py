"""The base of skecd's per-sample featurisers.

A featuriser takes one sample at a time (a charge density, a structure, a
composition or a path to a file holding one) and turns it into a fixed-shape
array (a row of features, a voxel cube) or an object (a crystal graph). All of
them share the same machinery, written once here: parameter validation with
scikit-learn's declarative ``_parameter_constraints`` (worded the skecd way:
the class, the parameter and the value), the check of ``X`` as a list of
samples, the joblib-parallel map over samples behind a tqdm progress bar,
``fit``/``transform`` and the scikit-learn tags. A subclass only says how to
turn one sample into its features, like matminer's ``BaseFeaturizer``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import (
    InvalidParameterError,
    make_constraint,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted

from ..io import check_samples
from ._samples import map_samples

__all__ = ["BaseSampleFeaturizer"]

_BOOL_OK = ("boolean", "verbose")  # the constraint names under which a bool is a valid value


class BaseSampleFeaturizer(TransformerMixin, BaseEstimator):
    """Base class of the featurisers that turn one sample into its features.

    Not used directly: subclass it. The base validates the parameters, checks
    that ``X`` is a non-empty list of samples, maps :meth:`featurize_sample`
    over them in ``n_jobs`` joblib workers behind a tqdm progress bar
    (``verbose``), and stacks the results.

    Parameters
    ----------
    n_jobs : int, default=None
        Number of joblib workers; ``None`` means 1, ``-1`` all cores.
    verbose : bool, default=False
        Show a tqdm progress bar over the samples.

    Notes
    -----
    **How to add a featuriser.** Write one small module in
    ``skecd/preprocessing`` (see the user guide page "Extending skecd"):

    1. Subclass ``BaseSampleFeaturizer``; ``__init__`` stores its parameters
       (including ``n_jobs=None, verbose=False``) and does nothing else.
    2. Declare the parameters in ``_parameter_constraints`` (scikit-learn's
       ``Interval``, ``StrOptions``, ``"boolean"``, ...), merged with the
       base's: ``{**BaseSampleFeaturizer._parameter_constraints, ...}``. Add a
       readable rule per parameter to ``_parameter_messages`` (it is quoted in
       the error: ``"MyFeaturizer: n_bins must be an int >= 1, got 0"``), and
       put checks that involve several parameters in :meth:`_check_params`.
    3. Set ``_sample_kind``: ``"density"`` (the sample is read with
       :func:`skecd.io.load_density`), ``"structure"`` or ``"composition"``.
    4. Write :meth:`featurize_sample`: one sample and its index in, one array
       out (same shape for every sample; errors name ``sample {index}``).
    5. Write :meth:`get_feature_names_out` (one name per output column).
    6. Add the class to ``skecd/preprocessing/__init__.py`` and its
       ``__all__`` (the one registry line): the common checks of
       ``tests/test_common.py`` then run on it.

    Featurisers are stateless by default (``fit`` only validates); set
    ``_stateless = False`` and override :meth:`_fit` for one that learns
    something (it then needs ``fit`` before ``transform``).

    Examples
    --------
    >>> import numpy as np
    >>> from numbers import Integral
    >>> from sklearn.utils._param_validation import Interval
    >>> from skecd.io import load_density
    >>> from skecd.datasets import get_sample_chgcar_paths
    >>> from skecd.preprocessing import BaseSampleFeaturizer
    >>> class MeanDensity(BaseSampleFeaturizer):
    ...     _parameter_constraints = {
    ...         **BaseSampleFeaturizer._parameter_constraints,
    ...         "power": [Interval(Integral, 1, None, closed="left")],
    ...     }
    ...     _parameter_messages = {"power": "must be an int >= 1"}
    ...
    ...     def __init__(self, power=1, n_jobs=None, verbose=False):
    ...         self.power = power
    ...         self.n_jobs = n_jobs
    ...         self.verbose = verbose
    ...
    ...     def featurize_sample(self, sample, index):
    ...         rho = load_density(sample, index=index)
    ...         return np.array([np.mean(rho.total ** self.power)])
    ...
    ...     def get_feature_names_out(self, input_features=None):
    ...         return np.array([f"mean_density_pow{self.power}"], dtype=object)
    >>> X = MeanDensity().fit_transform([get_sample_chgcar_paths()["Si_fcc"]])
    >>> X.shape
    (1, 1)
    >>> try:
    ...     MeanDensity(power=0).fit()
    ... except ValueError as exc:
    ...     print(exc)
    MeanDensity: power must be an int >= 1, got 0
    """

    _parameter_constraints: dict = {
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }
    #: Readable rule per parameter, quoted in errors ("must be an int >= 2").
    _parameter_messages: dict = {}
    #: What one sample is: "density", "structure" or "composition".
    _sample_kind = "density"
    #: Words of the progress bar: (description, unit).
    _progress = ("Featurising", "sample")
    #: Whether ``fit`` learns nothing (then ``transform`` works without it).
    _stateless = True
    #: Whether the output is a 1D object array (e.g. graphs) rather than a stack of arrays.
    _object_output = False

    # ---------------------------------------------------------------- the subclass's part
    def featurize_sample(self, sample, index):
        """Turn one sample into its features (written by each subclass).

        Parameters
        ----------
        sample : object
            One item of ``X`` (a path, a density, a structure, a formula...).
        index : int
            Its position in ``X``, to be named in error messages.

        Returns
        -------
        ndarray or object
            The features of the sample; every sample gives the same shape.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement featurize_sample")

    def _check_params(self):
        """Checks that involve several parameters (the single ones are declared)."""

    def _fit(self, samples):
        """Learn from the samples (``None`` when ``fit`` got no ``X``); nothing by default."""

    # ----------------------------------------------------------------- the shared part
    def _validate_params(self):
        """Validate the parameters against ``_parameter_constraints``.

        scikit-learn's validation, with two changes: the error names the class,
        the parameter, the rule in ``_parameter_messages`` and the value; and a
        bool is refused where a number is expected (``True`` is an ``int`` to
        Python, never a sensible grid size or cut-off).
        """
        name = type(self).__name__
        params = self.get_params(deep=False)
        for param, constraints in self._parameter_constraints.items():
            value = params[param]
            is_bool = isinstance(value, (bool, np.bool_))
            allows_bool = any(isinstance(c, str) and c in _BOOL_OK for c in constraints)
            if is_bool and not allows_bool:
                self._raise_invalid(name, param, value)
            try:
                validate_parameter_constraints({param: constraints}, {param: value}, name)
            except InvalidParameterError:
                self._raise_invalid(name, param, value)
        self._check_params()

    def _raise_invalid(self, name, param, value):
        rule = self._parameter_messages.get(param)
        if rule is None:
            allowed = [str(make_constraint(c)) for c in self._parameter_constraints[param]]
            rule = "must be " + " or ".join(allowed)
        raise InvalidParameterError(f"{name}: {param} {rule}, got {value!r}")

    def _check_samples(self, X, reset):
        """Return ``X`` as a list of samples (and record what ``fit`` needs when ``reset``)."""
        return check_samples(X, kind=self._sample_kind)

    def fit(self, X=None, y=None):
        """Validate the parameters and the form of ``X``.

        Parameters
        ----------
        X : list or 1D array of samples, default=None
            If given, checked to be a non-empty sequence of samples of the
            accepted types (files are not read here).
        y : ignored

        Returns
        -------
        self : object
            The featuriser.
        """
        self._validate_params()
        samples = None if X is None else self._check_samples(X, reset=True)
        self._fit(samples)
        return self

    def transform(self, X):
        """Featurise every sample.

        Parameters
        ----------
        X : list or 1D array of samples
            The samples (see the class docstring for the accepted types).

        Returns
        -------
        ndarray of shape (n_samples, ...)
            One row (or cube, or object) per sample, in the order of ``X``.
        """
        if self._stateless:
            self._validate_params()
        else:
            check_is_fitted(self)
        samples = self._check_samples(X, reset=False)
        desc, unit = self._progress
        results = map_samples(
            _featurize,
            samples,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            desc=desc,
            unit=unit,
            featurizer=self,
        )
        return self._stack(results, len(samples))

    def _stack(self, results, n_samples):
        """Copy the per-sample results, arriving in order, into one preallocated array.

        Memory then holds the output plus the results in flight, not two copies.
        """
        out = None
        for i, result in enumerate(results):
            if out is None:
                if self._object_output:
                    out = np.empty(n_samples, dtype=object)
                else:
                    result = np.asarray(result)
                    out = np.empty((n_samples, *result.shape), dtype=result.dtype)
            out[i] = result
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = not self._stateless
        tags.input_tags.one_d_array = True  # one sample per item
        tags.input_tags.string = True  # samples may be file paths or formulas
        tags.transformer_tags.preserves_dtype = []  # the output type is the featuriser's
        return tags


def _featurize(sample, index, *, featurizer):
    """Module-level, so joblib workers can pickle it with the featuriser."""
    return featurizer.featurize_sample(sample, index)
