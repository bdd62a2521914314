"""An on-disk cache of voxelised densities, read lazily one sample at a time.

Voxelising costs 0.1 to 0.3 s per density, and 10,000 cubes of 60^3 float32
take 8.6 GB: more than a laptop holds, and work that should be done once.
:func:`voxelize_to_cache` writes the cubes, a chunk at a time, into one ``.npy``
file keyed by the voxeliser's settings and the input files, and returns a
:class:`VoxelArray`, an array-like that reads samples from disk on demand. The
skecd networks train and predict from it without loading it whole, and
scikit-learn's cross-validation indexes it lazily (a fold is a
:class:`VoxelArray` over a subset of the rows).
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..io import check_samples

__all__ = ["VoxelArray", "voxelize_to_cache"]

_FORMAT = 1  # layout of the record file; bumped when it changes


def _npy_data_offset(path):
    """Byte offset of the data block of an ``.npy`` file, with its shape and dtype."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        if fortran:
            raise ValueError(f"{path}: Fortran-ordered arrays are not supported")
        return fh.tell(), tuple(shape), np.dtype(dtype)


class VoxelArray:
    """Read-only array of samples stored in an ``.npy`` file, read on demand.

    Indexing with an integer reads that one sample from disk (with an ordinary
    file read, so the data goes through the kernel's page cache and never
    counts towards the process's resident memory); indexing with a slice, a
    list or an array of integers or booleans returns another
    :class:`VoxelArray` over those rows, without reading anything.
    ``np.asarray`` reads the selected rows into memory. The object pickles by
    path, so it can be sent to DataLoader or joblib workers.

    Made by :func:`voxelize_to_cache`; a plain ``.npy`` file of shape
    ``(n_samples, ...)`` can be opened with ``VoxelArray(path)`` too.

    Parameters
    ----------
    path : str or path-like
        The ``.npy`` file (C order).
    indices : array-like of int, default=None
        Rows of the file this array shows, in order; ``None`` means all.

    Attributes
    ----------
    shape : tuple of int
    dtype : numpy.dtype
    ndim : int

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skecd.preprocessing import VoxelArray
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.arange(24, dtype=np.float32).reshape(4, 1, 6))
    >>> X = VoxelArray(path)
    >>> X.shape, X[1].ravel().tolist()
    ((4, 1, 6), [6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    >>> fold = X[[3, 0]]  # lazy: nothing read yet
    >>> fold.shape, np.asarray(fold)[:, 0, 0].tolist()
    ((2, 1, 6), [18.0, 0.0])
    """

    def __init__(self, path, indices=None):
        self.path = Path(path)
        self._offset, file_shape, self.dtype = _npy_data_offset(self.path)
        if len(file_shape) < 1:
            raise ValueError(f"{self.path}: a VoxelArray needs an array with a sample axis")
        self._n_rows = file_shape[0]
        self._sample_shape = file_shape[1:]
        self._sample_nbytes = int(np.prod(self._sample_shape, dtype=np.int64)) * self.dtype.itemsize
        if indices is None:
            self._indices = None
        else:
            idx = np.asarray(indices, dtype=np.int64).ravel()
            if idx.size and (idx.min() < 0 or idx.max() >= self._n_rows):
                raise IndexError(f"{self.path}: row index out of range 0..{self._n_rows - 1}")
            self._indices = idx

    # -------------------------------------------------------------- array-like
    @property
    def shape(self):
        """Shape ``(n_samples, *sample_shape)``."""
        return (len(self), *self._sample_shape)

    @property
    def ndim(self):
        """Number of axes."""
        return 1 + len(self._sample_shape)

    @property
    def nbytes(self):
        """Bytes the selected rows would take in memory."""
        return len(self) * self._sample_nbytes

    def __len__(self):
        return self._n_rows if self._indices is None else len(self._indices)

    def _rows(self):
        return np.arange(self._n_rows) if self._indices is None else self._indices

    def _read_row(self, row):
        # An explicit read, not a memory map: mapped pages count towards the
        # process's resident set until the kernel evicts them, so reading a whole
        # epoch through a map would grow the resident memory to the file's size.
        with open(self.path, "rb") as fh:
            fh.seek(self._offset + int(row) * self._sample_nbytes)
            data = fh.read(self._sample_nbytes)
        if len(data) != self._sample_nbytes:
            raise OSError(f"{self.path}: row {row} is truncated")
        return np.frombuffer(data, dtype=self.dtype).reshape(self._sample_shape).copy()

    def __getitem__(self, key):
        if isinstance(key, tuple):
            # scikit-learn indexes rows as ``X[key, ...]``; only that form is lazy
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                return np.asarray(self)[key]
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            n = len(self)
            if not -n <= key < n:
                raise IndexError(f"index {key} is out of range for {n} samples")
            return self._read_row(self._rows()[key])
        rows = self._rows()[key]  # slices, integer and boolean masks as numpy does
        return VoxelArray(self.path, indices=np.atleast_1d(rows))

    def __array__(self, dtype=None, copy=None):
        out = np.empty(self.shape, dtype=self.dtype)
        for i, row in enumerate(self._rows()):
            out[i] = self._read_row(row)
        return out if dtype is None else out.astype(dtype, copy=False)

    def memmap(self):
        """Return the whole file as a read-only ``numpy.memmap`` (all rows)."""
        return np.load(self.path, mmap_mode="r")

    def __getstate__(self):
        return {"path": str(self.path), "indices": self._indices}

    def __setstate__(self, state):
        self.__init__(state["path"], state["indices"])

    def __repr__(self):
        return f"VoxelArray({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"


