"""The one charge-density type of skecd."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

__all__ = ["ChargeDensity"]

#: Largest share of negative charge (integral of the negative voxels over the
#: integral of their absolute values) a total density may hold. Pseudo densities
#: dip below zero near the nuclei: on the bundled data the share reaches 0.15
#: (GPAW, mp-2612), and a density with more negative than positive charge has a
#: negative electron count. A share above this bound means a sign error or a
#: difference density (spin, or a density change) passed as the total.
MAX_NEGATIVE_SHARE = 1 / 3


@dataclass(eq=False)
class ChargeDensity:
    """A valence electronic charge density on a periodic grid over a crystal's cell.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The crystal. Its lattice defines the cell over which the grid runs.
    total : ndarray of shape (nx, ny, nz)
        Total valence density in electrons per cubic Angstrom. Point ``(i, j, k)``
        sits at fractional coordinates ``(i / nx, j / ny, k / nz)`` of ``structure``'s
        lattice (the VASP and GPAW convention). Note that a VASP CHGCAR stores
        density times cell volume; the readers in :mod:`skecd.io` divide that out.
    spin : ndarray of shape (nx, ny, nz), default=None
        Spin density (up minus down), electrons per cubic Angstrom, for
        spin-polarised calculations.
    source : str, default=None
        Where the density came from (a file path or a description); used in
        error messages.
    metadata : dict
        Free-form extra information (for example ``{"n_valence": 16.0}``).

    Raises
    ------
    ValueError
        If the lattice is not finite or has no volume, a site coordinate is not
        finite, a grid is not a real-valued 3D array of finite numbers (bool,
        complex and text are refused; integers become float64), or more than
        :data:`MAX_NEGATIVE_SHARE` of the total density's charge is negative
        (a sign error or a difference density). Messages name ``source``.

    Attributes
    ----------
    grid_shape : tuple of int
    volume : float
        Cell volume in cubic Angstrom.
    n_electrons : float
        Integral of ``total`` over the cell (mean times volume).

    Examples
    --------
    >>> import numpy as np
    >>> from pymatgen.core import Lattice, Structure
    >>> from skecd.io import ChargeDensity
    >>> s = Structure(Lattice.cubic(2.0), ["H"], [[0, 0, 0]])
    >>> rho = ChargeDensity(s, np.full((4, 4, 4), 0.125))
    >>> round(rho.n_electrons, 6)
    1.0
    """

    structure: Structure
    total: np.ndarray
    spin: np.ndarray | None = None
    source: str | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        where = f" (source: {self.source})" if self.source else ""
        if not isinstance(self.structure, Structure):
            kind = type(self.structure).__name__
            raise TypeError(f"structure must be a pymatgen Structure, got {kind}{where}")
        _check_lattice(self.structure, where)
        total = _real_grid(self.total, "total", where)
        if total.ndim != 3 or min(total.shape) < 1:
            raise ValueError(
                f"total density must be a non-empty 3D grid, got shape {total.shape}{where}"
            )
        if not np.all(np.isfinite(total)):
            n_bad = int(np.size(total) - np.isfinite(total).sum())
            raise ValueError(f"total density holds {n_bad} non-finite values (NaN or inf){where}")
        _check_negative_share(total, where)
        self.total = total
        if self.spin is not None:
            spin = _real_grid(self.spin, "spin", where)
            if spin.shape != total.shape:
                raise ValueError(
                    f"spin density shape {spin.shape} differs from total density shape "
                    f"{total.shape}{where}"
                )
            if not np.all(np.isfinite(spin)):
                raise ValueError(f"spin density holds non-finite values (NaN or inf){where}")
            self.spin = spin

    @property
    def grid_shape(self) -> tuple[int, int, int]:
        """Shape ``(nx, ny, nz)`` of the grid."""
        return tuple(int(n) for n in self.total.shape)

    @property
    def volume(self) -> float:
        """Cell volume in cubic Angstrom."""
        return float(self.structure.volume)

    @property
    def n_electrons(self) -> float:
        """Number of valence electrons in the cell (mean density times volume)."""
        return float(np.mean(self.total, dtype=np.float64) * self.volume)

    @property
    def formula(self) -> str:
        """Reduced formula of the structure."""
        return self.structure.composition.reduced_formula

    def to_chgcar(self):
        """Return the density as a pymatgen :class:`~pymatgen.io.vasp.outputs.Chgcar`.

        The data are scaled by the cell volume, as VASP stores them, so that
        ``chgcar.write_file(path)`` writes a CHGCAR that VASP tools and
        :func:`skecd.io.read_chgcar` read back.
        """
        from pymatgen.io.vasp import Chgcar, Poscar

        data = {"total": np.asarray(self.total, dtype=np.float64) * self.volume}
        if self.spin is not None:
            data["diff"] = np.asarray(self.spin, dtype=np.float64) * self.volume
        return Chgcar(Poscar(self.structure), data)

    def __repr__(self):
        spin = ", spin" if self.spin is not None else ""
        src = f", source={self.source!r}" if self.source else ""
        return (
            f"ChargeDensity({self.structure.composition.formula!r}, grid={self.grid_shape}"
            f"{spin}, n_electrons={self.n_electrons:.3f}{src})"
        )


def _check_lattice(structure, where):
    """Refuse a lattice that is not finite or has (almost) no volume.

    A zero or NaN lattice used to give NaN electron counts, a ZeroDivisionError in
    pymatgen's neighbour search and a segfault in spglib; the check sits here,
    where every density is made.
    """
    matrix = np.asarray(structure.lattice.matrix, dtype=np.float64)
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"lattice holds non-finite values (NaN or inf): {matrix.tolist()}{where}")
    lengths = np.linalg.norm(matrix, axis=1)
    volume = abs(float(np.linalg.det(matrix)))
    # relative to the box of the same edge lengths, so the bound does not depend on units
    if np.any(lengths <= 0) or volume <= 1e-8 * float(np.prod(lengths)):
        raise ValueError(
            f"lattice is singular (cell volume {volume:.3g} A^3, vector lengths "
            f"{np.round(lengths, 6).tolist()} A){where}"
        )
    if not np.all(np.isfinite(structure.frac_coords)):
        raise ValueError(f"site coordinates hold non-finite values (NaN or inf){where}")


def _real_grid(values, name, where):
    """Return ``values`` as a real floating-point array, refusing bool, complex and text."""
    grid = np.asarray(values)
    if grid.dtype.kind in "iu":
        return grid.astype(np.float64)
    if grid.dtype.kind != "f":
        raise ValueError(
            f"{name} density must hold real numbers, got dtype {grid.dtype} "
            f"(bool, complex, text and object grids are refused){where}"
        )
    return grid


def _check_negative_share(total, where):
    negative = -float(np.sum(total, where=total < 0, dtype=np.float64))
    absolute = float(np.sum(np.abs(total), dtype=np.float64))
    if absolute > 0 and negative / absolute > MAX_NEGATIVE_SHARE:
        raise ValueError(
            f"total density is mostly negative: {negative / absolute:.0%} of its charge is "
            f"below zero (at most {MAX_NEGATIVE_SHARE:.0%} is accepted; pseudo densities dip "
            f"below zero only near the nuclei). Is it a spin or difference density, or of "
            f"the wrong sign?{where}"
        )
