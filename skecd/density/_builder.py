"""Densities of many structures: worker processes, resumable output, failure record."""

from __future__ import annotations

import gzip
import importlib
import json
import os
import platform
import time
import traceback
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from pymatgen.core import Structure
from tqdm.auto import tqdm

from ..io import read_gpaw_npz, write_gpaw_npz
from ..utils import parallel_backend
from ..utils._atomic import atomic_write
from ._gpaw import compute_density, import_gpaw
from ._settings import describe_settings, estimated_cost
from ._structures import read_structures

__all__ = ["build_densities", "read_structure_records"]

MANIFEST_NAME = "MANIFEST.json"
FAILURES_NAME = "failures.json"


def read_structure_records(path):
    """Read a JSON list of structure records (optionally gzipped).

    Parameters
    ----------
    path : str or path-like
        A ``.json`` or ``.json.gz`` file holding a list of objects, each with a
        ``material_id`` (a string, used as the output file name) and a
        ``structure`` (pymatgen ``Structure.as_dict()``); other keys (such as
        ``formula``, ``K_VRH``) are ignored. The bundled
        ``fcc_fm3m_elastic.json.gz`` (see
        :func:`skecd.datasets.load_fcc_elastic_structures`) has this layout.

    Returns
    -------
    list of dict
        ``{"material_id": str, "structure": Structure}`` in file order.

    Raises
    ------
    ValueError
        Naming the file and the index of the first bad record, or a repeated id.
    """
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            raw = json.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"No such structures file: {str(path)!r}") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"Could not read structures file {str(path)!r}: {exc}") from exc
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of records, got {type(raw).__name__}")
    records, seen = [], set()
    for index, item in enumerate(raw):
        where = f"{path}, record {index}"
        if not isinstance(item, dict) or "material_id" not in item or "structure" not in item:
            raise ValueError(f"{where}: needs the keys 'material_id' and 'structure'")
        mid = item["material_id"]
        if not isinstance(mid, str) or not mid or os.sep in mid or mid.startswith("."):
            raise ValueError(f"{where}: material_id {mid!r} cannot name a file")
        if mid in seen:
            raise ValueError(f"{where}: material_id {mid!r} appears twice")
        seen.add(mid)
        try:
            structure = Structure.from_dict(item["structure"])
        except Exception as exc:
            raise ValueError(f"{where} ({mid}): invalid structure: {exc}") from exc
        records.append({"material_id": mid, "structure": structure})
    return records


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


def _read_json(path, default):
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


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
    when complete, so a killed run never leaves a file that looks finished;
    ids whose ``.npz`` exists are skipped. A material that fails (for example
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
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if log_dir is not None:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
    state = _BuildState(records, outdir, _find_elsewhere(records, existing))
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
        earlier = _read_json(self.manifest_path, {}).get("done", [])
        self.done = {e["material_id"]: e for e in earlier}
        self.failed = {e["material_id"]: e for e in _read_json(self.failures_path, [])}
        self.n_skipped = 0

    def _npz(self, material_id):
        return self.outdir / f"{material_id}.npz"

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
            elif mid not in self.done and self._npz(mid).is_file():
                self.done[mid] = _entry_from_file(self._npz(mid), mid)
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
                {**{k: e[k] for k in ("material_id", "formula")}, "error": _first_line(e["error"])}
                for e in self.failed.values()
            ],
            "elsewhere": [{"material_id": m, "directory": d} for m, d in self.elsewhere.items()],
            "missing": missing,
        }
        _write_json(self.manifest_path, manifest)
        return manifest