def _sample_fingerprint(obj, index):
    """A short string that changes when the sample's content may have changed."""
    from ..io import ChargeDensity

    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        try:
            st = path.stat()
        except OSError as exc:
            raise FileNotFoundError(f"sample {index}: cannot read {str(path)!r}: {exc}") from None
        # path + size + modification time: cheap, and what build tools (make, joblib) use
        return f"file:{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    h = hashlib.sha256()
    if isinstance(obj, ChargeDensity):
        arrays = [obj.total, obj.spin]
        structure = obj.structure
    elif hasattr(obj, "data") and hasattr(obj, "structure"):  # pymatgen VolumetricData
        arrays = [obj.data.get("total"), obj.data.get("diff")]
        structure = obj.structure
    else:
        raise TypeError(
            f"sample {index}: cannot key a cache on a {type(obj).__name__}; "
            "pass file paths, ChargeDensity or VolumetricData objects"
        )
    for a in arrays:
        if a is not None:
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
    h.update(json.dumps(structure.as_dict(), sort_keys=True, default=str).encode())
    return "obj:" + h.hexdigest()


def _settings(voxelizer):
    params = voxelizer.get_params(deep=False)
    for name in ("n_jobs", "verbose"):  # how, not what, is computed
        params.pop(name, None)
    return {"class": type(voxelizer).__qualname__, "params": params}


def _write_record(path, record):
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a reader sees the old or the new record


