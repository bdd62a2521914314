"""Out-of-core inputs for the skecd networks: arrays read from disk one sample at a time.

``SkecdNetRegressor`` validates an in-memory ``X`` with scikit-learn's
``validate_data``, which converts it to one array and scans it for NaN. For a
:class:`skecd.preprocessing.VoxelArray` (the on-disk voxel cache) or a
``numpy.memmap`` that would read the whole set into memory, so these inputs
take this path instead: their shape is checked from the metadata (the cache
checked every cube for NaN when it wrote it), and skorch gets a torch
``Dataset`` that reads each sample when the DataLoader asks for it. Memory then
holds a batch (times the DataLoader's prefetch), not the data set.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ..preprocessing import VoxelArray

__all__ = ["LazyDataset", "check_lazy_X", "is_lazy_input"]


def is_lazy_input(X):
    """Whether ``X`` is read sample by sample (a VoxelArray or a numpy.memmap)."""
    return isinstance(X, (VoxelArray, np.memmap))


def check_lazy_X(estimator, X, reset):
    """The shape checks of ``SkecdNetRegressor._check_X`` from ``X``'s metadata only.

    Parameters
    ----------
    estimator : SkecdNetRegressor
    X : VoxelArray or numpy.memmap
    reset : bool
        Whether this is a first fit (sets ``n_features_in_``).

    Returns
    -------
    X : the same object, unread
    """
    name = type(estimator).__name__
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"X: {name} needs floating-point samples, got dtype {X.dtype}.")
    if len(X) == 0:
        raise ValueError(f"X: {name} got 0 samples.")
    if X.ndim != estimator._x_ndim:
        raise ValueError(
            f"X: {name} expects an array of rank {estimator._x_ndim}, "
            f"got shape {X.shape} (rank {X.ndim})."
        )
    estimator._check_sample_shape(X.shape[1:])
    if reset:
        estimator.n_features_in_ = X.shape[1]
    elif tuple(X.shape[1:]) != tuple(estimator.input_shape_):
        raise ValueError(
            f"X: samples of shape {X.shape[1:]} but {name} was fitted "
            f"on samples of shape {tuple(estimator.input_shape_)}."
        )
    return X


class LazyDataset(Dataset):
    """A torch Dataset over an array read sample by sample, with optional targets.

    Parameters
    ----------
    X : VoxelArray, numpy.memmap or any sequence of arrays
        Indexing ``X[i]`` returns sample ``i``.
    y : ndarray of shape (n_samples, n_targets) or None
        Targets; ``None`` (prediction) yields a dummy target, as skorch does.
    """

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        x = torch.from_numpy(np.array(self.X[i], dtype=np.float32))
        if self.y is None:
            return x, torch.zeros(1)
        return x, torch.as_tensor(self.y[i])
