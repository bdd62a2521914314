"""Readers that turn files and pymatgen objects into :class:`ChargeDensity`."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

from ._density import ChargeDensity

__all__ = [
    "read_chgcar",
    "read_gpaw_npz",
    "write_gpaw_npz",
    "from_volumetric_data",
    "load_density",
]

_NPZ_REQUIRED = ("density", "lattice", "frac_coords", "species")


def read_chgcar(path) -> ChargeDensity:
    """Read a VASP CHGCAR, CHG, AECCAR or PARCHG file.

    Parsing is delegated to pymatgen's :class:`~pymatgen.io.vasp.outputs.Chgcar`
    (plain, ``.gz``, ``.bz2`` and ``.xz`` files; spin-polarised or not; with or
    without augmentation blocks). VASP stores density times cell volume; the
    returned density is in electrons per cubic Angstrom.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    ChargeDensity
        ``total`` is the charge density; ``spin`` holds the magnetisation density
        (up minus down) of a spin-polarised file, else ``None``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is truncated or malformed; the message names the file.
    """
    from pymatgen.io.vasp import Chgcar

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such CHGCAR file: {path!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen warns about POTCAR-less headers
            chg = Chgcar.from_file(path)
    except Exception as exc:  # pymatgen raises ValueError, IndexError, ... on bad files
        raise ValueError(f"Could not read CHGCAR file {path!r}: {exc}") from exc
    try:
        _check_first_block_complete(path, chg.dim, len(chg.structure))
        return from_volumetric_data(chg, source=path)
    except ValueError as exc:
        raise ValueError(f"Malformed CHGCAR file {path!r}: {exc}") from exc


def _check_first_block_complete(path, dim, n_atoms):
    """Raise if the first data block holds more values than its grid line declares.

    Written by hand because pymatgen reads exactly the declared number of values
    and then skips further numeric lines (it takes them for the per-atom moment
    line), so a grid line declaring too few points would silently drop data.
    Only counts tokens; the values themselves come from pymatgen.
    """
    from monty.io import zopen

    n_declared = int(np.prod(dim))
    grid_tokens = [str(int(n)) for n in dim]
    count = 0
    with zopen(path, mode="rt") as fh:
        previous_blank = False
        for line in fh:  # the header ends with a blank line, then the grid line
            tokens = line.split()
            if previous_blank and tokens == grid_tokens:
                break
            previous_blank = not tokens
        for line in fh:
            tokens = line.split()
            if not tokens or tokens[0] == "augmentation" or tokens == grid_tokens:
                break
            count += len(tokens)
    # A spin-polarised file without augmentation has one line of per-atom moments
    # right after the first block; allow for it.
    if count > n_declared + n_atoms:
        raise ValueError(
            f"the grid line declares {dim[0]} x {dim[1]} x {dim[2]} = {n_declared} points "
            f"but the first data block holds {count} values"
        )


def from_volumetric_data(data, source=None) -> ChargeDensity:
    """Convert a pymatgen :class:`~pymatgen.io.common.VolumetricData` (e.g. a ``Chgcar``).

    Parameters
    ----------
    data : pymatgen.io.common.VolumetricData
        Its ``data["total"]`` (and ``data["diff"]`` if spin-polarised) are taken
        to be density times cell volume, as in every VASP volumetric file.
    source : str, default=None
        Where the object came from, for error messages.

    Returns
    -------
    ChargeDensity
    """
    structure = data.structure
    if "total" not in data.data:
        raise ValueError(f"volumetric data has no 'total' block (keys: {sorted(data.data)})")
    volume = structure.volume
    total = np.asarray(data.data["total"], dtype=np.float64)
    dim = tuple(int(n) for n in getattr(data, "dim", total.shape))
    if total.shape != dim:
        raise ValueError(f"grid of shape {total.shape} does not match the declared grid {dim}")
    spin = data.data.get("diff")
    if spin is not None:
        spin = np.asarray(spin, dtype=np.float64) / volume
    return ChargeDensity(
        structure=structure.copy(),
        total=total / volume,
        spin=spin,
        source=source,
    )


def read_gpaw_npz(path) -> ChargeDensity:
    """Read a density saved as ``.npz`` by skecd's GPAW builder (the ``ecd_gpaw`` format).

    The file holds ``density`` (e/A^3 on the grid over the cell), ``lattice``
    (cell vectors as rows, Angstrom), ``frac_coords``, ``species`` and optionally
    ``spin_density``, ``n_valence``, ``energy``, ``magmom``, ``material_id``.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    ChargeDensity
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such density file: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as exc:
        raise ValueError(f"Could not read density file {path!r}: {exc}") from exc
    missing = [k for k in _NPZ_REQUIRED if k not in arrays]
    if missing:
        raise ValueError(f"Density file {path!r} lacks the arrays {missing}")
    return _density_from_arrays(arrays, source=path)


