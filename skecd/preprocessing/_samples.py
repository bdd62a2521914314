"""Helpers shared by the transformers that take one density, structure or path per sample."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ..io import ChargeDensity


def _is_volumetric(obj):
    from pymatgen.io.common import VolumetricData

    return isinstance(obj, VolumetricData)


def check_samples(X, noun="densities or file paths"):
    """Return ``X`` as a list of samples, or say what is wrong with it.

    Parameters
    ----------
    X : sequence
        One sample per item.
    noun : str
        What a sample is, for the error messages.

    Returns
    -------
    list
    """
    from pymatgen.core import Structure

    if isinstance(X, (str, os.PathLike, ChargeDensity, Structure, dict)) or _is_volumetric(X):
        raise TypeError(
            f"X must be a list of samples, got a single {type(X).__name__}; wrap it in a list"
        )
    if isinstance(X, Iterator):
        raise TypeError(
            f"X is a {type(X).__name__}, which the first pass (fit) would use up: pass a "
            f"list of {noun}, e.g. list(X)"
        )
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(f"X must be a 1D sequence of {noun}, got an array of shape {X.shape}")
    try:
        samples = list(X)
    except TypeError:
        raise TypeError(f"X must be a list of {noun}, got {type(X).__name__}") from None
    if not samples:
        raise ValueError(f"X is empty: at least one sample ({noun}) is needed")
    return samples


def map_samples(func, samples, *, n_jobs=None, verbose=False, desc=None, unit="sample", **params):
    """Yield ``func(sample, index, **params)`` for each sample, in order.

    The calls run in joblib workers (``n_jobs``); results are yielded as they
    arrive, in order, behind a tqdm progress bar shown when ``verbose``.
    """
    jobs = (delayed(func)(obj, i, **params) for i, obj in enumerate(samples))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    yield from tqdm(results, total=len(samples), desc=desc, unit=unit, disable=not verbose)
