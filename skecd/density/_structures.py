"""Structures for the density builder from JSON records, CIF/POSCAR files or folders of them."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from ..io import STRUCTURE_KINDS, file_kind, read_structure_file, structure_from_dict

__all__ = ["check_material_id", "check_records", "read_structure_records", "read_structures"]

# Compression suffixes stripped from a file's name to give its material id.
_COMPRESSED = (".gz", ".bz2", ".xz", ".lzma", ".z")
# Structure-file suffixes stripped from a file's name to give its material id.
_STRUCTURE_SUFFIXES = (".cif", ".mcif", ".vasp", ".poscar", ".json", ".xsf", ".cssr")
_VASP_NAMES = ("POSCAR", "CONTCAR")


# A material id names its output file on every system: letters, digits, ".", "_", "+",
# "-", not starting with a dot (no separators, wildcards, drive letters or "..").
_MATERIAL_ID = re.compile(r"[A-Za-z0-9_+\-][A-Za-z0-9._+\-]{0,199}")


def check_material_id(material_id, where):
    """Raise ``ValueError`` naming ``where`` unless ``material_id`` can name a file.

    Parameters
    ----------
    material_id : object
        The id to check: a str of letters, digits, ``.``, ``_``, ``+`` and
        ``-`` (200 at most), not starting with a dot and not ``..``-relative.
    where : str
        The record or file it comes from, for the message.
    """
    if not isinstance(material_id, str) or not _MATERIAL_ID.fullmatch(material_id):
        raise ValueError(
            f"{where}: material_id {material_id!r} cannot name a file (use letters, digits, "
            "'.', '_', '+' and '-', not starting with '.')"
        )


def check_records(records):
    """Raise ``ValueError`` naming the record whose material id is bad or repeated.

    Parameters
    ----------
    records : list of dict
        ``{"material_id": str, "structure": Structure}`` as given to the builder.
    """
    seen = set()
    for index, r in enumerate(records):
        where = f"record {index}"
        if not isinstance(r, dict) or "material_id" not in r or "structure" not in r:
            raise ValueError(f"{where}: needs the keys 'material_id' and 'structure'")
        check_material_id(r["material_id"], where)
        if r["material_id"] in seen:
            raise ValueError(f"{where}: material_id {r['material_id']!r} appears twice")
        seen.add(r["material_id"])


def _is_json(path):
    return path.name.lower().endswith((".json", ".json.gz"))


def _material_id(path):
    """File name without its extensions; the folder's name for a bare POSCAR or CONTCAR."""
    name = path.name
    for ext in _COMPRESSED:
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
    if name.upper() in _VASP_NAMES:
        return path.resolve().parent.name
    for ext in _STRUCTURE_SUFFIXES:
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def _read_file(path, kind):
    # skecd.io's reader: no code run from the file, the structure checked; the cell as
    # written (the builder standardises it itself)
    structure = read_structure_file(path, kind)
    return {"material_id": _material_id(path), "structure": structure}


def _not_structure(kind):
    """Why a file of ``file_kind`` ``kind`` is not used by the builder."""
    if kind is None:
        return "neither a structure nor a density file (by name and content)"
    return f"a {kind} density file, not a structure (skecd density computes densities)"


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
        check_material_id(mid, where)
        if mid in seen:
            raise ValueError(f"{where}: material_id {mid!r} appears twice")
        seen.add(mid)
        # pymatgen's own classes only: a site property naming a module is refused, not imported
        structure = structure_from_dict(item["structure"], f"{where} ({mid})")
        records.append({"material_id": mid, "structure": structure})
    return records


def read_structures(path, skipped=None):
    """Read the structures to compute, from a JSON file, a structure file or a folder.

    Files are recognised as ``skecd predict`` recognises them, by
    :func:`skecd.io.file_kind` (from the name and, where the name is ambiguous,
    the content), and read with :func:`skecd.io.read_structure_file` (no code
    is run from a file; every structure is checked).

    Parameters
    ----------
    path : str or path-like
        One of

        - a JSON list of records (``.json`` or ``.json.gz``), read with
          :func:`skecd.density.read_structure_records`;
        - one structure file (CIF, VASP POSCAR/CONTCAR such as ``NaCl_POSCAR``,
          a structure's JSON, XSF, CSSR; optionally compressed);
        - a folder of such files (not searched recursively).

        A file's material id (its output name) is its name without the
        extensions (``mp-134.cif`` -> ``mp-134``); a file named ``POSCAR`` or
        ``CONTCAR`` takes the name of its folder.
    skipped : list, default=None
        For a folder: if given, a ``(path, reason)`` pair is appended for every
        entry that is not a structure file (a density, a text file, a subfolder,
        a hidden file), and the others are read; if None, such an entry is an
        error (hidden files aside, which are ignored).

    Returns
    -------
    list of dict
        ``{"material_id": str, "structure": Structure}``, files in name order.

    Raises
    ------
    ValueError
        Naming a file that cannot be read, is not a structure file, or gives a
        material id that appears twice.

    Examples
    --------
    >>> import tempfile, os
    >>> from skecd.datasets import load_fcc_elastic_structures
    >>> from skecd.density import read_structures
    >>> raw = load_fcc_elastic_structures()
    >>> folder = tempfile.mkdtemp()
    >>> _ = raw.structures[0].to(filename=os.path.join(folder, raw.material_ids[0] + ".cif"))
    >>> [r["material_id"] for r in read_structures(folder)] == raw.material_ids[:1]
    True
    """
    path = Path(path)
    if path.is_dir():
        files, other = [], []
        for p in sorted(path.iterdir()):
            kind = file_kind(p) if p.is_file() else None
            if kind in STRUCTURE_KINDS:
                files.append((p, kind))
            elif p.name.startswith("."):
                if skipped is not None:
                    skipped.append((p, "a hidden file"))
            elif not p.is_file():
                other.append((p, "a folder (folders are not searched recursively)"))
            else:
                other.append((p, _not_structure(kind)))
        if skipped is not None:
            skipped.extend(other)
        elif other:
            raise ValueError(
                f"{path}: not structure files: "
                + ", ".join(f"{p.name} ({why})" for p, why in other[:5])
                + (f" and {len(other) - 5} more" if len(other) > 5 else "")
            )
        if not files:
            raise ValueError(f"{path}: the folder holds no structure file")
    elif not path.exists():
        raise FileNotFoundError(f"No such structures file or folder: {str(path)!r}")
    elif _is_json(path):
        return read_structure_records(path)
    else:
        kind = file_kind(path)
        if kind not in STRUCTURE_KINDS:
            raise ValueError(
                f"{str(path)!r}: {_not_structure(kind)}; expected a JSON list of records, "
                "a structure file (CIF, POSCAR, ...) or a folder of them"
            )
        files = [(path, kind)]
    records, seen = [], {}
    for p, kind in files:
        r = _read_file(p, kind)
        mid = r["material_id"]
        check_material_id(mid, str(p))
        if mid in seen:
            raise ValueError(f"{p}: material id {mid!r} also comes from {seen[mid]}")
        seen[mid] = p.name
        records.append(r)
    return records
