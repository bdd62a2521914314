"""Spreads of predictions: one function for every kind of skecd model.

Lives with the models (not in :mod:`skecd.inference`) so that meta-estimators such as
:class:`~skecd.models.ConformalIntervalRegressor` can use it without an upward import.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import Pipeline

from ._late import LateFusionRegressor

__all__ = ["predict_with_std"]

_FORESTS = (RandomForestRegressor, ExtraTreesRegressor)


def predict_with_std(estimator, X):
    """Predict, with a spread of the prediction where the model has one.

    Parameters
    ----------
    estimator : estimator
        A fitted model. Its spread is the ensemble's (``predict(X,
        return_std=True)``) when its ``predict`` takes ``return_std`` (such as
        :class:`~skecd.models.InvariantECDRegressor`); else, for a random
        forest, the standard deviation of its trees' predictions; for a
        :class:`~skecd.models.LateFusionRegressor`, the standard deviation of the
        weighted mixture of its parts (their own spreads and their disagreement);
        else NaN.
        Either may be alone, the last step of a ``Pipeline``, or per target in a
        ``MultiOutputRegressor``.
    X : list
        Samples.

    Returns
    -------
    y : ndarray of shape (n_samples, n_targets)
    std : ndarray of shape (n_samples, n_targets)
        NaN where the model gives no spread.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skecd.models import predict_with_std
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> forest = RandomForestRegressor(5, random_state=0).fit(X, X.sum(axis=1))
    >>> y, std = predict_with_std(forest, X[:2])
    >>> y.shape, std.shape
    ((2, 1), (2, 1))
    """
    if isinstance(estimator, MultiOutputRegressor):
        parts = [predict_with_std(e, X) for e in estimator.estimators_]
        return np.hstack([p[0] for p in parts]), np.hstack([p[1] for p in parts])
    final, Xt = estimator, X
    if isinstance(estimator, Pipeline) and _has_spread(estimator[-1]):
        # A Pipeline's own predict has no return_std: the spread is its final step's,
        # on the features of the steps before it.
        final, Xt = estimator[-1], estimator[:-1].transform(X)
    if isinstance(final, LateFusionRegressor):
        return _mixture(final, Xt)
    if _takes_return_std(final):
        y, std = final.predict(Xt, return_std=True)
        return _2d(y), _2d(std)
    if isinstance(final, _FORESTS):
        y = _2d(final.predict(Xt))
        trees = np.stack([_2d(t.predict(np.asarray(Xt))) for t in final.estimators_])
        return y, trees.std(axis=0)
    y = _2d(estimator.predict(X))
    return y, np.full_like(y, np.nan)


def _mixture(late, X):
    """Mean and standard deviation of the weighted mixture of the late fusion's parts."""
    parts = [predict_with_std(est, X) for est in late.estimators_]
    weights = late._weights()
    mean = sum(w * y for w, (y, _) in zip(weights, parts, strict=True))
    # a part without a spread (NaN) adds only its disagreement with the others
    second = sum(
        w * (np.nan_to_num(std) ** 2 + y**2) for w, (y, std) in zip(weights, parts, strict=True)
    )
    return mean, np.sqrt(np.clip(second - mean**2, 0.0, None))


def _takes_return_std(estimator):
    return "return_std" in inspect.signature(estimator.predict).parameters


def _has_spread(estimator):
    return _takes_return_std(estimator) or isinstance(estimator, (*_FORESTS, LateFusionRegressor))


def _2d(a):
    """Predictions as (n_samples, n_targets)."""
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(len(a), -1)
