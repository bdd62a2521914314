"""Densities of many structures: worker processes, resumable output, failure record."""

from __future__ import annotations

import importlib
import json
import os
import platform
import time
import traceback
import warnings
import zipfile
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .._atomic import atomic_write, remove_partial_files
from ..io import read_gpaw_npz, write_gpaw_npz
from ..utils import parallel_backend
from ._gpaw import compute_density, import_gpaw
from ._settings import describe_settings, estimated_cost
from ._structures import check_records, read_structures

__all__ = ["build_densities"]

MANIFEST_NAME = "MANIFEST.json"
FAILURES_NAME = "failures.json"


#: Encoding of the files the builder writes: lossless, 27% smaller than numpy's deflate on
#: the bundled and extended densities (``benchmarks/results/encoding.json``).
FILE_ENCODING = "lzma"


def _compute_and_write(material_id, structure, outdir, log_dir):
    """Worker: compute one density, write it atomically, report what happened."""
    out = Path(outdir) / f"{material_id}.npz"
    if out.is_file():
        # Only files missing when the run started are given to workers, so this one was
        # written by an earlier attempt of this very task whose worker died before its
        # result came back (dask then runs the task again): keep it, do not recompute.
        return _entry_from_file(out, material_id)
    start = time.process_time()
    entry = {"material_id": material_id, "formula": structure.composition.reduced_formula}
    try:
        txt = None if log_dir is None else str(Path(log_dir) / f"{material_id}.txt")
        rho = compute_density(structure, txt=txt)  # one thread (see compute_density)
        write_gpaw_npz(rho, out, encoding=FILE_ENCODING)
    except Exception as exc:  # recorded, never stops the run
        entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["traceback"] = _portable_traceback(exc)
        entry["cpu"] = time.process_time() - start
        return entry
    entry.update(
        nat=len(rho.structure),
        spin=rho.spin is not None,
        shape=list(rho.grid_shape),
        nval=rho.metadata["n_valence"],
        cpu=time.process_time() - start,
    )
    return entry


def _portable_traceback(exc, limit=5):
    """The last frames of ``exc``'s traceback with file names only, no directory.

    The failure record is shared with the data; paths of the machine that ran the
    builder say nothing to its readers.
    """
    frames = traceback.extract_tb(exc.__traceback__)[-limit:]
    for frame in frames:
        frame.filename = Path(frame.filename).name
    lines = traceback.format_list(frames) + traceback.format_exception_only(exc)
    return "Traceback (most recent call last):\n" + "".join(lines)


def _entry_from_file(path, material_id):
    rho = read_gpaw_npz(path)
    return {
        "material_id": material_id,
        "formula": rho.formula,
        "nat": len(rho.structure),
        "spin": rho.spin is not None,
        "shape": list(rho.grid_shape),
        "nval": rho.metadata.get("n_valence", rho.n_electrons),
        "cpu": None,  # computed by an earlier run that did not record it
    }


def _first_line(text):
    return text.strip().splitlines()[0] if text.strip() else text


def _write_json(path, obj):
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1, default=float)


def _set_aside(path):
    """Rename a damaged file to ``<name>.damaged`` (kept for inspection); return the new path."""
    aside = path.with_name(path.name + ".damaged")
    os.replace(path, aside)
    return aside


def _read_record(path, valid, what):
    """The JSON content of ``path``; None if it is missing, or damaged (set aside, warned).

    ``valid`` checks the parsed content; ``what`` says how the run copes without it.
    """
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        problem = None if valid(content) else "not the layout skecd writes"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem is None:
        return content
    aside = _set_aside(path)
    warnings.warn(
        f"{path} is damaged ({problem}): {what}; it is kept as {aside.name}", stacklevel=4
    )
    return None


def _entries_valid(entries, keys=("material_id",)):
    return isinstance(entries, list) and all(
        isinstance(e, dict) and all(isinstance(e.get(k), str) for k in keys) for e in entries
    )


def _manifest_valid(manifest):
    return (
        isinstance(manifest, dict)
        and _entries_valid(manifest.get("done"))
        and _entries_valid(manifest.get("failed", []), ("material_id", "error"))
    )