def voxelize_to_cache(voxelizer, X, cache_dir, *, chunk_size=64, verbose=False):
    """Voxelise ``X`` once into an ``.npy`` file on disk and return it as a :class:`VoxelArray`.

    The file ``CACHE_DIR/<key>.npy`` is named by a SHA-256 key of the
    voxeliser's class and parameters (``n_jobs`` and ``verbose`` excepted) and
    of every sample: path, size and modification time for files, a hash of the
    content for in-memory densities. A second call with the same settings and
    inputs returns the cached array at once; a change to any file or setting
    makes a new key.

    The cubes are computed ``chunk_size`` samples at a time with
    ``voxelizer.transform`` (so its ``n_jobs`` and the active joblib backend
    apply) and written into their rows of the file; memory holds one chunk, not
    the whole set. ``CACHE_DIR/<key>.json`` records how many rows are written,
    and is replaced atomically after each chunk has been written and flushed:
    a killed run resumes at the first unwritten chunk, and the array is only
    returned once every row is written.

    Parameters
    ----------
    voxelizer : ChargeDensityVoxelizer
        The voxeliser (or any transformer with ``get_params`` and
        ``transform`` returning float arrays of one shape per sample).
    X : list of str, path-like, ChargeDensity or VolumetricData
        The samples.
    cache_dir : str or path-like
        Directory of the cache files, created if needed.
    chunk_size : int, default=64
        Samples voxelised and written at a time (at 60^3, 64 cubes are 55 MB).
    verbose : bool, default=False
        Show a progress bar over the chunks.

    Returns
    -------
    VoxelArray
        Shape ``(n_samples, n_channels, D, D, D)``, float32, read lazily.

    See Also
    --------
    VoxelArray : The array returned; networks train from it out of core.

    Notes
    -----
    ``Pipeline(memory=...)`` (a :class:`joblib.Memory`) also avoids
    re-voxelising, but it pickles the whole output array and loads it back
    into memory; it serves when the cubes fit in memory. Concurrent writers of
    the same key are not supported.

    Examples
    --------
    >>> import tempfile
    >>> from skecd.datasets import get_sample_chgcar_paths
    >>> from skecd.preprocessing import ChargeDensityVoxelizer, voxelize_to_cache
    >>> paths = sorted(get_sample_chgcar_paths().values())[:2]
    >>> cache = voxelize_to_cache(ChargeDensityVoxelizer(grid_size=12), paths, tempfile.mkdtemp())
    >>> cache.shape
    (2, 1, 12, 12, 12)
    """
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, numbers.Integral)
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    samples = check_samples(X)
    settings = _settings(voxelizer)
    key = _cache_key(settings, samples)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    data_path, record_path = cache_dir / f"{key}.npy", cache_dir / f"{key}.json"

    record = json.loads(record_path.read_text("utf-8")) if record_path.is_file() else None
    if record is not None and not data_path.is_file():
        record = None  # the data file was removed: start again
    n = len(samples)
    n_done = 0 if record is None else int(record["n_done"])
    if record is not None and n_done >= n:
        return VoxelArray(data_path)

    bar = tqdm(total=n, initial=n_done, desc="Caching voxels", unit="density", disable=not verbose)
    with bar:
        for start in range(n_done, n, chunk_size):
            stop = min(start + chunk_size, n)
            cubes = _voxelize_chunk(voxelizer, samples, start, stop)
            if record is None:
                record = _new_cache_file(data_path, (n, *cubes.shape[1:]), key, settings)
            _write_rows(data_path, start, cubes)
            record["n_done"] = stop
            _write_record(record_path, record)  # only after the rows are on disk
            bar.update(stop - start)
    return VoxelArray(data_path)


def _cache_key(settings, samples):
    """SHA-256 key (32 hex digits) of the format, the voxeliser's settings and the samples."""
    key_source = json.dumps(
        {
            "format": _FORMAT,
            "settings": settings,
            "samples": [_sample_fingerprint(obj, i) for i, obj in enumerate(samples)],
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(key_source.encode()).hexdigest()[:32]


def _voxelize_chunk(voxelizer, samples, start, stop):
    """Float32 cubes of ``samples[start:stop]``; a non-finite cube is refused by its index."""
    cubes = np.ascontiguousarray(voxelizer.transform(samples[start:stop]), np.float32)
    if not np.all(np.isfinite(cubes)):
        bad = start + int(
            np.flatnonzero(~np.isfinite(cubes).reshape(len(cubes), -1).all(axis=1))[0]
        )
        raise ValueError(f"sample {bad}: voxels hold non-finite values")
    return cubes


def _new_cache_file(data_path, shape, key, settings):
    """Preallocate the ``.npy`` file of ``shape`` and return its record (no row written)."""
    # The data block is sparse until written, so the disk fills as rows are written.
    np.lib.format.open_memmap(data_path, mode="w+", dtype=np.float32, shape=shape)
    return {
        "format": _FORMAT,
        "key": key,
        "settings": settings,
        "shape": list(shape),
        "dtype": "float32",
        "n_done": 0,
    }


def _write_rows(data_path, start, cubes):
    """Write ``cubes`` into rows ``start, start + 1, ...`` of the file and flush them to disk."""
    offset, shape, _ = _npy_data_offset(data_path)
    if tuple(cubes.shape[1:]) != tuple(shape[1:]):
        raise ValueError(
            f"samples {start}-{start + len(cubes) - 1}: cubes of shape {cubes.shape[1:]}, "
            f"the cache holds {tuple(shape[1:])}"
        )
    with open(data_path, "r+b") as fh:
        fh.seek(offset + start * cubes[0].nbytes)
        fh.write(cubes.tobytes())
        fh.flush()
        os.fsync(fh.fileno())
