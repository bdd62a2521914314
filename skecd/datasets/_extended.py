"""The extended data set: 3,279 labelled crystals of all seven crystal systems.

The labels (structures, K_VRH, G_VRH, space group) ship with the package
(``elastic_all.json.gz``); the GPAW densities of the 369 Fm-3m materials ship
too, and the others are looked up in the data home (:func:`get_data_home`) and,
from a source checkout of skecd, in its ``data/ecd_gpaw_extended`` directory.
"""

from __future__ import annotations

import gzip
import json
import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from sklearn.utils import Bunch

from ..io import read_gpaw_npz
from ._base import TARGET_NAMES, get_data_dir

__all__ = ["CRYSTAL_SYSTEMS", "crystal_system", "get_data_home", "load_elastic"]

_LABELS_FILE = "elastic_all.json.gz"
_EXTENDED_DIR = "ecd_gpaw_extended"
_CHECKOUT_DIR = Path(__file__).resolve().parents[2] / "data" / _EXTENDED_DIR

#: The seven crystal systems, in order of increasing symmetry.
CRYSTAL_SYSTEMS = (
    "triclinic",
    "monoclinic",
    "orthorhombic",
    "tetragonal",
    "trigonal",
    "hexagonal",
    "cubic",
)
# Highest space-group number of each crystal system (International Tables, vol. A).
_LAST_NUMBER = (2, 15, 74, 142, 167, 194, 230)


def crystal_system(space_group):
    """Return the crystal system of a space-group number (1 to 230).

    Parameters
    ----------
    space_group : int

    Returns
    -------
    str
        One of :data:`CRYSTAL_SYSTEMS`.

    Examples
    --------
    >>> from skecd.datasets import crystal_system
    >>> crystal_system(225), crystal_system(194), crystal_system(62)
    ('cubic', 'hexagonal', 'orthorhombic')
    """
    number = int(space_group)
    if not 1 <= number <= 230:
        raise ValueError(f"space_group must be a number from 1 to 230, got {space_group!r}")
    return CRYSTAL_SYSTEMS[int(np.searchsorted(_LAST_NUMBER, number))]


def get_data_home(data_home=None) -> Path:
    """Return the directory of skecd's downloaded or built data, creating it.

    As scikit-learn's :func:`~sklearn.datasets.get_data_home`: ``data_home`` if
    given, else the environment variable ``SKECD_DATA``, else ``~/skecd_data``.
    The extended densities are looked up in its ``ecd_gpaw_extended``
    subdirectory (build them there with ``skecd density``; see
    :func:`load_elastic`).

    Parameters
    ----------
    data_home : str or path-like, default=None

    Returns
    -------
    pathlib.Path
    """
    path = data_home or os.environ.get("SKECD_DATA") or Path("~") / "skecd_data"
    path = Path(path).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=1)
def _labels():
    with gzip.open(get_data_dir() / _LABELS_FILE, "rt", encoding="utf-8") as fh:
        return tuple(json.load(fh))


def _failures(directories):
    """``{material_id: error}`` of the builder's ``failures.json`` files.

    A file that cannot be read, or an entry without a ``material_id``, is named in a
    warning and left out: its materials then count as missing, not excluded.
    """
    failed = {}
    for directory in directories:
        path = directory / "failures.json"
        if not path.is_file():
            continue
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            warnings.warn(f"{path} is not valid JSON ({exc}): ignored", UserWarning, stacklevel=4)
            continue
        if not isinstance(entries, list):
            warnings.warn(f"{path} is not a JSON list of failures: ignored", stacklevel=4)
            continue
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("material_id"), str):
                warnings.warn(
                    f"{path}: entry {index} has no material_id: ignored", UserWarning, stacklevel=4
                )
                continue
            failed[entry["material_id"]] = entry.get("error", "failed")
    return failed


def _density_dirs(data_home):
    dirs = [get_data_dir() / "ecd_gpaw", get_data_home(data_home) / _EXTENDED_DIR]
    if _CHECKOUT_DIR.is_dir():
        dirs.append(_CHECKOUT_DIR)
    return dirs


