"""Calibrated prediction intervals: conformal prediction around any skecd model.

The calibration is crepes' normalised conformal regressor (Boström, crepes), fitted on
out-of-fold residuals; this module only supplies what crepes leaves to its user: the
out-of-fold predictions, a difficulty estimate from the model's own spread, and the
moduli's log scale.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.model_selection import KFold, check_cv
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

from ._spread import predict_with_std

__all__ = ["ConformalIntervalRegressor"]


def _refuse_sparse(X):
    if issparse(X):
        raise TypeError("ConformalIntervalRegressor: sparse input is not supported; pass a dense X")


def _take(X, index):
    """Rows ``index`` of a table (pandas, numpy, scipy.sparse, array-like) or of a list
    of samples (densities, paths)."""
    if hasattr(X, "iloc"):
        return X.iloc[index]
    if hasattr(X, "shape") and hasattr(X, "__getitem__"):
        return X[index]
    if hasattr(X, "__array__"):
        return np.asarray(X)[index]
    return [X[i] for i in index]


class ConformalIntervalRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Wrap a regressor of positive targets with calibrated prediction intervals.

    ``fit`` fits clones of ``estimator`` on the training folds of ``cv`` and predicts
    the held-out fold, then fits ``estimator`` on everything. The out-of-fold errors,
    in log space (``ln y - ln y_hat``: moduli span three decades, and an error of
    10% weighs the same on a soft and a stiff material), are divided by a difficulty
    estimate, the model's own relative spread (:func:`predict_with_std`: the trees
    of a forest, the members of an ensemble, the parts of a late fusion) plus
    ``beta``. crepes' :class:`crepes.ConformalRegressor` turns these normalised
    errors into interval half-widths for any ``confidence``, so intervals are wide
    where the model's parts disagree (materials unlike the training set) and
    narrow where they agree. Under exchangeability of the calibration and the new
    materials, the interval covers the true value with at least the requested
    probability; on materials unlike the training set the coverage is measured in
    the user guide ("Prediction intervals").

    Parameters
    ----------
    estimator : estimator
        A regressor of positive targets (one or several columns); its spread is
        read by :func:`predict_with_std`.
    cv : int or cross-validation generator, default=5
        Folds of the out-of-fold calibration; an int means ``KFold(cv,
        shuffle=True, random_state=random_state)``.
    beta : float, default=0.01
        Added to the relative spread, so that a model part with no spread (a
        single network) does not give zero-width intervals.
    scale : {"log", "linear"}, default="log"
        ``"log"``: errors and intervals in log space, for positive targets such as
        moduli (intervals stay positive). ``"linear"``: errors ``y - y_hat``
        divided by the absolute spread plus ``beta`` times the mean absolute
        target, for targets of any sign.
    random_state : int, default=None
        Seed of the folds when ``cv`` is an int.

    Attributes
    ----------
    estimator_ : estimator
        ``estimator`` fitted on all the data.
    calibration_residuals_ : ndarray of shape (n_samples, n_targets)
        Out-of-fold ``ln y - ln y_hat`` (``y - y_hat`` in linear scale).
    calibration_sigmas_ : ndarray of shape (n_samples, n_targets)
        Out-of-fold difficulties: relative spreads plus ``beta`` (log scale).
    y_scale_ : float
        Mean absolute training target (the unit of ``beta`` in linear scale).
    oof_prediction_ : ndarray of shape (n_samples, n_targets)
        The out-of-fold predictions (cross-validated figures of the model).
    n_targets_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skecd.models import ConformalIntervalRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 2, size=(200, 3))
    >>> y = 100 * X[:, 0] * np.exp(rng.normal(0, 0.1, 200))
    >>> model = ConformalIntervalRegressor(
    ...     RandomForestRegressor(20, random_state=0), random_state=0
    ... ).fit(X[:150], y[:150])
    >>> lower, upper = model.predict_interval(X[150:], confidence=0.9)
    >>> bool(np.all(lower < upper))
    True
    >>> bool(0.75 < np.mean((lower[:, 0] <= y[150:]) & (y[150:] <= upper[:, 0])) <= 1)
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "cv": ["cv_object"],
        "beta": [Interval(Real, 0, None, closed="left")],
        "scale": [StrOptions({"log", "linear"})],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, cv=5, beta=0.01, scale="log", random_state=None):
        self.estimator = estimator
        self.cv = cv
        self.beta = beta
        self.scale = scale
        self.random_state = random_state

    def _folds(self):
        if isinstance(self.cv, Integral):
            return KFold(self.cv, shuffle=True, random_state=self.random_state)
        return check_cv(self.cv)

    def fit(self, X, y, **fit_params):
        """Fit the out-of-fold calibration, then ``estimator`` on all the data.

        Parameters
        ----------
        X : list or array-like of shape (n_samples, ...)
            What ``estimator`` takes.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Positive, finite targets (GPa).
        **fit_params
            Passed to every ``estimator.fit``.

        Returns
        -------
        self : ConformalIntervalRegressor
        """
        self._validate_params()
        _refuse_sparse(X)
        y2 = self._check_y(y)
        pred = np.full_like(y2, np.nan)
        std = np.full_like(y2, np.nan)
        for train, test in self._folds().split(np.zeros(len(y2)), y2):
            fold = clone(self.estimator).fit(_take(X, train), _take(y, train), **fit_params)
            pred[test], std[test] = predict_with_std(fold, _take(X, test))
        if np.isnan(pred).any():
            raise ValueError("cv must predict every sample once (a partition, such as KFold)")
        self.oof_prediction_ = pred
        self.calibration_residuals_, self.calibration_sigmas_ = self._scores(y2, pred, std)
        self.n_targets_ = y2.shape[1]
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        return self

    def _check_y(self, y):
        """``y`` as a float array of shape (n, n_targets); positive with ``scale="log"``."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        # scikit-learn's checks refuse complex or non-numeric targets (no silent casting);
        # the finite/positive check below names the sample
        y2 = check_array(
            y, ensure_2d=False, dtype=np.float64, ensure_all_finite=False, input_name="y"
        )
        y2 = y2.reshape(len(y2), -1)
        valid = np.isfinite(y2) & ((y2 > 0) if self.scale == "log" else True)
        if not valid.all():
            bad = int(np.flatnonzero(~valid.all(axis=1))[0])
            need = "positive, finite" if self.scale == "log" else "finite"
            raise ValueError(
                f"{type(self).__name__} needs {need} targets (scale={self.scale!r}); sample "
                f"{bad} has {y2[bad].tolist()}"
            )
        self._y_scale = float(np.mean(np.abs(y2))) or 1.0
        return y2

    @property
    def n_features_in_(self):
        """Number of features seen by the fitted estimator (when it records one)."""
        check_is_fitted(self)
        return self.estimator_.n_features_in_

    @classmethod
    def from_predictions(cls, estimator, fitted, y, oof_prediction, oof_std, *, beta=0.01, cv=5):
        """A fitted instance from out-of-fold predictions made elsewhere.

        For callers that already ran the cross-validation (``skecd train --cv``
        computes the features once and reports the out-of-fold figures): the same
        calibration as :meth:`fit`, without fitting anything again.

        Parameters
        ----------
        estimator : estimator
            The unfitted model (kept as the ``estimator`` parameter).
        fitted : estimator
            The same model fitted on all of ``y``.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        oof_prediction, oof_std : array-like, same shape as ``y``
            Out-of-fold predictions and spreads (:func:`predict_with_std`).
        beta : float, default=0.01
        cv : int or cross-validation generator, default=5
            Recorded as the ``cv`` parameter (the folds that were used).

        Returns
        -------
        ConformalIntervalRegressor
        """
        self = cls(estimator, cv=cv, beta=beta)
        self._validate_params()
        y2 = self._check_y(y)
        pred = np.asarray(oof_prediction, dtype=np.float64).reshape(y2.shape)
        std = np.asarray(oof_std, dtype=np.float64).reshape(y2.shape)
        self.oof_prediction_ = pred
        self.calibration_residuals_, self.calibration_sigmas_ = self._scores(y2, pred, std)
        self.n_targets_ = y2.shape[1]
        self.estimator_ = fitted
        return self

    def _sigmas(self, pred, std):
        """Difficulty of each prediction: its spread (relative, in log scale) plus ``beta``
        (relative to the mean absolute target in linear scale); a model without spread
        (NaN) gives ``beta``."""
        std = np.nan_to_num(np.asarray(std, dtype=np.float64), nan=0.0, posinf=0.0)
        if self.scale == "linear":
            return std + self.beta * self.y_scale_
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.nan_to_num(std / np.abs(pred), nan=0.0, posinf=0.0)
        return relative + self.beta

    def _scores(self, y, pred, std):
        self.y_scale_ = self._y_scale
        if self.scale == "linear":
            return y - pred, self._sigmas(pred, std)
        if np.any(pred <= 0):
            raise ValueError(
                "the wrapped estimator predicted a non-positive modulus out of fold; "
                "use a model that learns in log space, or scale='linear'"
            )
        return np.log(y) - np.log(pred), self._sigmas(pred, std)

    def predict(self, X, return_std=False):
        """Predict with the model fitted on all the data.

        Parameters
        ----------
        X : list or array-like
        return_std : bool, default=False
            Also return the model's own spread (:func:`predict_with_std`).

        Returns
        -------
        y : ndarray
        std : ndarray, only with ``return_std``
        """
        check_is_fitted(self)
        _refuse_sparse(X)
        y, std = predict_with_std(self.estimator_, X)
        if self.n_targets_ == 1:
            y, std = y[:, 0], std[:, 0]
        return (y, std) if return_std else y

    def predict_interval(self, X, confidence=0.9):
        """Calibrated intervals around the predictions.

        Parameters
        ----------
        X : list or array-like
        confidence : float, default=0.9
            Target coverage, in (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n_samples, n_targets)
            Positive bounds in the units of ``y``.
        """
        check_is_fitted(self)
        y, std = predict_with_std(self.estimator_, X)
        return self.interval(y, std, confidence)

    def interval(self, y, std, confidence=0.9):
        """Calibrated intervals around predictions already made.

        ``predict(X, return_std=True)`` then ``interval(y, std)`` gives what
        :meth:`predict_interval` gives, without computing the features twice.

        Parameters
        ----------
        y, std : array-like of shape (n_samples,) or (n_samples, n_targets)
            Predictions and spreads of this model.
        confidence : float, default=0.9
            Target coverage, in (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n_samples, n_targets)
        """
        from crepes import ConformalRegressor

        check_is_fitted(self)
        if not (isinstance(confidence, Real) and 0 < confidence < 1):
            raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}")
        y = np.asarray(y, dtype=np.float64).reshape(-1, self.n_targets_)
        std = np.asarray(std, dtype=np.float64).reshape(y.shape)
        log = self.scale == "log"
        if not np.all(np.isfinite(y)) or (log and np.any(y <= 0)):
            raise ValueError(
                "the model predicted a non-positive or non-finite modulus: no interval"
            )
        sigmas = self._sigmas(y, std)
        centre = np.log(y) if log else y
        lower, upper = np.empty_like(y), np.empty_like(y)
        for j in range(y.shape[1]):
            conformal = ConformalRegressor().fit(
                self.calibration_residuals_[:, j], sigmas=self.calibration_sigmas_[:, j]
            )
            bounds = conformal.predict_int(centre[:, j], sigmas=sigmas[:, j], confidence=confidence)
            lower[:, j], upper[:, j] = bounds[:, 0], bounds[:, 1]
        if log:
            lower, upper = np.exp(lower), np.exp(upper)
        return lower, upper

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags  # what X may be is the wrapped model's affair
        tags.input_tags.sparse = False  # but not sparse: the spreads index rows by len(X)
        tags.target_tags.positive_only = self.scale == "log"
        tags.target_tags.multi_output = True
        tags.target_tags.required = True
        return tags
