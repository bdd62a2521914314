"""The one table of input file kinds, structure files, and checks of structures and densities.

:func:`file_kind` tells what a file holds, from its name where the name says it
and from its first bytes where it does not (a POSCAR named ``NaCl_POSCAR`` or
``si.gz``, a CHGCAR named ``Si.vasp_chg``); :func:`read_structure_file` reads a
structure file without running code from it (JSON is decoded with pymatgen's own
classes only); :func:`check_structure` refuses a structure no model can use;
:func:`electron_count_problem` checks a density's electron count against its
composition.
"""

from __future__ import annotations

import json
import os
import re
from fnmatch import fnmatch
from pathlib import Path

import numpy as np

from ._density import _check_lattice

__all__ = [
    "DENSITY_KINDS",
    "STRUCTURE_KINDS",
    "check_structure",
    "electron_count_problem",
    "file_kind",
    "read_structure_file",
    "structure_from_dict",
    "valence_electron_range",
]

#: File kinds holding a charge density (:func:`skecd.io.load_density` reads them).
DENSITY_KINDS = ("npz", "cube", "chgcar")
#: File kinds holding a structure (``pymatgen.core.Structure.from_str`` formats).
STRUCTURE_KINDS = ("poscar", "cif", "json", "xsf", "cssr")

_COMPRESSION = (".gz", ".bz2", ".xz", ".lzma", ".z")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: Name patterns (case-insensitive, on the name without its compression suffix), as
#: pymatgen's ``Structure.from_file`` and ``Chgcar`` users name files. Checked in order.
_NAME_PATTERNS = (
    ("*.npz", "npz"),
    ("*.cube", "cube"),
    ("*.cub", "cube"),
    ("*.cif", "cif"),
    ("*.mcif", "cif"),
    ("*.json", "json"),
    ("*.xsf", "xsf"),
    ("*.cssr", "cssr"),
    ("*chgcar*", "chgcar"),
    ("*aeccar*", "chgcar"),
    ("*parchg*", "chgcar"),
    ("*elfcar*", "chgcar"),
    ("*locpot*", "chgcar"),
    ("*poscar*", "vasp"),
    ("*contcar*", "vasp"),
    ("*.vasp", "vasp"),
    ("chg", "chgcar"),
    ("chg[._-]*", "chgcar"),
    ("*[._-]chg", "chgcar"),
    ("*[._-]chg[._-]*", "chgcar"),
)
_HEAD_BYTES = 1 << 16
#: Largest structure file read (a structure file of this size is something else).
_MAX_STRUCTURE_BYTES = 64 << 20


def _strip_compression(name):
    low = name.lower()
    for ext in _COMPRESSION:
        if low.endswith(ext):
            return name[: -len(ext)]
    return name


def _head(path):
    """The first bytes of ``path`` (decompressed), or b"" if it cannot be read."""
    from monty.io import zopen

    try:
        with open(path, "rb") as fh:
            raw = fh.read(4)
        if raw.startswith(_ZIP_MAGIC):
            return raw
        with zopen(path, mode="rb") as fh:
            return fh.read(_HEAD_BYTES)
    except Exception:  # unreadable or a broken compressed stream: no kind by content
        return b""


def _floats(line, n):
    parts = line.split()
    if len(parts) < n:
        return False
    try:
        [float(p) for p in parts[:n]]
    except ValueError:
        return False
    return True


def _ints(line):
    parts = line.split()
    return bool(parts) and all(re.fullmatch(r"[+-]?\d+", p) for p in parts)