def load_elastic(
    crystal_systems=None,
    space_groups=None,
    *,
    data_home=None,
    missing="warn",
    damaged="warn",
    return_X_y=False,
):
    """Load the labelled crystals of every crystal system with their GPAW densities.

    The labels of all 3,279 materials ship with skecd; the densities are read
    from the package (the Fm-3m set), the data home (:func:`get_data_home`) and a
    source checkout's ``data/ecd_gpaw_extended``. Materials whose density is not
    found are reported (``missing``), never dropped silently; materials the
    builder recorded as failed (for example Tc, which has no GPAW setup) are in
    ``excluded`` with the reason.

    Parameters
    ----------
    crystal_systems : str or sequence of str, default=None
        Keep only these crystal systems (see :data:`CRYSTAL_SYSTEMS`); None keeps all.
    space_groups : int or sequence of int, default=None
        Keep only these space-group numbers; None keeps all.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    missing : {"warn", "raise", "ignore"}, default="warn"
        What to do when selected materials have no density yet: warn (naming
        how many, and the command that builds them), raise ``FileNotFoundError``,
        or only list them in ``missing``.
    damaged : {"warn", "raise"}, default="warn"
        What to do with a density file that cannot be read (truncated by a full
        disk or an interrupted copy) when no other directory holds a good copy:
        skip the material with a warning naming the file (it is listed in
        ``damaged``), or raise the reader's error, which names the file.
    return_X_y : bool, default=False
        Return ``(data, target)``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (list of :class:`~skecd.io.ChargeDensity`), ``target`` (n, 2) in
        GPa, ``target_names``, ``material_ids``, ``formulas``, ``space_groups``,
        ``crystal_systems``, ``filenames``, ``missing`` (ids without density),
        ``excluded`` (id -> reason), ``damaged`` (id -> the unreadable file and why),
        ``build_command`` (how to build the missing).

    Examples
    --------
    >>> from skecd.datasets import load_elastic
    >>> fcc = load_elastic(space_groups=225)
    >>> len(fcc.data), fcc.target.shape[1]
    (369, 2)
    """
    if missing not in ("warn", "raise", "ignore"):
        raise ValueError(f"missing must be 'warn', 'raise' or 'ignore', got {missing!r}")
    if damaged not in ("warn", "raise"):
        raise ValueError(f"damaged must be 'warn' or 'raise', got {damaged!r}")
    systems = _as_set(crystal_systems, str)
    for name in systems or ():
        if name not in CRYSTAL_SYSTEMS:
            raise ValueError(f"unknown crystal system {name!r}; known: {CRYSTAL_SYSTEMS}")
    kept, lost, excluded = _select(systems, _as_set(space_groups, int), data_home)
    command = (
        f"skecd density {get_data_dir() / _LABELS_FILE} -o "
        f"{get_data_home(data_home) / _EXTENDED_DIR} --existing {get_data_dir() / 'ecd_gpaw'}"
    )
    if lost:
        _report_missing(lost, len(lost) + len(kept) + len(excluded), command, missing)
    kept, data, broken = _read_densities(kept, damaged)
    target = np.array([[r[n] for n in TARGET_NAMES] for r, _, _ in kept], dtype=np.float64)
    target = target.reshape(len(kept), len(TARGET_NAMES))
    if return_X_y:
        return data, target
    return _bunch(kept, lost, excluded, data, target, command, broken)


def _select(systems, groups, data_home):
    """Split the selected labelled materials into found ``(record, path, system)``, missing
    ids and ``{id: reason}`` of those the builder failed on."""
    dirs = _density_dirs(data_home)
    failed = _failures(dirs)
    kept, lost, excluded = [], [], {}
    for record in _labels():
        system = crystal_system(record["space_group"])
        if (systems and system not in systems) or (groups and record["space_group"] not in groups):
            continue
        mid = record["material_id"]
        paths = [d / f"{mid}.npz" for d in dirs if (d / f"{mid}.npz").is_file()]
        if paths:
            kept.append((record, paths, system))
        elif mid in failed:
            excluded[mid] = f"{record['formula']}: {failed[mid]}"
        else:
            lost.append(mid)
    return kept, lost, excluded


def _read_densities(kept, damaged):
    """Read each kept material's density from the first of its files that reads.

    Returns the kept ``(record, path, system)`` with the path read, the densities, and
    ``{id: reason}`` of the materials none of whose files reads (skipped and warned,
    or raised, as ``damaged`` says).
    """
    found, data, broken = [], [], {}
    for record, paths, system in kept:
        errors = []
        for path in paths:
            try:
                data.append(read_gpaw_npz(path))
            except (OSError, ValueError) as exc:  # the reader's errors name the file
                if damaged == "raise":
                    raise
                errors.append(str(exc))
                continue
            found.append((record, path, system))
            break
        else:
            broken[record["material_id"]] = "; ".join(errors)
    if broken:
        warnings.warn(
            f"skipped {len(broken)} materials whose density file is damaged: "
            + "; ".join(list(broken.values())[:3])
            + " (rebuild them with skecd density; damaged='raise' stops instead)",
            UserWarning,
            stacklevel=3,
        )
    return found, data, broken


def _report_missing(lost, n_selected, command, missing):
    message = (
        f"{len(lost)} of the {n_selected} selected materials have no density yet "
        f"(first: {', '.join(lost[:5])}); build them with: {command}"
    )
    if missing == "raise":
        raise FileNotFoundError(message)
    if missing == "warn":
        warnings.warn(message, UserWarning, stacklevel=3)


def _bunch(kept, lost, excluded, data, target, command, damaged):
    return Bunch(
        data=data,
        target=target,
        target_names=list(TARGET_NAMES),
        material_ids=[r["material_id"] for r, _, _ in kept],
        formulas=[r["formula"] for r, _, _ in kept],
        space_groups=np.array([r["space_group"] for r, _, _ in kept], dtype=int),
        crystal_systems=[s for _, _, s in kept],
        structures=[Structure.from_dict(r["structure"]) for r, _, _ in kept],
        filenames=[p for _, p, _ in kept],
        missing=lost,
        excluded=excluded,
        damaged=damaged,
        build_command=command,
        DESCR=(
            "Elastic moduli of all crystal systems with GPAW densities\n"
            f"{len(kept)} materials loaded, {len(lost)} without density yet, "
            f"{len(excluded)} excluded (the builder failed), {len(damaged)} damaged files.\n"
            "Labels: Materials Project (CC BY 4.0), de Jong et al. 2015 (CC BY 4.0) via "
            "matminer, and the matcalc collection (BSD-3-Clause); see get_data_dir() / "
            "'README.md'."
        ),
    )


def _as_set(value, kind):
    if value is None:
        return None
    if isinstance(value, (str, int, np.integer)):
        value = [value]
    return {kind(v) for v in value}