def _npz_opens(path):
    """A cheap check that a density file is complete: its zip directory (at the end) reads."""
    try:
        with zipfile.ZipFile(path) as zf:
            return bool(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _module_version(name):
    """The ``__version__`` of an optional module, or None where it is not installed."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    return getattr(module, "__version__", None)


def _code_versions():
    return {
        "gpaw": _module_version("gpaw"),
        "ase": _module_version("ase"),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def build_densities(
    records,
    outdir,
    *,
    n_jobs=None,
    progress=True,
    log_dir=None,
    existing=(),
    retry_failed=False,
    backend=None,
    scheduler=None,
    order="file",
):
    """Compute and save the density of every record, resuming an earlier run.

    Each density is written as ``OUTDIR/<material_id>.npz`` (the format of
    :func:`skecd.io.read_gpaw_npz`) through a temporary file that is renamed
    when complete, so a killed run never leaves a file that looks finished
    (the temporary files of killed runs are removed); ids whose ``.npz`` exists
    are skipped. A damaged ``.npz`` (truncated by a full disk or a copy) is set
    aside as ``<material_id>.npz.damaged`` and computed again, with a warning;
    a damaged ``MANIFEST.json`` is rebuilt from the files, and a damaged
    ``failures.json`` from the manifest's list of failures. A material that fails (for example
    an element without a PAW setup) is recorded in ``OUTDIR/failures.json``
    and the run goes on; ``OUTDIR/MANIFEST.json`` records the code versions,
    the settings, and per material its formula, atoms, spin, grid, valence
    count and CPU seconds (the layout of the bundled data's manifest).

    Parameters
    ----------
    records : list of dict or str or path-like
        Records ``{"material_id": str, "structure": Structure}``, or a JSON file
        of them, a CIF or POSCAR file, or a folder of such files, read with
        :func:`skecd.density.read_structures`.
    outdir : str or path-like
        Output directory, created if needed.
    n_jobs : int or None, default=None
        Number of workers, one material each, one thread each. ``-1`` uses all
        CPUs (with dask, every worker thread of the cluster). None means 1,
        or -1 with a ``scheduler`` or the dask backend.
    progress : bool, default=True
        Show a tqdm progress bar.
    log_dir : str, path-like or None, default=None
        Directory for GPAW's text logs (``<material_id>.txt``); None keeps none.
    existing : sequence of str or path-like, default=()
        Other directories of densities (for example the bundled
        ``skecd/datasets/data/ecd_gpaw``): a material whose ``<material_id>.npz``
        is in one of them is not computed again, and the manifest lists it
        under ``elsewhere`` with that directory.
    retry_failed : bool, default=False
        Compute again the materials that ``failures.json`` records as failed
        (by default they keep their recorded failure: most are deterministic,
        such as an element without a PAW setup or an SCF that does not converge).
    backend : str or None, default=None
        joblib backend of the workers: None keeps the active one (loky worker
        processes unless a :func:`joblib.parallel_config` says otherwise);
        ``"dask"`` runs on the default dask.distributed client.
    scheduler : str, distributed.Client or None, default=None
        Address of a dask scheduler (or a client): the materials are computed
        on that cluster's workers (see :func:`skecd.utils.parallel_backend`).
        Each worker writes its ``.npz`` atomically and this process updates the
        manifest as each result arrives, so a worker that dies loses only the
        material it was computing (dask gives it to another worker), and a
        rerun skips every finished file.
    order : {"file", "cost"}, default="file"
        Order in which the materials are given to the workers: as in ``records``, or
        the cheapest first by :func:`~skecd.density.estimated_cost` (k-points x sites
        x volume, more when spin-polarised), which brings the most densities per
        CPU-hour when a large set is built over several runs.

    Returns
    -------
    dict
        The manifest written to ``OUTDIR/MANIFEST.json``: ``counts`` (``done``,
        ``failed``, ``skipped`` in this run, ``missing``), ``done``, ``failed``,
        ``missing``, ``code``, ``settings``.
    """
    if order not in ("file", "cost"):
        raise ValueError(f"build_densities: order must be 'file' or 'cost', got {order!r}")
    import_gpaw()  # fail early, with the install hint, before any work
    if not isinstance(records, (list, tuple)):
        records = read_structures(records)
    check_records(records)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if log_dir is not None:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
    remove_partial_files(outdir)  # left by killed writers (a live writer's are kept)
    state = _BuildState(records, outdir, _find_elsewhere(records, existing))
    state.set_aside_damaged_files()
    todo = state.todo(retry_failed)
    if order == "cost":  # stable: equal estimates keep the file order
        todo = sorted(todo, key=_cost_or_last)
    state.adopt_finished_files()
    jobs = (
        delayed(_compute_and_write)(r["material_id"], r["structure"], str(outdir), log_dir)
        for r in todo
    )
    with (
        parallel_backend(backend, scheduler=scheduler),
        tqdm(total=len(todo), desc="GPAW densities", unit="material", disable=not progress) as bar,
    ):
        for entry in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
            state.record(entry)
            state.save()  # after every material, so a killed run keeps its record
            bar.update()
    return state.save()


def _cost_or_last(record):
    """``estimated_cost`` of a record; a structure it cannot analyse goes last.

    Only the order depends on it: the worker then meets the same structure and records
    its error as the material's failure, instead of the whole run stopping here.
    """
    try:
        return estimated_cost(record["structure"])
    except Exception:  # any symmetry-analysis error: recorded later by the worker
        return float("inf")


def _find_elsewhere(records, existing):
    """``{material_id: directory}`` of the records whose ``.npz`` is in an ``existing`` folder."""
    elsewhere = {}
    for r in records:
        for other in map(Path, existing):
            if (other / f"{r['material_id']}.npz").is_file():
                elsewhere[r["material_id"]] = str(other)
                break
    return elsewhere


class _BuildState:
    """What a build knows of each material: done, failed, elsewhere or missing.

    It starts from the ``MANIFEST.json`` and ``failures.json`` of an earlier run
    in ``outdir`` and writes both again on :meth:`save`.
    """

    def __init__(self, records, outdir, elsewhere):
        self.records = records
        self.outdir = outdir
        self.elsewhere = elsewhere
        self.manifest_path = outdir / MANIFEST_NAME
        self.failures_path = outdir / FAILURES_NAME
        earlier = _read_record(
            self.manifest_path,
            _manifest_valid,
            "its list of finished materials is rebuilt from the .npz files",
        ) or {"done": [], "failed": []}
        self.done = {e["material_id"]: e for e in earlier["done"]}
        failures = _read_record(
            self.failures_path,
            lambda f: _entries_valid(f, ("material_id", "error")),
            f"the failures are taken from {MANIFEST_NAME}'s list (without tracebacks)",
        )
        if failures is None:
            failures = earlier.get("failed", [])
        self.failed = {e["material_id"]: e for e in failures}
        self.n_skipped = 0
        self._read_entries = {}

    def _npz(self, material_id):
        return self.outdir / f"{material_id}.npz"

    def set_aside_damaged_files(self):
        """Set aside the damaged ``.npz`` files, which are then computed again.

        A file the manifest lists is checked cheaply (its zip directory reads); one it
        does not list is read whole, as :meth:`adopt_finished_files` needs its entry.
        """
        for r in self.records:
            mid = r["material_id"]
            path = self._npz(mid)
            if mid in self.elsewhere or not path.is_file():
                continue
            if mid in self.done:
                problem = None if _npz_opens(path) else "not a complete .npz file"
            else:
                try:
                    self._read_entries[mid] = _entry_from_file(path, mid)
                    problem = None
                except (OSError, ValueError) as exc:  # DensityFileError is a ValueError
                    problem = str(exc).removeprefix(f"{str(path)!r}: ")
            if problem is not None:
                aside = _set_aside(path)
                self.done.pop(mid, None)
                warnings.warn(
                    f"{path} is damaged ({problem}): it is computed again; the damaged file "
                    f"is kept as {aside.name}",
                    stacklevel=3,
                )

    def todo(self, retry_failed):
        """The records to compute: not elsewhere, not written, not failed (unless retried).

        The others count as skipped in the manifest.
        """
        todo = [
            r
            for r in self.records
            if r["material_id"] not in self.elsewhere
            and not self._npz(r["material_id"]).is_file()
            and (retry_failed or r["material_id"] not in self.failed)
        ]
        self.n_skipped = len(self.records) - len(todo)
        return todo

    def adopt_finished_files(self):
        """Record the finished files of a run killed before it updated the manifest."""
        for r in self.records:
            mid = r["material_id"]
            if mid in self.elsewhere:
                self.done.pop(mid, None)
                self.failed.pop(mid, None)
            elif mid not in self.done and mid in self._read_entries:
                self.done[mid] = self._read_entries[mid]
                self.failed.pop(mid, None)

    def record(self, entry):
        """Record one worker's result: a success, or a failure with its error."""
        mid = entry["material_id"]
        if "error" in entry:
            self.failed[mid] = entry
            self.done.pop(mid, None)
        else:
            self.done[mid] = entry
            self.failed.pop(mid, None)

    def save(self):
        """Write ``failures.json`` and ``MANIFEST.json``; return the manifest."""
        ids = [r["material_id"] for r in self.records]
        missing = [
            mid
            for mid in ids
            if mid not in self.done and mid not in self.failed and mid not in self.elsewhere
        ]
        _write_json(self.failures_path, list(self.failed.values()))
        manifest = {
            "code": _code_versions(),
            "settings": describe_settings(),
            "counts": {
                "done": sum(mid in self.done for mid in ids),
                "failed": sum(mid in self.failed for mid in ids),
                "skipped": self.n_skipped,
                "elsewhere": len(self.elsewhere),
                "missing": len(missing),
            },
            "done": list(self.done.values()),
            "failed": [
                {
                    "material_id": e["material_id"],
                    "formula": e.get("formula"),
                    "error": _first_line(e["error"]),
                }
                for e in self.failed.values()
            ],
            "elsewhere": [{"material_id": m, "directory": d} for m, d in self.elsewhere.items()],
            "missing": missing,
        }
        _write_json(self.manifest_path, manifest)
        return manifest
