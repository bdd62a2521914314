"""Valence charge densities of pymatgen structures with GPAW (imported lazily)."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure
from threadpoolctl import threadpool_limits

from ..io import ChargeDensity
from ._settings import GPAW_SETTINGS, initial_magnetic_moments, primitive_standard_cell

__all__ = ["compute_density", "import_gpaw"]

_INSTALL_HINT = (
    "skecd.density needs GPAW and its PAW setups: pip install 'skecd[dft]' "
    "(GPAW compiles from source: it needs a C++ compiler and the libxc, FFTW and BLAS "
    "development files, e.g. apt-get install libxc-dev libfftw3-dev libopenblas-dev, and a "
    "siteconfig named by GPAW_CONFIG such as skecd's .ci/gpaw_siteconfig.py)."
)


def import_gpaw():
    """Import GPAW, or raise an ImportError that says how to install it.

    Returns
    -------
    module
        The ``gpaw`` module.
    """
    try:
        import gpaw
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    return gpaw


def compute_density(structure, *, txt=None) -> ChargeDensity:
    """Compute the valence pseudo charge density of a crystal with GPAW.

    The settings are those of every density skecd ships
    (:data:`skecd.density.GPAW_SETTINGS`: PBE, plane waves of 400 eV, Gamma-centred
    k-points of density 3.0 per reciprocal Angstrom, Fermi-Dirac smearing 0.1 eV,
    density converged to 1e-4, collinear spin polarisation started from
    moments on Mn, Fe, Co, Ni, Cr and V when present) on the primitive standard
    cell of ``structure``. Run one material per process with
    ``OMP_NUM_THREADS=1`` for the shipped timings (the ``skecd density``
    command does so).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The crystal; it is reduced to its primitive standard cell first.
    txt : str, path-like or None, default=None
        Where GPAW writes its log (None: nowhere, ``"-"``: standard output).

    Returns
    -------
    ChargeDensity
        ``total`` (and ``spin``, up minus down, when spin-polarised) in e/A^3 as
        float32 on GPAW's grid over the primitive standard cell; ``metadata`` holds
        ``n_valence`` (the integral of ``total``), ``energy`` (eV, GPAW's reference)
        and, when spin-polarised, ``magmom`` (Bohr magnetons per cell).

    Raises
    ------
    ImportError
        If GPAW is not installed.
    FileNotFoundError
        If GPAW has no PAW setup for one of the elements (for example Tc).

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skecd.density import compute_density
    >>> al = Structure(Lattice.cubic(4.04), ["Al"] * 4,
    ...                [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    >>> rho = compute_density(al)  # doctest: +SKIP
    >>> round(rho.n_electrons, 3)  # doctest: +SKIP
    3.0
    """
    if not isinstance(structure, Structure):
        raise TypeError(f"structure must be a pymatgen Structure, got {type(structure).__name__}")
    import_gpaw()
    from gpaw import GPAW, PW, FermiDirac
    from pymatgen.io.ase import AseAtomsAdaptor

    s = GPAW_SETTINGS
    cell = primitive_standard_cell(structure)
    atoms = AseAtomsAdaptor.get_atoms(cell)
    moments = initial_magnetic_moments(cell)
    if moments is not None:
        atoms.set_initial_magnetic_moments(moments)
    atoms.calc = GPAW(
        mode=PW(s["ecut"]),
        xc=s["xc"],
        kpts=dict(s["kpts"]),
        occupations=FermiDirac(s["smearing_width"]),
        convergence=dict(s["convergence"]),
        maxiter=s["maxiter"],
        txt=txt,
    )
    # One BLAS thread, as for the shipped densities (OMP_NUM_THREADS=1): on small
    # cells more threads only contend, and results stay independent of the machine.
    with threadpool_limits(limits=1):
        energy = float(atoms.get_potential_energy())
    calc = atoms.calc
    dtype = np.dtype(s["dtype"])
    refine = s["gridrefinement"]
    spin = None
    metadata = {}
    if moments is not None:
        up = calc.get_pseudo_density(spin=0, gridrefinement=refine)
        down = calc.get_pseudo_density(spin=1, gridrefinement=refine)
        total = up + down
        spin = (up - down).astype(dtype)
        metadata["magmom"] = float(calc.get_magnetic_moment())
    else:
        total = calc.get_pseudo_density(gridrefinement=refine)
    n_valence = float(np.mean(total, dtype=np.float64) * cell.volume)
    metadata = {"energy": energy, "n_valence": n_valence, **metadata}
    import gpaw

    return ChargeDensity(
        structure=cell,
        total=np.asarray(total).astype(dtype),
        spin=spin,
        source=f"GPAW {gpaw.__version__}: {cell.composition.reduced_formula}",
        metadata=metadata,
    )
