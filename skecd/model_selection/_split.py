"""Leave-one-element-out cross-validation (the extrapolation test of Zhao et al., Table 1)."""

from __future__ import annotations

import numbers
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from skecd.io import read_composition

__all__ = ["LeaveOneElementOut", "element_split_summary"]


class LeaveOneElementOut(BaseCrossValidator):
    """Leave out, in turn, every material that contains a given chemical element.

    One split per selected element: the test set is every sample whose
    composition contains the element, the training set is all other samples.
    This measures how a model extrapolates to chemistry it has not seen.
    ``groups`` carries the chemistry of each sample.

    Parameters
    ----------
    elements : list of str, default=None
        Element symbols to leave out, one split each, in the given order. Each
        must occur in at least one sample of ``groups`` and must be absent from
        at least one (otherwise the training set would be empty). ``None``
        selects every element present in at least ``min_count`` samples and
        absent from at least one, ordered by atomic number.
    min_count : int, default=1
        With ``elements=None``, the least number of samples that must contain
        an element for it to get a split (a small test set gives a noisy
        score). Ignored when ``elements`` is given.

    See Also
    --------
    element_split_summary : The test and training set sizes of each split.
    sklearn.model_selection.LeaveOneGroupOut : Leave out one group label at a time.

    Notes
    -----
    Unlike :class:`~sklearn.model_selection.LeaveOneGroupOut`, a sample belongs
    to the test set of each of its elements, so test sets overlap: NaCl is
    tested both in the Na split and in the Cl split.

    ``groups`` entries may be formulas (``str``), pymatgen ``Composition`` or
    ``Structure`` objects, :class:`skecd.io.ChargeDensity` objects or paths to
    density files (as accepted by :class:`skecd.preprocessing.MagpieFeaturizer`).
    The splitter requests ``groups`` for metadata routing, so it also works
    under ``sklearn.set_config(enable_metadata_routing=True)`` with
    ``cross_validate(..., params={"groups": groups})``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyRegressor
    >>> from sklearn.model_selection import cross_validate
    >>> from skecd.model_selection import LeaveOneElementOut
    >>> formulas = ["NaCl", "KCl", "NaF", "KF", "LiF", "LiCl"]
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> y = np.array([24.0, 17.0, 46.0, 30.0, 70.0, 32.0])
    >>> cv = LeaveOneElementOut(min_count=3)
    >>> cv.get_n_splits(X, y, groups=formulas)
    2
    >>> [test.tolist() for _, test in cv.split(X, y, groups=formulas)]
    [[2, 3, 4], [0, 1, 5]]
    >>> scores = cross_validate(DummyRegressor(), X, y, groups=formulas, cv=cv)
    >>> scores["test_score"].shape
    (2,)
    """

    # Request ``groups`` for metadata routing (what sklearn's private
    # GroupsConsumerMixin does for LeaveOneGroupOut).
    __metadata_request__split = {"groups": True}

    def __init__(self, elements=None, min_count=1):
        self.elements = elements
        self.min_count = min_count

    def split(self, X, y=None, groups=None):
        """Generate train and test indices, one split per selected element.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data; only its length is used.
        y : array-like of shape (n_samples,), default=None
            Ignored, but its length is checked when given.
        groups : array-like of shape (n_samples,)
            Formulas, compositions, structures or densities of the samples.

        Yields
        ------
        train : ndarray of int
            Indices of the samples without the element.
        test : ndarray of int
            Indices of the samples with the element.
        """
        element_sets = _element_sets(groups, X=X, y=y)
        for element in self._selected(element_sets):
            test_mask = np.array([element in s for s in element_sets])
            yield np.flatnonzero(~test_mask), np.flatnonzero(test_mask)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the exact number of splits: the number of selected elements.

        Parameters
        ----------
        X : array-like, default=None
            Only its length is checked against ``groups`` when given.
        y : array-like, default=None
            Only its length is checked against ``groups`` when given.
        groups : array-like of shape (n_samples,)
            Formulas, compositions, structures or densities of the samples.

        Returns
        -------
        int
        """
        return len(self._selected(_element_sets(groups, X=X, y=y)))

    def _selected(self, element_sets):
        return _select_elements(element_sets, self.elements, self.min_count)


def element_split_summary(groups, elements=None, min_count=1):
    """Tabulate the leave-one-element-out splits: test and training sizes per element.

    This is the layout of Table 1 of Zhao et al.: for each left-out element,
    how many materials contain it (the test set) and how many remain for
    training.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Formulas, compositions, structures or densities of the samples.
    elements : list of str, default=None
        As in :class:`LeaveOneElementOut`.
    min_count : int, default=1
        As in :class:`LeaveOneElementOut`.

    Returns
    -------
    pandas.DataFrame
        Indexed by element symbol (``"element"``), in the order of the splits of
        ``LeaveOneElementOut(elements, min_count)``, with integer columns
        ``atomic_number``, ``n_test`` and ``n_train`` (``n_test + n_train`` is
        the number of samples).

    Examples
    --------
    >>> from skecd.model_selection import element_split_summary
    >>> element_split_summary(["NaCl", "KCl", "NaF", "KF", "LiF", "LiCl"], min_count=3)
    ... # doctest: +NORMALIZE_WHITESPACE
             atomic_number  n_test  n_train
    element
    F                    9       3        3
    Cl                  17       3        3
    """
    from pymatgen.core import Element

    element_sets = _element_sets(groups)
    selected = _select_elements(element_sets, elements, min_count)
    counts = Counter(e for s in element_sets for e in s)
    n = len(element_sets)
    table = pd.DataFrame(
        {
            "atomic_number": [Element(e).Z for e in selected],
            "n_test": [counts[e] for e in selected],
            "n_train": [n - counts[e] for e in selected],
        },
        index=pd.Index(selected, name="element"),
        dtype=np.int64,
    )
    return table


def _length(obj, name):
    if hasattr(obj, "shape") and len(getattr(obj, "shape", ())) > 0:
        return int(obj.shape[0])
    try:
        return len(obj)
    except TypeError:
        raise TypeError(
            f"{name} must be an array-like of samples, got {type(obj).__name__}"
        ) from None


def _element_sets(groups, X=None, y=None):
    """Return, per sample, the set of element symbols of its ``groups`` entry."""
    if groups is None:
        raise ValueError(
            "The 'groups' parameter should not be None: give the formula, composition or "
            "structure of each sample."
        )
    if isinstance(groups, str) or not hasattr(groups, "__len__") and not hasattr(groups, "shape"):
        raise TypeError(
            f"groups must be an array-like of formulas, compositions or structures, got "
            f"{type(groups).__name__}"
        )
    n_groups = _length(groups, "groups")
    for name, other in (("X", X), ("y", y)):
        if other is not None and _length(other, name) != n_groups:
            raise ValueError(
                f"{name} and groups have different lengths: {name} has "
                f"{_length(other, name)} samples, groups has {n_groups}."
            )
    if n_groups == 0:
        raise ValueError("groups is empty: found 0 samples, a minimum of 2 is required.")
    if isinstance(groups, np.ndarray) and groups.ndim == 2 and groups.shape[1] == 1:
        groups = groups[:, 0]
    values = list(groups.iloc[:, 0]) if hasattr(groups, "columns") else list(groups)
    return [
        frozenset(el.symbol for el in read_composition(g, where=f"groups[{i}]"))
        for i, g in enumerate(values)
    ]


def _select_elements(element_sets, elements, min_count):
    """The elements that get a split, in split order; errors name the parameter at fault."""
    from pymatgen.core import Element

    n = len(element_sets)
    counts = Counter(e for s in element_sets for e in s)
    if elements is None:
        if (
            not isinstance(min_count, numbers.Integral)
            or isinstance(min_count, bool)
            or min_count < 1
        ):
            raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
        selected = sorted(
            (e for e, c in counts.items() if min_count <= c < n), key=lambda e: Element(e).Z
        )
        if not selected:
            raise ValueError(
                f"No element is present in at least min_count={min_count} of the {n} samples "
                "and absent from at least one: no split can be made. Lower min_count."
            )
        return selected

    if isinstance(elements, str):
        elements = [elements]
    selected = []
    for symbol in elements:
        if not isinstance(symbol, str) or not Element.is_valid_symbol(symbol):
            raise ValueError(f"elements: {symbol!r} is not a chemical element symbol")
        if symbol in selected:
            raise ValueError(f"elements: {symbol!r} is listed twice")
        if counts[symbol] == 0:
            raise ValueError(f"elements: {symbol} is in none of the {n} samples of groups")
        if counts[symbol] == n:
            raise ValueError(
                f"elements: {symbol} is in all {n} samples of groups, which would leave an "
                "empty training set"
            )
        selected.append(symbol)
    if not selected:
        raise ValueError("elements is empty: give at least one element symbol, or None")
    return selected
