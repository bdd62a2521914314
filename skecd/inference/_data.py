"""Inputs of ``skecd train`` and ``skecd predict``: files, folders, tables, bundled data.

One input is read into a :class:`~skecd.io.ChargeDensity` (VASP volumetric files,
skecd ``.npz``, Gaussian cube files) or a pymatgen ``Structure`` (CIF, POSCAR and
the other formats pymatgen reads); :func:`training_data` gathers a labelled set
from the bundled data or a user's table, with what the applicability checks of
``skecd predict`` need to know about it.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from sklearn.utils import Bunch

from .._settings import DATA_ALIASES, DATA_SETS
from ..datasets import TARGET_NAMES

__all__ = [
    "DENSITY_SOURCES",
    "dataset_hash",
    "expand_inputs",
    "read_input",
    "training_data",
]

#: Largest elastic modulus (GPa) a training table may hold: diamond's bulk modulus is 443
#: GPa; a larger value is in other units (MPa, Pa) or a typo.
MAX_MODULUS = 1e4

#: Code that produced a density, by reader.
DENSITY_SOURCES = {"npz": "GPAW", "chgcar": "VASP", "cube": "cube file", "object": "unknown"}


def expand_inputs(paths, skipped=None):
    """Expand folders into the density and structure files they hold (sorted).

    Parameters
    ----------
    paths : list of str or path-like
        Files (taken as given) and folders (searched, not recursively, for files
        whose name or content :func:`skecd.io.file_kind` recognises: VASP
        CHGCAR/CHG/AECCAR/PARCHG files, ``.npz``, cube and structure files,
        compressed or not).
    skipped : list, default=None
        If given, a ``(path, reason)`` pair is appended for every file of a folder
        that is not taken (so that none is dropped without a word).

    Returns
    -------
    list of pathlib.Path
    """
    from ..io import file_kind

    out = []
    for p in map(Path, paths):
        if p.is_dir():
            for q in sorted(p.iterdir()):
                if not q.is_file():
                    if skipped is not None:
                        why = "a folder (folders are not searched recursively)"
                        skipped.append((q, why if q.is_dir() else "not a regular file"))
                    continue
                if file_kind(q) is not None:
                    out.append(q)
                elif skipped is not None:
                    skipped.append(
                        (q, "neither a density nor a structure file (by name and content)")
                    )
        else:
            out.append(p)
    return out


def read_input(path, species=None):
    """Read one input file into a density or a structure.

    Parameters
    ----------
    path : str or path-like
        A VASP volumetric file (CHGCAR, CHG, ... in any compression), a skecd
        ``.npz``, a Gaussian cube file, or a structure file (CIF, POSCAR, JSON,
        ...), recognised by :func:`skecd.io.file_kind` from its name or content.
    species : list of str, default=None
        Elements of the atom types of a VASP 4 file (whose header names none), as
        :func:`skecd.io.read_chgcar` takes them.

    Returns
    -------
    obj : ChargeDensity or pymatgen.core.Structure
    source : str
        ``"GPAW"``, ``"VASP"``, ``"cube file"`` or ``"structure"``.

    Raises
    ------
    FileNotFoundError, ValueError
        With the file named in the message.
    """
    from ..io import (
        STRUCTURE_KINDS,
        file_kind,
        read_chgcar,
        read_cube,
        read_gpaw_npz,
        read_structure_file,
    )

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    kind = file_kind(path)
    if kind is None:
        raise ValueError(
            f"{str(path)!r} is neither a density nor a structure file (by name and content: "
            "expected a VASP CHGCAR/CHG, a skecd .npz, a cube file, or CIF/POSCAR/JSON/XSF)"
        )
    if kind in STRUCTURE_KINDS:
        return read_structure_file(path, kind), "structure"
    if kind == "npz":
        return read_gpaw_npz(path), DENSITY_SOURCES["npz"]
    if kind == "cube":
        return read_cube(path), DENSITY_SOURCES["cube"]
    return read_chgcar(path, species=species), DENSITY_SOURCES["chgcar"]


def dataset_hash(ids, target, samples=()):
    """SHA-256 of a labelled set: its ids, targets and density grids (hex digest).

    Parameters
    ----------
    ids : list of str
    target : ndarray
    samples : list of ChargeDensity or Structure
        Densities contribute their grids, structures their JSON.

    Returns
    -------
    str
    """
    h = hashlib.sha256()
    h.update(json.dumps([str(i) for i in ids]).encode())
    h.update(np.ascontiguousarray(target, dtype=np.float64).tobytes())
    for s in samples:
        if isinstance(s, Structure):
            h.update(json.dumps(s.as_dict(), sort_keys=True, default=str).encode())
        else:
            h.update(np.ascontiguousarray(s.total).tobytes())
    return h.hexdigest()


def _bundled(data):
    from .. import datasets

    if data == "bundled":
        ds = datasets.load_fcc_elastic()
        name = "skecd.datasets.load_fcc_elastic"
    else:
        loader = getattr(datasets, "load_elastic", None)
        if loader is None:
            raise ValueError(
                "--data extended needs the extended data set (skecd.datasets.load_elastic), which "
                "this version of skecd does not have; use --data bundled or a table of your own"
            )
        ds = loader()
        name = "skecd.datasets.load_elastic"
    return Bunch(
        samples=list(ds.data),
        target=np.asarray(ds.target, dtype=np.float64),
        target_names=list(ds.target_names),
        ids=[str(i) for i in ds.material_ids],
        structures=[d.structure for d in ds.data],
        sources=["GPAW"] * len(ds.data),
        groups=[str(i) for i in ds.material_ids],
        name=name,
    )


def _read_table(path):
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No such table: {str(path)!r} (--data takes 'bundled', the bundled Fm-3m set, "
            "'extended', the extended set, or a CSV/JSON table of your own)"
        )
    low = path.name.lower()
    try:
        if low.endswith((".json", ".json.gz")):
            return pd.read_json(path)
        if low.endswith((".csv", ".csv.gz")):
            return pd.read_csv(path)
    except Exception as exc:
        raise ValueError(f"Could not read table {str(path)!r}: {exc}") from exc
    raise ValueError(f"table {str(path)!r}: expected a .csv or .json file")


def _structure_cell(value, where):
    from ..io import check_structure, structure_from_dict

    if isinstance(value, Structure):
        return check_structure(value, where)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)  # plain JSON: monty's decoder would import modules
        except ValueError as exc:
            raise ValueError(f"{where}: the 'structure' cell is not valid JSON ({exc})") from None
    if isinstance(value, dict):
        return structure_from_dict(value, where)  # pymatgen's own classes only
    if value is None or (isinstance(value, float) and value != value) or value == "":
        raise ValueError(f"{where}: no 'path' and no 'structure': nothing to read")
    raise ValueError(f"{where}: expected a structure as a pymatgen dict, got {str(value)[:60]!r}")


def _sample_digest(sample):
    """SHA-256 of one sample's content (equal samples, equal digests)."""
    h = hashlib.sha256()
    if isinstance(sample, Structure):
        h.update(json.dumps(sample.as_dict(), sort_keys=True, default=str).encode())
    else:
        h.update(np.ascontiguousarray(sample.structure.lattice.matrix).tobytes())
        h.update(np.ascontiguousarray(sample.total).tobytes())
    return h.hexdigest()


