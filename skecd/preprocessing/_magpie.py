"""Magpie composition features (matminer's ``ElementProperty`` "magpie" preset)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_is_fitted

from ..io import check_samples, read_composition
from ._base import BaseSampleFeaturizer

__all__ = ["MagpieFeaturizer"]

# The paper arranges the 132 Magpie features as a 12 x 12 image: 12 zeros are appended.
_N_MAGPIE = 132
_SQUARE_SIDE = 12


class MagpieFeaturizer(BaseSampleFeaturizer):
    """Compute the 132 Magpie composition features of each sample.

    The features are those of matminer's
    ``ElementProperty.from_preset("magpie")``: six statistics (minimum,
    maximum, range, fraction-weighted mean, average deviation, mode) of 22
    elemental properties, over the elements of each composition. With
    ``pad_to_square=True`` twelve zeros are appended so that each row can be
    reshaped to the 12 x 12 image used by the Magpie CNN of Zhao et al.

    Parameters
    ----------
    pad_to_square : bool, default=False
        Append 12 zero features (132 -> 144 = 12 x 12).
    impute_nan : bool, default=False
        What to do when an element lacks one of the 22 elemental properties in
        matminer's Magpie table (e.g. the electronegativity of He, Ne or Ar, or
        any property of the superheavy elements). ``False`` raises an error
        naming the element, the property and the sample. ``True`` uses
        matminer's imputation (the mean of the property over all elements),
        which you then opt into knowingly.
    n_jobs : int, default=None
        Number of joblib workers featurising samples (and reading files) in
        parallel. ``None`` means 1 unless in a :func:`joblib.parallel_backend`
        context; ``-1`` uses all processors. matminer's own multiprocessing is
        not used.
    verbose : bool, default=False
        Show a tqdm progress bar over the samples.

    Attributes
    ----------
    featurizer_ : matminer.featurizers.composition.ElementProperty
        The matminer featuriser, built in :meth:`fit`.
    n_features_in_ : int
        Always 1: ``X`` is one column of samples.
    feature_names_in_ : ndarray of shape (1,)
        The column name, when ``X`` was a one-column pandas DataFrame.

    See Also
    --------
    skecd.model_selection.LeaveOneElementOut : Split samples by the elements they contain.

    Notes
    -----
    Each sample of ``X`` may be

    - a chemical formula (``str``), e.g. ``"NaCl"``;
    - a pymatgen ``Composition``, ``Structure`` (or ``Molecule``), or a
      ``VolumetricData`` such as a ``Chgcar``;
    - a :class:`skecd.io.ChargeDensity`;
    - a path to a VASP CHGCAR-like file (only its structure header is read, not
      the grid) or to a skecd/GPAW ``.npz`` density (only its ``species`` array is
      read). A ``str`` that names an existing file is taken as a path, any other
      ``str`` as a formula.

    ``X`` is a 1D list/array of samples, a one-column 2D array, or a pandas
    Series or one-column DataFrame.

    Examples
    --------
    >>> from skecd.preprocessing import MagpieFeaturizer
    >>> feat = MagpieFeaturizer().fit(["NaCl", "Si"])
    >>> feat.transform(["NaCl", "Si"]).shape
    (2, 132)
    >>> feat.get_feature_names_out()[0]
    'MagpieData minimum Number'
    >>> MagpieFeaturizer(pad_to_square=True).fit_transform(["NaCl"]).reshape(-1, 12, 12).shape
    (1, 12, 12)
    """

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "pad_to_square": ["boolean"],
        "impute_nan": ["boolean"],
    }
    _parameter_messages = {
        "pad_to_square": "must be a bool",
        "impute_nan": "must be a bool",
        "verbose": "must be a bool",
    }
    _sample_kind = "composition"
    _progress = ("Magpie features", "sample")
    _stateless = False

    def __init__(self, pad_to_square=False, impute_nan=False, n_jobs=None, verbose=False):
        self.pad_to_square = pad_to_square
        self.impute_nan = impute_nan
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_samples(self, X, reset):
        return _samples_of(X, self, reset=reset)

    def _fit(self, samples):
        from matminer.featurizers.composition import ElementProperty

        self.featurizer_ = ElementProperty.from_preset("magpie", impute_nan=bool(self.impute_nan))

    def featurize_sample(self, sample, index):
        """Compute the Magpie features of one sample.

        Parameters
        ----------
        sample : str, path-like, Composition, Structure, ChargeDensity or VolumetricData
            The sample.
        index : int
            Its position in ``X``, for error messages.

        Returns
        -------
        ndarray of shape (132,) or (144,), float64
            The features, in the order of :meth:`get_feature_names_out`.
        """
        values = _featurize_sample(self.featurizer_, sample, index, bool(self.impute_nan))
        if self.pad_to_square:
            values = np.concatenate([values, np.zeros(_SQUARE_SIDE**2 - _N_MAGPIE)])
        return values

    def get_feature_names_out(self, input_features=None):
        """Names of the output features: matminer's labels, then ``pad_0`` ... ``pad_11``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against ``feature_names_in_`` when given.

        Returns
        -------
        ndarray of str, shape (132,) or (144,)
        """
        check_is_fitted(self, "featurizer_")
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            expected = getattr(self, "feature_names_in_", None)
            if len(input_features) != 1 or (
                expected is not None and not np.array_equal(input_features, expected)
            ):
                want = list(expected) if expected is not None else "one name"
                raise ValueError(
                    f"input_features should be {want} (X is one column of samples), "
                    f"got {list(input_features)}"
                )
        names = list(self.featurizer_.feature_labels())
        if self.pad_to_square:
            names += [f"pad_{i}" for i in range(_SQUARE_SIDE**2 - _N_MAGPIE)]
        return np.asarray(names, dtype=object)


def _samples_of(X, estimator, reset):
    """Return the samples of ``X`` as a list (:func:`skecd.io.check_samples`).

    Also refuses numeric arrays with a message of their own, and keeps the column
    name of a one-column DataFrame as ``feature_names_in_``.
    """
    columns = None
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # pandas DataFrame
        columns = np.asarray(X.columns, dtype=object)
    elif hasattr(X, "__array__") and not sp.issparse(X) and not hasattr(X, "iloc"):
        arr = np.asarray(X)
        if arr.dtype.kind in "biufcmM" or arr.size == 0:
            # sklearn's own messages for empty, complex, NaN or infinite numeric input
            check_array(arr, dtype=None, ensure_2d=False, allow_nd=True)
            raise ValueError(
                f"X holds numbers (dtype {arr.dtype}); MagpieFeaturizer takes formulas, "
                "compositions, structures, densities or file paths"
            )
    samples = check_samples(X, kind="composition")
    if reset:
        estimator.n_features_in_ = 1
        if columns is not None and isinstance(columns[0], str):
            estimator.feature_names_in_ = columns
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    else:
        fitted = getattr(estimator, "feature_names_in_", None)
        if fitted is not None and columns is not None and not np.array_equal(columns, fitted):
            raise ValueError(
                f"The column name of X, {list(columns)}, differs from the one seen in fit, "
                f"{list(fitted)}."
            )
    return samples


def _featurize_sample(featurizer, sample, index, impute_nan):
    """Magpie features (132 floats) of one sample; errors name the sample index."""
    where = f"sample {index}"
    comp = read_composition(sample, index)
    if not impute_nan:
        _check_elemental_data(featurizer, comp, where)
    values = np.asarray(featurizer.featurize(comp), dtype=np.float64)
    if not np.all(np.isfinite(values)):  # cannot happen after the check above; never silent
        bad = [featurizer.feature_labels()[i] for i in np.flatnonzero(~np.isfinite(values))]
        raise ValueError(f"{where} ({_formula(comp)}): non-finite Magpie features {bad[:5]}")
    return values


def _formula(comp):
    """Reduced formula for messages, without pymatgen's warnings on missing electronegativity."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return comp.reduced_formula


def _check_elemental_data(featurizer, comp, where):
    """Raise if an element of ``comp`` lacks a property in matminer's Magpie table."""
    source = featurizer.data_source
    for element in comp:
        missing = [
            prop
            for prop in featurizer.features
            if not np.isfinite(source.get_elemental_property(element, prop))
        ]
        if missing:
            raise ValueError(
                f"{where} ({_formula(comp)}): matminer's Magpie data has no {missing} "
                f"for element {element.symbol}; use impute_nan=True to impute the mean over "
                "all elements instead"
            )