def _sniff_vasp(lines):
    """``"chgcar"`` or ``"poscar"`` for a VASP-format text, None if it is not one."""
    if len(lines) < 8 or not _floats(lines[1], 1):
        return None
    if not all(_floats(lines[i], 3) for i in (2, 3, 4)):
        return None
    i = 5
    if not _ints(lines[i]):  # VASP 5: the element line first
        i += 1
    if i >= len(lines) or not _ints(lines[i]):
        return None
    n_atoms = sum(int(p) for p in lines[i].split())
    i += 1
    if i < len(lines) and lines[i].strip()[:1] in ("s", "S"):  # selective dynamics
        i += 1
    if i >= len(lines) or lines[i].strip()[:1] not in ("d", "D", "c", "C", "k", "K"):
        return None
    i += 1 + n_atoms
    # a volumetric file: a blank line, then the three grid counts
    rest = [line for line in lines[i : i + 3] if line.strip()]
    if i < len(lines) and not lines[i].strip() and rest and _ints(rest[0]):
        if len(rest[0].split()) == 3:
            return "chgcar"
    return "poscar"


def _sniff_text(text):
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        return "json"
    lines = text.splitlines()
    if re.search(r"^\s*data_", text, re.M) and "_cell_length_a" in text:
        return "cif"
    if re.search(r"^\s*(PRIMVEC|CRYSTAL)\s*$", text, re.M) and "PRIMCOORD" in text:
        return "xsf"
    vasp = _sniff_vasp(lines)
    if vasp:
        return vasp
    # Gaussian cube: two comment lines, then "natoms ox oy oz" and three "n vx vy vz" lines
    if len(lines) >= 6 and all(
        _floats(line, 4) and re.fullmatch(r"[+-]?\d+", line.split()[0]) for line in lines[2:6]
    ):
        return "cube"
    return None


def file_kind(path):
    """Say what an input file holds, from its name and, where that is ambiguous, its content.

    Parameters
    ----------
    path : str or path-like
        A file, plain or compressed (``.gz``, ``.bz2``, ``.xz``, ``.lzma``, ``.Z``).

    Returns
    -------
    str or None
        A density kind of :data:`DENSITY_KINDS` (``"npz"``, ``"cube"``,
        ``"chgcar"``: a VASP CHGCAR, CHG, AECCAR, PARCHG, ...), a structure kind
        of :data:`STRUCTURE_KINDS` (``"poscar"``, ``"cif"``, ``"json"``,
        ``"xsf"``, ``"cssr"``), or None when neither name nor content says.

    Notes
    -----
    A name that says what the file is (``*.npz``, ``*.cube``, ``*.cif``,
    ``*.json``, ``*CHGCAR*``, ``AECCAR*``, ...) decides, as in pymatgen's
    ``Structure.from_file``; a VASP-format name (``*POSCAR*``, ``*CONTCAR*``,
    ``*.vasp``) is a CHGCAR if a grid follows the coordinates, else a structure;
    any other file is recognised by its content (a zip archive is a skecd
    ``.npz``; JSON, CIF, XSF, VASP and cube texts by their layout).

    Examples
    --------
    >>> from skecd.datasets import get_sample_chgcar_paths
    >>> from skecd.io import file_kind
    >>> file_kind(get_sample_chgcar_paths()["Si_fcc"])
    'chgcar'
    """
    path = Path(path)
    name = _strip_compression(path.name).lower()
    by_name = next((kind for pattern, kind in _NAME_PATTERNS if fnmatch(name, pattern)), None)
    if by_name is not None and by_name != "vasp":
        return by_name
    head = _head(path)
    if head.startswith(_ZIP_MAGIC):
        return "npz"
    text = head.decode("utf-8", errors="replace")
    if by_name == "vasp":
        return _sniff_vasp(text.splitlines()) or "poscar"
    if "\x00" in text:
        return None
    return _sniff_text(text)


# ---------------------------------------------------------------- structures
#: Modules whose classes a structure's JSON may name (``"@module"``): pymatgen's own;
#: ``numpy`` arrays are decoded by monty without an import.
_SAFE_MODULE = re.compile(r"(pymatgen(\.[A-Za-z_][A-Za-z0-9_]*)*|numpy)")


