"""Where skecd's per-sample and per-material work runs: joblib backends, dask.distributed.

Every per-sample map of skecd (the voxeliser, the descriptors, Magpie, the
crystal graphs) and the density builder run their work through
:class:`joblib.Parallel` without naming a backend, so they honour the active
:func:`joblib.parallel_config`: loky worker processes by default, or a
dask.distributed cluster under ``parallel_config(backend="dask")``.
:func:`parallel_backend` opens that context from a scheduler address, so the
same code runs on one machine or on a cluster (no scheduler of skecd's own).
"""

from __future__ import annotations

import contextlib

__all__ = ["parallel_backend"]


@contextlib.contextmanager
def parallel_backend(backend=None, *, scheduler=None, n_jobs=None):
    """Run skecd's parallel work on a joblib backend or a dask.distributed cluster.

    Parameters
    ----------
    backend : str or None, default=None
        A joblib backend name (``"loky"``, ``"threading"``, ``"dask"``, ...).
        ``None`` keeps the active one (loky unless a
        :func:`joblib.parallel_config` says otherwise), or ``"dask"`` when a
        ``scheduler`` is given.
    scheduler : str, distributed.Client or None, default=None
        Address of a running dask scheduler (``"tcp://host:8786"``), or a
        ``distributed.Client``. A client opened from an address is closed on
        exit. With ``"dask"`` and no scheduler, the current default client is
        used (the one last created in this process).
    n_jobs : int or None, default=None
        Default number of workers for the skecd estimators whose ``n_jobs`` is
        None; with dask, ``None`` means -1 (every worker thread of the cluster),
        since joblib runs ``n_jobs=1`` in the calling process.

    Yields
    ------
    distributed.Client or None
        The client in use with dask, else None.

    Examples
    --------
    >>> from skecd.preprocessing import ChargeDensityVoxelizer
    >>> from skecd.utils import parallel_backend
    >>> from skecd.datasets import get_sample_chgcar_paths
    >>> paths = sorted(get_sample_chgcar_paths().values())[:2]
    >>> with parallel_backend("threading", n_jobs=2):
    ...     X = ChargeDensityVoxelizer(grid_size=8).transform(paths)
    >>> X.shape
    (2, 1, 8, 8, 8)

    On a cluster (not run here)::

        with parallel_backend(scheduler="tcp://scheduler:8786"):
            X = ChargeDensityVoxelizer().transform(paths)
            build_densities(records, "out")
    """
    from joblib import parallel_config

    with contextlib.ExitStack() as stack:
        client = None
        if scheduler is not None:
            if backend not in (None, "dask"):
                raise ValueError(f"a scheduler needs backend='dask' (or None), got {backend!r}")
            from distributed import Client

            backend = "dask"
            if isinstance(scheduler, Client):
                client = scheduler
            else:
                client = stack.enter_context(Client(scheduler, set_as_default=False))
        if backend == "dask" and n_jobs is None:
            n_jobs = -1
        kwargs = {}
        if backend is not None:
            kwargs["backend"] = backend
        if n_jobs is not None:
            kwargs["n_jobs"] = n_jobs
        if backend == "dask":
            if client is None:
                from distributed import get_client

                client = get_client()  # the default client, as joblib's dask backend does
            kwargs["client"] = client
        stack.enter_context(parallel_config(**kwargs))
        yield client
