"""The DFT settings of skecd's densities, in one place (no GPAW needed here).

They are the settings recorded in ``skecd/datasets/data/ecd_gpaw/MANIFEST.json``
under ``"settings"``; :func:`describe_settings` writes them in that file's words
and the tests check that the two agree.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

__all__ = [
    "GPAW_SETTINGS",
    "describe_settings",
    "estimated_cost",
    "initial_magnetic_moments",
    "primitive_standard_cell",
]

GPAW_SETTINGS = {
    "ecut": 400.0,  # plane-wave cutoff, eV
    "xc": "PBE",
    "kpts": {"density": 3.0, "gamma": True},  # k-points per reciprocal Angstrom, Gamma-centred
    "smearing_width": 0.1,  # Fermi-Dirac, eV
    "convergence": {"density": 1e-4},
    "maxiter": 300,
    # Initial collinear moments (Bohr magnetons); spin polarisation only when one is present.
    "initial_magmoms": {"Mn": 4.0, "Fe": 3.0, "Co": 2.0, "Ni": 1.0, "Cr": 3.0, "V": 2.0},
    "symprec": 0.1,  # of SpacegroupAnalyzer, for the primitive standard cell
    "gridrefinement": 1,  # of calc.get_pseudo_density: GPAW's native grid
    "dtype": "float32",  # storage type of the density grids
}
"""dict: The GPAW settings of every density skecd ships and computes."""


def _number(x) -> str:
    return f"{x:g}"


def describe_settings(settings=None) -> dict:
    """Describe the settings in the words of the ``"settings"`` entry of the data manifest.

    Parameters
    ----------
    settings : dict, default=None
        Settings in the layout of :data:`GPAW_SETTINGS` (the default).

    Returns
    -------
    dict of str
        Keys ``mode``, ``xc``, ``kpts``, ``occupations``, ``convergence``,
        ``maxiter``, ``spin``, ``cell``, ``density``, ``threads``.

    Examples
    --------
    >>> from skecd.density import describe_settings
    >>> describe_settings()["mode"]
    'PW(400 eV)'
    """
    s = GPAW_SETTINGS if settings is None else settings
    moments = ", ".join(f"{el} {_number(m)}" for el, m in s["initial_magmoms"].items())
    return {
        "mode": f"PW({_number(s['ecut'])} eV)",
        "xc": s["xc"],
        "kpts": dict(s["kpts"]),
        "occupations": f"FermiDirac({_number(s['smearing_width'])} eV)",
        "convergence": dict(s["convergence"]),
        "maxiter": s["maxiter"],
        "spin": f"collinear, initial moments {moments} (only when one of these is present)",
        "cell": (
            "pymatgen SpacegroupAnalyzer(structure, "
            f"symprec={_number(s['symprec'])}).get_primitive_standard_structure()"
        ),
        "density": (
            f"calc.get_pseudo_density() (gridrefinement={s['gridrefinement']}), e/A^3, {s['dtype']}"
        ),
        "threads": "one process per material, OMP_NUM_THREADS=1",
    }


def primitive_standard_cell(structure: Structure, symprec=None) -> Structure:
    """Return the primitive standard cell on which the densities are computed.

    Parameters
    ----------
    structure : pymatgen.core.Structure
    symprec : float, default=None
        Symmetry tolerance; ``GPAW_SETTINGS["symprec"]`` (0.1) by default.

    Returns
    -------
    pymatgen.core.Structure

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skecd.density import primitive_standard_cell
    >>> al = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.04), ["Al"], [[0, 0, 0]])
    >>> len(al), len(primitive_standard_cell(al))
    (4, 1)
    """
    if not isinstance(structure, Structure):
        raise TypeError(f"structure must be a pymatgen Structure, got {type(structure).__name__}")
    symprec = GPAW_SETTINGS["symprec"] if symprec is None else symprec
    return SpacegroupAnalyzer(structure, symprec=symprec).get_primitive_standard_structure()


def initial_magnetic_moments(structure: Structure, settings=None):
    """Return the initial collinear magnetic moments of the sites, or None.

    Parameters
    ----------
    structure : pymatgen.core.Structure
    settings : dict, default=None
        Settings in the layout of :data:`GPAW_SETTINGS` (the default).

    Returns
    -------
    ndarray of shape (n_sites,) or None
        The moment of each site (0 for elements not in
        ``settings["initial_magmoms"]``), or None when no site carries one, in
        which case the calculation is not spin-polarised.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skecd.density import initial_magnetic_moments
    >>> s = Structure(Lattice.cubic(4.2), ["Ni", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> initial_magnetic_moments(s).tolist()
    [1.0, 0.0]
    >>> s = Structure(Lattice.cubic(4.0), ["Al"], [[0, 0, 0]])
    >>> initial_magnetic_moments(s) is None
    True
    """
    s = GPAW_SETTINGS if settings is None else settings
    moments = np.array(
        [s["initial_magmoms"].get(site.specie.symbol, 0.0) for site in structure], dtype=float
    )
    return moments if np.any(moments != 0) else None


#: Median CPU time of a spin-polarised density over an unpolarised one, measured on the
#: 1,426 densities of ``data/ecd_gpaw_extended`` (2.66).
SPIN_COST_FACTOR = 2.7


def estimated_cost(structure: Structure, settings=None) -> float:
    """Relative CPU cost of computing the density of ``structure`` (no GPAW needed).

    The product of the irreducible k-points of the Gamma-centred mesh (spglib, through
    pymatgen), the sites and the volume of the primitive standard cell, times
    ``SPIN_COST_FACTOR`` (2.7) when the run is spin-polarised: the plane waves grow with
    the volume and the bands with the atoms. On the densities built so far its logarithm
    correlates at 0.88 with that of the CPU seconds (a third of the 1,426 of
    ``data/ecd_gpaw_extended``); the number of sites alone, 0.36. Only for ordering work:
    it is not in seconds.

    Parameters
    ----------
    structure : pymatgen.core.Structure
    settings : dict, default=None
        Settings in the layout of :data:`GPAW_SETTINGS` (the default).

    Returns
    -------
    float

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skecd.density import estimated_cost
    >>> fcc = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    >>> cu = Structure(Lattice.cubic(3.6), ["Cu"] * 4, fcc)
    >>> ni = Structure(Lattice.cubic(3.6), ["Ni"] * 4, fcc)
    >>> bool(estimated_cost(cu) < estimated_cost(ni))  # the same cell, spin-polarised
    True
    """
    from ase.calculators.calculator import kptdensity2monkhorstpack
    from pymatgen.io.ase import AseAtomsAdaptor

    s = GPAW_SETTINGS if settings is None else settings
    cell = primitive_standard_cell(structure, symprec=s["symprec"])
    mesh = kptdensity2monkhorstpack(
        AseAtomsAdaptor.get_atoms(cell), kptdensity=s["kpts"]["density"], even=False
    )
    analyzer = SpacegroupAnalyzer(cell, symprec=s["symprec"])
    n_kpts = len(analyzer.get_ir_reciprocal_mesh(tuple(int(k) for k in mesh), is_shift=(0, 0, 0)))
    spin = SPIN_COST_FACTOR if initial_magnetic_moments(cell, s) is not None else 1.0
    return float(n_kpts * len(cell) * cell.volume * spin)