def _density_from_arrays(arrays, source=None) -> ChargeDensity:
    try:
        structure = Structure(
            Lattice(np.asarray(arrays["lattice"], dtype=np.float64)),
            [str(s) for s in arrays["species"]],
            np.asarray(arrays["frac_coords"], dtype=np.float64),
        )
    except Exception as exc:
        raise ValueError(f"Invalid structure in density {source!r}: {exc}") from exc
    metadata = {
        k: arrays[k].item() if np.ndim(arrays[k]) == 0 else arrays[k]
        for k in ("n_valence", "energy", "magmom", "material_id")
        if k in arrays
    }
    return ChargeDensity(
        structure=structure,
        total=arrays["density"],
        spin=arrays.get("spin_density"),
        source=source,
        metadata=metadata,
    )


def write_gpaw_npz(density: ChargeDensity, path, dtype=np.float32) -> Path:
    """Write a :class:`ChargeDensity` in the ``.npz`` format of :func:`read_gpaw_npz`.

    The file is written to a temporary name and renamed, so that an interrupted
    write never leaves a file that looks finished.

    Parameters
    ----------
    density : ChargeDensity
    path : str or path-like
        Destination; ``.npz`` is appended if missing.
    dtype : numpy dtype, default=float32
        Storage type of the grids (GPAW's densities are shipped as float32).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    s = density.structure
    arrays = {
        "density": np.asarray(density.total, dtype=dtype),
        "lattice": np.asarray(s.lattice.matrix, dtype=np.float64),
        "frac_coords": np.asarray(s.frac_coords, dtype=np.float64),
        "species": np.array([site.specie.symbol for site in s]),
    }
    if density.spin is not None:
        arrays["spin_density"] = np.asarray(density.spin, dtype=dtype)
    for key, value in density.metadata.items():
        arrays[key] = np.asarray(value)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    os.replace(tmp, path)
    return path


def load_density(obj, index=None) -> ChargeDensity:
    """Return a :class:`ChargeDensity` from any input skecd accepts.

    Parameters
    ----------
    obj : ChargeDensity, pymatgen VolumetricData, str or path-like
        A density, a pymatgen ``Chgcar``/``VolumetricData``, a path to a
        ``.npz`` written by skecd or GPAW, or a path to any VASP volumetric file
        (CHGCAR, CHG, AECCAR*, PARCHG, optionally compressed).
    index : int, default=None
        Position of ``obj`` in a list of samples, quoted in error messages.

    Returns
    -------
    ChargeDensity
    """
    from pymatgen.io.common import VolumetricData

    where = f"sample {index}: " if index is not None else ""
    if isinstance(obj, ChargeDensity):
        return obj
    if isinstance(obj, VolumetricData):
        try:
            source = f"sample {index}" if index is not None else None
            return from_volumetric_data(obj, source=source)
        except ValueError as exc:
            raise ValueError(f"{where}{exc}") from exc
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        try:
            if path.endswith(".npz"):
                return read_gpaw_npz(path)
            return read_chgcar(path)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{where}{exc}") from exc
        except ValueError as exc:
            raise ValueError(f"{where}{exc}") from exc
    from ._samples import check_sample_type

    check_sample_type(obj, index, "density")  # raises: obj is of no type read here
