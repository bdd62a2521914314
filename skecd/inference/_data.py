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
import re
from collections import Counter
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from sklearn.utils import Bunch

from ..datasets import TARGET_NAMES

__all__ = [
    "DENSITY_SOURCES",
    "dataset_hash",
    "expand_inputs",
    "read_input",
    "training_data",
]

#: Code that produced a density, by reader.
DENSITY_SOURCES = {"npz": "GPAW", "chgcar": "VASP", "cube": "cube file", "object": "unknown"}

_CUBE_SUFFIXES = (".cube", ".cub")
_STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar", ".json", ".xsf", ".cssr")
_STRUCTURE_NAMES = ("POSCAR", "CONTCAR")
_DENSITY_NAMES = ("CHGCAR", "CHG", "AECCAR0", "AECCAR1", "AECCAR2", "PARCHG", "ELFCAR", "LOCPOT")
_COMPRESSION = (".gz", ".bz2", ".xz", ".lzma", ".z")


def _strip_compression(name):
    low = name.lower()
    for ext in _COMPRESSION:
        if low.endswith(ext):
            return name[: -len(ext)]
    return name


def input_kind(path):
    """Return ``"npz"``, ``"cube"``, ``"chgcar"`` or ``"structure"`` from a file name.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    str
    """
    name = _strip_compression(Path(path).name)
    low = name.lower()
    if low.endswith(".npz"):
        return "npz"
    if low.endswith(_CUBE_SUFFIXES):
        return "cube"
    if low.endswith(_STRUCTURE_SUFFIXES) or any(name.startswith(s) for s in _STRUCTURE_NAMES):
        return "structure"
    return "chgcar"


def _looks_like_input(path):
    name = _strip_compression(path.name)
    low = name.lower()
    tokens = set(re.split(r"[._-]", name))  # "Si_fcc.CHGCAR", "CHGCAR_relax", "CHG"
    return (
        low.endswith((".npz",) + _CUBE_SUFFIXES + _STRUCTURE_SUFFIXES)
        or any(name.startswith(s) for s in _STRUCTURE_NAMES)
        or bool(tokens & set(_DENSITY_NAMES))
    )


def expand_inputs(paths):
    """Expand folders into the density and structure files they hold (sorted).

    Parameters
    ----------
    paths : list of str or path-like
        Files (taken as given) and folders (searched, not recursively, for
        CHGCAR/CHG/AECCAR/PARCHG files, ``.npz``, ``.cube``, ``.cif``, POSCAR and
        CONTCAR files, compressed or not).

    Returns
    -------
    list of pathlib.Path
    """
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and _looks_like_input(q))
            out.extend(found)
        else:
            out.append(p)
    return out


def read_input(path):
    """Read one input file into a density or a structure.

    Parameters
    ----------
    path : str or path-like
        A VASP volumetric file (CHGCAR, CHG, ... in any compression), a skecd
        ``.npz``, a Gaussian cube file, or a structure file pymatgen reads (CIF,
        POSCAR, ...).

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
    from ..io import load_density, read_cube

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    kind = input_kind(path)
    if kind == "structure":
        try:
            return Structure.from_file(path), "structure"
        except Exception as exc:  # pymatgen raises many types on a bad file
            raise ValueError(f"Could not read structure file {str(path)!r}: {exc}") from exc
    if kind == "cube":
        return read_cube(path), DENSITY_SOURCES["cube"]
    return load_density(path), DENSITY_SOURCES[kind]


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

    if data == "fcc":
        ds = datasets.load_fcc_elastic()
        name = "skecd.datasets.load_fcc_elastic"
    else:
        loader = getattr(datasets, "load_elastic", None)
        if loader is None:
            raise ValueError(
                "--data all needs the extended data set (skecd.datasets.load_elastic), which this "
                "version of skecd does not have; use --data fcc or a table of your own"
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
        name=name,
    )


def _read_table(path):
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No such table: {str(path)!r} (--data takes 'fcc', the bundled Fm-3m set, "
            "'all', the extended set, or a CSV/JSON table of your own)"
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
    if isinstance(value, Structure):
        return value
    if isinstance(value, dict):
        return Structure.from_dict(value)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        return Structure.from_dict(json.loads(value))
    raise ValueError(f"{where}: expected a structure as a pymatgen dict, got {value!r}")


def _table(path, targets):
    df = _read_table(path)
    base = Path(path).resolve().parent
    columns = set(df.columns)
    if not columns & {"path", "structure"}:
        raise ValueError(
            f"table {str(path)!r}: needs a 'path' column (density or structure files) or a "
            f"'structure' column (pymatgen structures); columns are {sorted(columns)}"
        )
    missing = [t for t in targets if t not in columns]
    if missing:
        raise ValueError(f"table {str(path)!r}: no column {missing} (columns: {sorted(columns)})")
    samples, sources, ids = [], [], []
    for i, row in df.iterrows():
        where = f"table {str(path)!r}, row {i}"
        if "path" in columns and isinstance(row["path"], str) and row["path"]:
            file = Path(row["path"])
            file = file if file.is_absolute() else base / file
            try:
                obj, source = read_input(file)
            except (OSError, ValueError) as exc:
                raise ValueError(f"{where}: {exc}") from exc
        else:
            obj, source = _structure_cell(row["structure"], where), "structure"
        samples.append(obj)
        sources.append(source)
        ids.append(str(row["id"]) if "id" in columns else str(i))
    target = df[list(targets)].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(target).all(axis=1))
    if bad.size:
        raise ValueError(f"table {str(path)!r}: rows {bad.tolist()} have missing or bad targets")
    return Bunch(
        samples=samples,
        target=target,
        target_names=list(targets),
        ids=ids,
        structures=[s if isinstance(s, Structure) else s.structure for s in samples],
        sources=sources,
        name=f"table {Path(path).name}",
    )


def training_data(data="fcc", targets=TARGET_NAMES):
    """Gather a labelled training set.

    Parameters
    ----------
    data : {"fcc", "all"} or path-like
        ``"fcc"``: the bundled Fm-3m set (:func:`skecd.datasets.load_fcc_elastic`);
        ``"all"``: the extended set (``skecd.datasets.load_elastic``, when this
        version has it); else a CSV or JSON table with a ``path`` column (files
        of densities or structures, relative to the table) or a ``structure``
        column (pymatgen structure dicts), an optional ``id`` column, and the
        target columns.
    targets : sequence of str, default=("K_VRH", "G_VRH")

    Returns
    -------
    sklearn.utils.Bunch
        ``samples``, ``target`` (n, len(targets)), ``target_names``, ``ids``,
        ``structures``, ``sources`` (code of each density, or ``"structure"``),
        ``name``.
    """
    targets = list(targets)
    if data in ("fcc", "all"):
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