def _check_modules(obj, where, trail="structure"):
    if isinstance(obj, dict):
        module = obj.get("@module")
        if module is not None and not (isinstance(module, str) and _SAFE_MODULE.fullmatch(module)):
            raise ValueError(
                f"{where}: {trail} names a class of module {str(module)[:80]!r}; only pymatgen's "
                "own classes are decoded (no code is imported from a file)"
            )
        for key, value in obj.items():
            _check_modules(value, where, f"{trail}[{str(key)[:40]!r}]")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _check_modules(value, where, f"{trail}[{i}]")


def structure_from_dict(obj, where="structure"):
    """Build a pymatgen ``Structure`` from its ``as_dict()`` without importing other code.

    pymatgen decodes site properties with monty, which imports the module a
    ``"@module"`` key names; every such key in ``obj`` must name a pymatgen
    module (or numpy) before anything is decoded.

    Parameters
    ----------
    obj : dict
        ``Structure.as_dict()``.
    where : str, default="structure"
        How to name the structure in errors (a file, a table row).

    Returns
    -------
    pymatgen.core.Structure

    Raises
    ------
    ValueError
        If a ``"@module"`` names another module, or the dict is not a structure;
        the message starts with ``where``.
    """
    from pymatgen.core import Structure

    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a structure dict, got {type(obj).__name__}")
    _check_modules(obj, where)
    try:
        structure = Structure.from_dict(obj)
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"{where}: not a pymatgen Structure dict ({message})") from exc
    return check_structure(structure, where)


def read_structure_file(path, kind=None):
    """Read a structure file of any kind :func:`file_kind` recognises, running no code from it.

    Parameters
    ----------
    path : str or path-like
        The file, plain or compressed.
    kind : str, default=None
        One of :data:`STRUCTURE_KINDS`; None: :func:`file_kind`'s answer.

    Returns
    -------
    pymatgen.core.Structure
        Checked by :func:`check_structure`.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If it is not a structure file or cannot be read; the message names it.
    """
    from monty.io import zopen
    from pymatgen.core import Structure

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such structure file: {path!r}")
    kind = kind or file_kind(path)
    if kind not in STRUCTURE_KINDS:
        what = f"a {kind} density" if kind else "of no known kind"
        raise ValueError(f"{path!r} is not a structure file ({what})")
    if os.path.getsize(path) > _MAX_STRUCTURE_BYTES:
        raise ValueError(f"{path!r}: a structure file of over {_MAX_STRUCTURE_BYTES >> 20} MB")
    try:
        with zopen(path, mode="rt", encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if kind == "json":
            obj = json.loads(text)  # plain JSON: monty's decoder would import modules
            return structure_from_dict(obj, f"structure file {path!r}")
        structure = Structure.from_str(text, fmt=kind)
    except ValueError as exc:
        if str(exc).startswith(f"structure file {path!r}"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"Could not read structure file {path!r}: {message}") from exc
    except Exception as exc:  # pymatgen raises many types on a bad file
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"Could not read structure file {path!r}: {message}") from exc
    return check_structure(structure, f"structure file {path!r}")


#: Two sites closer than this (Angstrom) are taken as one atom written twice.
MIN_SITE_DISTANCE = 0.5


def check_structure(structure, where="structure"):
    """Refuse a structure no model can use: a non-finite or singular lattice, coinciding atoms.

    Parameters
    ----------
    structure : pymatgen.core.Structure
    where : str, default="structure"
        How to name it in errors.

    Returns
    -------
    pymatgen.core.Structure
        ``structure`` itself.

    Raises
    ------
    ValueError
        If the lattice is not finite or has no volume, a coordinate is not
        finite, there are no sites, or two sites lie closer than
        :data:`MIN_SITE_DISTANCE` (0.5 A; spglib would only say "Unable to
        determine symmetry").
    """
    _check_lattice(structure, f" ({where})")
    if len(structure) == 0:
        raise ValueError(f"{where}: the structure has no sites")
    if len(structure) > 1:
        dist = structure.distance_matrix
        np.fill_diagonal(dist, np.inf)
        i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
        if dist[i, j] < MIN_SITE_DISTANCE:
            raise ValueError(
                f"{where}: sites {min(i, j)} and {max(i, j)} "
                f"({structure[int(i)].species_string}, {structure[int(j)].species_string}) are "
                f"{dist[i, j]:.3g} A apart: an atom written twice?"
            )
    return structure


