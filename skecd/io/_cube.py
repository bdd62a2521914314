"""Gaussian cube files (parsed by ASE), converted from Bohr and e/Bohr^3."""

from __future__ import annotations

import os

import numpy as np

from ._density import ChargeDensity

__all__ = ["read_cube"]


def read_cube(path, *, units="bohr") -> ChargeDensity:
    """Read a Gaussian cube file of a periodic charge density.

    Parsing is delegated to ASE's :func:`ase.io.cube.read_cube` (plain or
    compressed files). Cube files give lengths in Bohr and the density in
    electrons per cubic Bohr; the returned density is in electrons per cubic
    Angstrom on the cell spanned by the three voxel vectors times the grid
    counts, with grid point ``(i, j, k)`` at fractional coordinates
    ``(i / nx, j / ny, k / nz)`` from the file's origin (the periodic
    convention of CP2K, Quantum ESPRESSO's ``pp.x``, GPAW and ASE).

    Parameters
    ----------
    path : str or path-like
        The file (``.cube``, optionally ``.gz``, ``.bz2``, ``.xz``).
    units : {"bohr", "angstrom"}, default="bohr"
        Unit of the density values in the file: ``"bohr"`` (e/Bohr^3, the cube
        convention) is converted to e/A^3; ``"angstrom"`` is taken as it is.

    Returns
    -------
    ChargeDensity
        ``metadata["origin"]`` holds the file's origin in Angstrom.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is malformed, holds several values per grid point, or
        describes no periodic cell; the message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ase.build import bulk
    >>> from ase.io.cube import write_cube
    >>> from skecd.io import read_cube
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "al.cube"
    >>> with open(path, "w") as fh:
    ...     write_cube(fh, bulk("Al"), data=np.full((4, 4, 4), 0.01))
    >>> rho = read_cube(path)
    >>> rho.grid_shape
    (4, 4, 4)
    """
    from ase.io.cube import read_cube as ase_read_cube
    from ase.units import Bohr
    from monty.io import zopen
    from pymatgen.core import Lattice, Structure

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such cube file: {path!r}")
    if units not in ("bohr", "angstrom"):
        raise ValueError(f"units must be 'bohr' or 'angstrom', got {units!r}")
    try:
        with zopen(path, mode="rt", encoding="utf-8") as fh:
            content = ase_read_cube(fh)
    except Exception as exc:  # ASE raises ValueError, IndexError, ... on bad files
        raise ValueError(f"Could not read cube file {path!r}: {exc}") from exc
    data = np.asarray(content["data"], dtype=np.float64)
    if data.ndim != 3:
        raise ValueError(
            f"Cube file {path!r} holds {data.shape[-1]} values per grid point; "
            "skecd reads cube files of one density"
        )
    atoms = content["atoms"]
    cell = np.asarray(atoms.cell[:], dtype=np.float64)
    if abs(np.linalg.det(cell)) < 1e-8:
        raise ValueError(f"Cube file {path!r} describes no 3D cell (voxel vectors {cell.tolist()})")
    origin = np.asarray(content["origin"], dtype=np.float64)
    lattice = Lattice(cell)
    try:
        structure = Structure(
            lattice,
            atoms.get_chemical_symbols(),
            atoms.positions - origin,
            coords_are_cartesian=True,
        )
    except Exception as exc:
        raise ValueError(f"Invalid structure in cube file {path!r}: {exc}") from exc
    scale = 1.0 / Bohr**3 if units == "bohr" else 1.0
    return ChargeDensity(
        structure=structure,
        total=data * scale,
        source=path,
        metadata={"origin": origin},
    )
