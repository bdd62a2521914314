"""The one charge-density type of skecd."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

__all__ = ["ChargeDensity"]


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
        total = np.asarray(self.total)
        if total.ndim != 3 or min(total.shape) < 1:
            raise ValueError(
                f"total density must be a non-empty 3D grid, got shape {total.shape}{where}"
            )
        if not np.issubdtype(total.dtype, np.floating):
            total = total.astype(np.float64)
        if not np.all(np.isfinite(total)):
            n_bad = int(np.size(total) - np.isfinite(total).sum())
            raise ValueError(f"total density holds {n_bad} non-finite values (NaN or inf){where}")
        self.total = total
        if self.spin is not None:
            spin = np.asarray(self.spin)
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