# ------------------------------------------------------------------ densities
def _noble_core(z):
    """Electrons of the last and the one-before-last noble-gas cores below atomic number ``z``."""
    cores = [0, 2, 10, 18, 36, 54, 86, 118]
    below = [c for c in cores if c < z] or [0]
    return below[-1], (below[-2] if len(below) > 1 else 0)


def valence_electron_range(composition):
    """Fewest and most valence electrons that common PAW data sets give a composition.

    Parameters
    ----------
    composition : pymatgen.core.Composition
        Element amounts of the cell (``structure.composition``).

    Returns
    -------
    low, high : float
        Per atom the lower bound counts the electrons outside the last noble-gas
        core but filled d and f shells below the outermost shell (Si 4, Fe 8, Cu 1,
        Pd 10, Pb 4), the upper bound all
        electrons outside the noble-gas core before the last one (Na 9 as in
        ``Na_sv``, Ti 12 as in ``Ti_sv``, Ga 21 >= the 13 of ``Ga_d``); for H to
        Ne all electrons. Summed over the composition.
    """
    low = high = 0.0
    full = {"s": 2, "p": 6, "d": 10, "f": 14}
    for el, amount in composition.element_composition.items():
        z = int(el.Z)
        last, before = _noble_core(z)
        outside, count = [], 0
        for n, shell, occ in el.full_electronic_structure:
            count += occ
            if count > last:  # the subshells outside the last noble-gas core
                outside.append((n, shell, occ))
        n_max = max(n for n, _, _ in outside)
        # filled d and f shells below the outermost shell are semicore (Cu 1, Zn 2, Pb 4)
        semicore = sum(
            occ for n, shell, occ in outside if n < n_max and shell in "df" and occ == full[shell]
        )
        low += amount * (z - last - semicore)
        high += amount * (z if z <= 10 else z - before)
    return low, high


#: How far from an integer an electron count may be (GPAW's bundled densities lie within
#: 7e-5, VASP's within 4e-7).
ELECTRON_COUNT_TOLERANCE = 0.05


def electron_count_problem(density):
    """Why a density's electron count does not fit its composition, or None.

    Parameters
    ----------
    density : ChargeDensity

    Returns
    -------
    str or None
        The count and what was expected, when the count is not finite, lies
        outside :func:`valence_electron_range` (by more than half an electron)
        or is further than :data:`ELECTRON_COUNT_TOLERANCE` from an integer:
        a density in the wrong units (divided or multiplied by the cell
        volume), a partial or core density, or another cell's.
    """
    n = density.n_electrons
    comp = density.structure.composition
    low, high = valence_electron_range(comp)
    formula = re.sub(r"(?<=[A-Za-z])1(?![0-9.])", "", comp.formula.replace(" ", ""))
    hint = (
        "; wrong units? (e/A^3 expected; VASP files store density x cell volume) or not a "
        "valence density: predictions from it are not reliable"
    )
    if not np.isfinite(n):
        return f"the cell holds a non-finite number of electrons{hint}"
    if n < low - 0.5 or n > high + 0.5:
        return (
            f"the cell holds {n:.4g} electrons; {formula} has {low:g} to {high:g} valence "
            f"electrons in common PAW data sets{hint}"
        )
    if abs(n - round(n)) > ELECTRON_COUNT_TOLERANCE:
        return (
            f"the cell holds {n:.4g} electrons, not a whole number (a charged cell, a coarse "
            "or partial grid?)"
        )
    return None