def _table_targets(df, targets, path):
    """The target columns as floats; every bad cell refused with its row and column named."""
    import pandas as pd

    out = np.empty((len(df), len(targets)))
    for j, t in enumerate(targets):
        values = pd.to_numeric(df[t], errors="coerce").to_numpy(dtype=np.float64)
        bad = [
            f"row {i} ({df[t].iloc[i]!r})"
            for i in np.flatnonzero(~np.isfinite(values) | (values <= 0) | (values > MAX_MODULUS))
        ]
        if bad:
            raise ValueError(
                f"table {str(path)!r}, column {t!r}: {', '.join(bad[:5])}"
                f"{f' and {len(bad) - 5} more' if len(bad) > 5 else ''}: elastic moduli must "
                f"be positive numbers of GPa up to {MAX_MODULUS:g}"
            )
        out[:, j] = values
    return out


def _table(path, targets):
    df = _read_table(path)
    base = Path(path).resolve().parent
    columns = set(df.columns)
    if not columns & {"path", "structure"}:
        raise ValueError(
            f"table {str(path)!r}: needs a 'path' column (density or structure files) or a "
            f"'structure' column (pymatgen structures); columns are {sorted(map(str, columns))}"
        )
    missing = [t for t in targets if t not in columns]
    if missing:
        raise ValueError(
            f"table {str(path)!r}: no column {missing} (columns: {sorted(map(str, columns))})"
        )
    reserved = [t for t in targets if t in ("id", "path", "structure")]
    if reserved:
        raise ValueError(f"table {str(path)!r}: column {reserved[0]!r} cannot be a target")
    target = _table_targets(df, targets, path)
    ids = [str(v) for v in df["id"]] if "id" in columns else [str(i) for i in range(len(df))]
    seen = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            raise ValueError(
                f"table {str(path)!r}: id {ident!r} in rows {seen[ident]} and {i}: ids must be "
                "unique"
            )
        seen[ident] = i
    samples, sources = [], []
    for i, row in enumerate(df.to_dict("records")):
        where = f"table {str(path)!r}, row {i}"
        if "path" in columns and isinstance(row["path"], str) and row["path"]:
            file = Path(row["path"])
            file = file if file.is_absolute() else base / file
            try:
                obj, source = read_input(file)
            except (OSError, ValueError) as exc:
                raise ValueError(f"{where}: {exc}") from exc
        else:
            obj, source = _structure_cell(row.get("structure"), where), "structure"
        samples.append(obj)
        sources.append(source)
    digests = [_sample_digest(s) for s in samples]
    return Bunch(
        samples=samples,
        target=target,
        target_names=list(targets),
        ids=ids,
        structures=[s if isinstance(s, Structure) else s.structure for s in samples],
        sources=sources,
        groups=digests,
        name=f"table {Path(path).name}",
    )


