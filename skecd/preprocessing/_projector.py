"""The three axis views of a density cube (the input of the projected 2D CNN)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["AxisProjector"]

# View k puts cube axis k first and keeps the other two in cyclic order.
_VIEW_AXES = ((0, 1, 2), (1, 2, 0), (2, 0, 1))


class AxisProjector(TransformerMixin, BaseEstimator):
    """Make the three axis views of single-channel density cubes.

    Turns voxelised densities of shape ``(n, 1, D, D, D)`` (the output of
    :class:`ChargeDensityVoxelizer`) into ``(n, 3, D, D, D)``: view ``k`` is the
    cube with its axis ``k`` moved to the front, so that a 2D CNN reading a view as
    ``D`` channels of ``D x D`` images looks along axis ``k`` (the projected
    model of the paper). The other two axes follow in cyclic order::

        out[n, 0, i, j, l] = X[n, 0, i, j, l]   # view 0: axes (x, y, z)
        out[n, 1, j, l, i] = X[n, 0, i, j, l]   # view 1: axes (y, z, x)
        out[n, 2, l, i, j] = X[n, 0, i, j, l]   # view 2: axes (z, x, y)

    that is ``out[:, k] = X[:, 0].transpose(0, *(1 + a for a in axes_k))`` with
    ``axes_0 = (0, 1, 2)``, ``axes_1 = (1, 2, 0)``, ``axes_2 = (2, 0, 1)``. Each
    view is a rotation of the cube (cyclic axis permutations keep handedness),
    not a mirror image. The transformer is stateless and keeps the input's
    floating dtype (other dtypes become float32).

    See Also
    --------
    ChargeDensityVoxelizer : Makes the input cubes.

    Examples
    --------
    >>> import numpy as np
    >>> from skecd.preprocessing import AxisProjector
    >>> X = np.arange(8, dtype=np.float32).reshape(1, 1, 2, 2, 2)
    >>> views = AxisProjector().fit_transform(X)
    >>> views.shape
    (1, 3, 2, 2, 2)
    >>> # the value at cube position (x, y, z) = (1, 0, 0):
    >>> float(X[0, 0, 1, 0, 0]), float(views[0, 1, 0, 0, 1]), float(views[0, 2, 0, 1, 0])
    (4.0, 4.0, 4.0)
    """

    def fit(self, X=None, y=None):
        """Do nothing (the transformer is stateless; input is checked in transform).

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : AxisProjector
        """
        return self

    def transform(self, X):
        """Return the three axis views.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1, D, D, D)
            Single-channel cubes.

        Returns
        -------
        ndarray of shape (n_samples, 3, D, D, D)
            The views, laid out as in the class docstring.
        """
        X = _check_cubes(X)
        cube = X[:, 0]
        views = [cube.transpose(0, *(1 + a for a in axes)) for axes in _VIEW_AXES]
        return np.ascontiguousarray(np.stack(views, axis=1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # stateless
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _check_cubes(X):
    """Return ``X`` as a float array of shape (n, 1, D, D, D), or say what is wrong."""
    try:
        X = np.asarray(X)
    except Exception as exc:
        raise TypeError(
            f"AxisProjector expects an array of shape (n_samples, 1, D, D, D): {exc}"
        ) from exc
    if X.ndim != 5:
        raise ValueError(
            "AxisProjector expects an array of shape (n_samples, 1, D, D, D) "
            f"(the output of ChargeDensityVoxelizer), got {X.ndim} dimensions, shape {X.shape}"
        )
    n, channels, *edges = X.shape
    if channels != 1:
        raise ValueError(
            f"AxisProjector expects one channel (shape (n_samples, 1, D, D, D)), got {channels} "
            f"channels in shape {X.shape}; select the total density, e.g. X[:, :1]"
        )
    if len(set(edges)) != 1:
        raise ValueError(
            f"AxisProjector expects cubic grids (D, D, D), got {tuple(edges)} in shape {X.shape}"
        )
    if n == 0 or edges[0] == 0:
        raise ValueError(f"AxisProjector got an empty array of shape {X.shape}")
    if np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"AxisProjector expects real-valued cubes, got complex dtype {X.dtype}")
    if not np.issubdtype(X.dtype, np.floating):
        if not np.issubdtype(X.dtype, np.number):
            raise TypeError(f"AxisProjector expects numeric cubes, got dtype {X.dtype}")
        X = X.astype(np.float32)
    if not np.all(np.isfinite(X)):
        bad = np.unique(np.nonzero(~np.isfinite(X))[0])
        raise ValueError(f"AxisProjector: non-finite values (NaN or inf) in samples {bad.tolist()}")
    return X
