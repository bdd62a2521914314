"""Regression metrics of the benchmark (R^2, RMSE, MAE, MAE of log10)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

__all__ = ["LOG_FLOOR_GPA", "log10_mae", "regression_metrics"]

#: Predictions (and targets) below this modulus, in GPa, are raised to it before
#: taking log10 in :func:`log10_mae`: a CNN can predict a negative modulus, whose
#: logarithm does not exist. Every target of the bundled data set is above it
#: (smallest G_VRH 0.5 GPa).
LOG_FLOOR_GPA = 0.1


def log10_mae(y_true, y_pred, floor=LOG_FLOOR_GPA):
    """Mean absolute error of log10 moduli (the Matbench ``log_kvrh``/``log_gvrh`` metric).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Moduli in GPa.
    floor : float, default=LOG_FLOOR_GPA
        Values below ``floor`` are raised to ``floor`` before the logarithm.

    Returns
    -------
    float

    Examples
    --------
    >>> from skecd.benchmark import log10_mae
    >>> round(log10_mae([10.0, 100.0], [100.0, 100.0]), 6)
    0.5
    """
    y_true = np.maximum(np.asarray(y_true, dtype=np.float64), floor)
    y_pred = np.maximum(np.asarray(y_pred, dtype=np.float64), floor)
    return mean_absolute_error(np.log10(y_true), np.log10(y_pred))


def regression_metrics(y_true, y_pred):
    """Return the benchmark's metrics of one set of predictions.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        DFT and predicted moduli in GPa.

    Returns
    -------
    dict
        ``r2`` (coefficient of determination), ``rmse`` and ``mae`` (GPa) and
        ``log10_mae`` (see :func:`log10_mae`); ``n`` the number of samples.

    Examples
    --------
    >>> from skecd.benchmark import regression_metrics
    >>> m = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    >>> round(m["mae"], 4), round(m["r2"], 4)
    (0.3333, 0.5)
    """
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape} vs {y_pred.shape}")
    if not np.all(np.isfinite(y_pred)):
        raise ValueError(f"{int((~np.isfinite(y_pred)).sum())} predictions are NaN or infinite")
    return {
        "n": int(y_true.size),
        "r2": float(r2_score(y_true, y_pred)) if y_true.size > 1 else float("nan"),
        "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "log10_mae": float(log10_mae(y_true, y_pred)),
    }