def training_data(data="bundled", targets=TARGET_NAMES):
    """Gather a labelled training set.

    Parameters
    ----------
    data : {"bundled", "extended"} or path-like
        ``"bundled"``: the bundled Fm-3m set (:func:`skecd.datasets.load_fcc_elastic`);
        ``"extended"``: the extended set (``skecd.datasets.load_elastic``, when this
        version has it); the former names ``"fcc"`` and ``"all"`` still work, with a
        ``FutureWarning``; else a CSV or JSON table with a ``path`` column (files
        of densities or structures, relative to the table) or a ``structure``
        column (pymatgen structure dicts), an optional ``id`` column, and the
        target columns.
    targets : sequence of str, default=("K_VRH", "G_VRH")

    Returns
    -------
    sklearn.utils.Bunch
        ``samples``, ``target`` (n, len(targets)), ``target_names``, ``ids``,
        ``structures``, ``sources`` (code of each density, or ``"structure"``),
        ``groups`` (a digest of each sample's content: equal samples share it, and
        share a fold), ``name``.

    Raises
    ------
    ValueError
        For a table: a target that is not a finite positive number, a duplicate
        id, a row with neither a file nor a structure, or a file or structure
        that cannot be read; the message names the table, row and column.
    """
    targets = list(targets)
    if not targets:
        raise ValueError("no target given (e.g. --targets K_VRH,G_VRH)")
    if isinstance(data, str) and data in DATA_ALIASES:
        warnings.warn(
            f"data={data!r} is now called {DATA_ALIASES[data]!r}", FutureWarning, stacklevel=3
        )
        data = DATA_ALIASES[data]
    if isinstance(data, str) and data in DATA_SETS:
        b = _bundled(data)
        unknown = [t for t in targets if t not in b.target_names]
        if unknown:
            raise ValueError(f"unknown targets {unknown}; the data set has {b.target_names}")
        b.target = b.target[:, [b.target_names.index(t) for t in targets]]
        b.target_names = targets
        return b
    return _table(os.fspath(data), targets)


def coverage(structures, sources):
    """Elements, space groups and crystal systems of a training set, and its density codes.

    Parameters
    ----------
    structures : list of pymatgen.core.Structure
    sources : list of str

    Returns
    -------
    dict
        ``elements`` (symbol to count), ``space_groups`` (symbol to count),
        ``crystal_systems`` (name to count), ``density_sources`` (code to count).
    """
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    elements = Counter(el.symbol for s in structures for el in s.composition.elements)
    groups, systems = Counter(), Counter()
    for s in structures:
        sga = SpacegroupAnalyzer(s, symprec=0.1)
        groups[sga.get_space_group_symbol()] += 1
        systems[sga.get_crystal_system()] += 1
    return {
        "elements": dict(sorted(elements.items())),
        "space_groups": dict(groups.most_common()),
        "crystal_systems": dict(systems.most_common()),
        "density_sources": dict(Counter(sources).most_common()),
    }
