"""The parallel per-sample map of the featurisers (``X`` is checked in :mod:`skecd.io`)."""

from __future__ import annotations

from joblib import Parallel, delayed
from tqdm.auto import tqdm


def map_samples(func, samples, *, n_jobs=None, verbose=False, desc=None, unit="sample", **params):
    """Yield ``func(sample, index, **params)`` for each sample, in order.

    The calls run in joblib workers (``n_jobs``); results are yielded as they
    arrive, in order, behind a tqdm progress bar shown when ``verbose``.
    """
    jobs = (delayed(func)(obj, i, **params) for i, obj in enumerate(samples))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    yield from tqdm(results, total=len(samples), desc=desc, unit=unit, disable=not verbose)
