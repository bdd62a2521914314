"""Resampling of charge densities onto fixed-size cubes (the input of the 3D CNNs)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.ndimage import map_coordinates
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from ..io import load_density
from ._base import BaseSampleFeaturizer

__all__ = ["ChargeDensityVoxelizer"]

_FRAMES = ("cell", "conventional", "cube")


class ChargeDensityVoxelizer(BaseSampleFeaturizer):
    """Resample charge densities onto a ``D x D x D`` grid (the input of the 3D CNNs).

    Each sample (a file path, a :class:`~skecd.io.ChargeDensity` or a pymatgen
    ``VolumetricData``) is read with :func:`skecd.io.load_density` and its density,
    in electrons per cubic Angstrom, is interpolated periodically at ``D**3``
    points of one of three frames:

    - ``"cell"`` (the paper's frame): point ``(i, j, k)`` sits at fractional
      coordinates ``(i/D, j/D, k/D)`` of the file's own cell. The voxels then
      depend on which cell (primitive, conventional, ...) the file uses.
    - ``"conventional"``: the same over spglib's conventional standard cell, with
      its standard origin. A crystal gives the same voxels whatever cell, setting,
      orientation or origin its file uses.
    - ``"cube"``: a cube of ``cube_edge`` Angstrom, with edges along the
      orthonormalised conventional axes (a; b made orthogonal to a; their cross
      product) and its corner at the standard origin. Every material is seen at
      the same scale and orientation.

    The transformer is stateless: ``fit`` only validates the parameters.

    Parameters
    ----------
    grid_size : int, default=60
        Edge ``D`` of the output cube, in voxels (60 in the paper).
    frame : {"cell", "conventional", "cube"}, default="cell"
        Where the voxels are placed (see above).
    cube_edge : float, default=None
        Edge of the cube in Angstrom; required for, and only used with,
        ``frame="cube"``.
    order : int, default=3
        Order of the periodic B-spline interpolation (1 = trilinear, 3 = cubic;
        0 to 5 accepted).
    symprec : float, default=0.01
        Symmetry tolerance in Angstrom passed to spglib (through pymatgen's
        ``SpacegroupAnalyzer``) to find the conventional cell; only used with
        ``frame="conventional"`` or ``"cube"``.
    include_spin : bool, default=False
        If True, a second channel holds the spin (magnetisation) density, zero for
        samples that are not spin-polarised.
    n_jobs : int, default=None
        Number of joblib workers reading and resampling the samples; ``None``
        means 1, ``-1`` all cores.
    verbose : bool, default=False
        Show a tqdm progress bar over the samples.

    See Also
    --------
    AxisProjector : Turns the cubes into the three axis views of the projected CNN.
    skecd.io.load_density : Reads one sample.

    Notes
    -----
    Interpolation uses :func:`scipy.ndimage.map_coordinates` with
    ``mode="grid-wrap"``, whose spline prefilter is then the periodic one, so the
    density is treated as the periodic function it is. Splines are local (each
    value needs the ``(order + 1)**3`` neighbouring coefficients), reach arbitrary
    off-grid points (as the conventional and cube frames need) and cost
    ``O(N_in + order**3 N_out)``. Fourier interpolation would be exact for a
    band-limited density but evaluating it at ``N_out`` arbitrary points costs
    ``O(N_in N_out)``; it is only cheap on regular sub-grids of the same cell.
    Values are not rescaled: voxels hold electrons per cubic Angstrom, so the mean
    of a ``"cell"`` cube times the cell volume is the electron count of the cell.

    The conventional cell comes from spglib (``transformation_matrix`` ``P`` and
    ``origin_shift`` ``p``, with ``x_std = P x + p``), so conventional point ``u``
    is read at ``P^-1 (u - p)`` of the file's cell. The frame does not depend on
    the file's cell choice or orientation. It is unique only up to spglib's choice
    among equivalent standard settings: when the file already has an admissible
    origin spglib keeps it, so shifting a structure by a translation of its
    Euclidean normaliser (for example moving the Cl instead of the Na of rock salt
    to the origin) gives another, equally standard, frame.

    Examples
    --------
    >>> from skecd.datasets import get_sample_chgcar_paths
    >>> from skecd.preprocessing import ChargeDensityVoxelizer
    >>> si = get_sample_chgcar_paths()["Si_fcc"]  # 1 atom, 4 valence electrons
    >>> X = ChargeDensityVoxelizer(grid_size=16).fit_transform([si])
    >>> X.shape, X.dtype
    ((1, 1, 16, 16, 16), dtype('float32'))
    >>> from skecd.io import read_chgcar
    >>> volume = read_chgcar(si).volume  # of the file's (primitive) cell, A^3
    >>> round(float(X.mean()) * volume, 2)  # mean density x cell volume = electrons
    4.0
    """

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "grid_size": [Interval(Integral, 2, None, closed="left")],
        "frame": [StrOptions(set(_FRAMES))],
        "cube_edge": [None, Interval(Real, 0, None, closed="neither")],
        "order": [Interval(Integral, 0, 5, closed="both")],
        "symprec": [Interval(Real, 0, None, closed="neither")],
        "include_spin": ["boolean"],
    }
    _parameter_messages = {
        "grid_size": "must be an int >= 2",
        "frame": f"must be one of {_FRAMES}",
        "cube_edge": "must be a positive length in Angstrom",
        "order": "must be an int from 0 to 5",
        "symprec": "must be a positive float",
        "include_spin": "must be a bool",
    }
    _progress = ("Voxelising", "density")

    def __init__(
        self,
        grid_size=60,
        frame="cell",
        cube_edge=None,
        order=3,
        symprec=0.01,
        include_spin=False,
        n_jobs=None,
        verbose=False,
    ):
        self.grid_size = grid_size
        self.frame = frame
        self.cube_edge = cube_edge
        self.order = order
        self.symprec = symprec
        self.include_spin = include_spin
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if self.frame == "cube" and self.cube_edge is None:
            raise InvalidParameterError(
                f"{type(self).__name__}: frame='cube' needs cube_edge, a positive length in "
                f"Angstrom, got {self.cube_edge!r}"
            )

    def featurize_sample(self, sample, index):
        """Voxelise one sample.

        Parameters
        ----------
        sample : str, path-like, ChargeDensity or VolumetricData
            The density.
        index : int
            Its position in ``X``, for error messages.

        Returns
        -------
        ndarray of shape (n_channels, D, D, D), float32
            ``n_channels`` is 1 (total density), or 2 (total, spin) with
            ``include_spin=True``; values in electrons per cubic Angstrom.
        """
        return _voxelize_sample(
            sample,
            index,
            grid_size=int(self.grid_size),
            frame=self.frame,
            cube_edge=None if self.cube_edge is None else float(self.cube_edge),
            order=int(self.order),
            symprec=float(self.symprec),
            include_spin=bool(self.include_spin),
        )


def _voxelize_sample(obj, index, *, grid_size, frame, cube_edge, order, symprec, include_spin):
    """Read sample ``index`` and return its ``(C, D, D, D)`` float32 cube."""
    density = load_density(obj, index=index)
    grids = [density.total]
    if include_spin:
        grids.append(density.spin if density.spin is not None else None)
    for name, grid in zip(("total", "spin"), grids):
        if grid is not None and not np.all(np.isfinite(grid)):
            raise ValueError(
                f"sample {index}: {name} density holds non-finite values (NaN or inf)"
                f" (source: {density.source})"
            )
    try:
        frac = _sample_points(density, grid_size, frame, cube_edge=cube_edge, symprec=symprec)
    except ValueError as exc:
        raise ValueError(f"sample {index} (source: {density.source}): {exc}") from exc
    out = np.zeros((len(grids), grid_size, grid_size, grid_size), dtype=np.float32)
    for c, grid in enumerate(grids):
        if grid is not None:
            out[c] = _interpolate_periodic(grid, frac, order)
    return out


def _sample_points(density, grid_size, frame="cell", cube_edge=None, symprec=0.01):
    """Fractional coordinates, in the density's own cell, of the voxel centres.

    Parameters
    ----------
    density : ChargeDensity
    grid_size : int
    frame : {"cell", "conventional", "cube"}
    cube_edge : float, default=None
        Cube edge in Angstrom for ``frame="cube"``.
    symprec : float, default=0.01

    Returns
    -------
    ndarray of shape (D, D, D, 3)
    """
    steps = np.arange(grid_size, dtype=np.float64) / grid_size
    u = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1)
    if frame == "cell":
        return u
    p_inv, origin_shift = _standardisation(density.structure, symprec)
    if frame == "conventional":
        # spglib: x_std = P x + p (mod 1) for a point with fractional x in the input
        # cell, so the input-cell coordinates of conventional point u are P^-1 (u - p).
        return (u - origin_shift) @ p_inv.T
    if frame == "cube":
        lattice = density.structure.lattice.matrix  # rows a, b, c (Angstrom)
        # Conventional vectors as rows: (a_s b_s c_s) = (a b c) P^-1 in column form.
        conv = p_inv.T @ lattice
        axes = _orthonormal_axes(conv)
        origin = (-p_inv @ origin_shift) @ lattice  # Cartesian standard origin
        cart = origin + (u * cube_edge) @ axes
        return cart @ np.linalg.inv(lattice)
    raise ValueError(f"unknown frame {frame!r}")


def _standardisation(structure, symprec):
    """Return ``(P^-1, p)`` of spglib's standardisation of ``structure``."""
    from pymatgen.core import Lattice, Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    # P and p relate fractional coordinates, which do not depend on how the cell is
    # oriented in space. spglib breaks ties between equivalent conventional bases by
    # floating-point noise of the Cartesian lattice, so a rotated copy could get
    # another (symmetry-equivalent) basis; giving spglib the cell in a canonical
    # orientation (rounded lattice parameters) makes the choice orientation-free.
    abc_angles = np.round(np.concatenate([structure.lattice.abc, structure.lattice.angles]), 8)
    canonical = Structure(
        Lattice.from_parameters(*abc_angles), structure.species, structure.frac_coords
    )
    try:
        dataset = SpacegroupAnalyzer(canonical, symprec=symprec).get_symmetry_dataset()
    except Exception as exc:  # spglib raises or returns None on failure
        raise ValueError(f"spglib found no symmetry dataset (symprec={symprec}): {exc}") from exc
    if dataset is None:
        raise ValueError(f"spglib found no symmetry dataset (symprec={symprec})")
    p_inv = np.linalg.inv(np.asarray(dataset.transformation_matrix, dtype=np.float64))
    # P^-1 is an integer matrix up to spglib's float noise; rounding keeps
    # conventional voxels exactly on input grid points when the grids align.
    p_inv_int = np.rint(p_inv)
    if np.allclose(p_inv, p_inv_int, atol=1e-6):
        p_inv = p_inv_int
    return p_inv, np.asarray(dataset.origin_shift, dtype=np.float64)


def _orthonormal_axes(vectors):
    """Rows e1, e2, e3: a normalised, b made orthogonal to it, then the side of c."""
    a, b, c = vectors
    e1 = a / np.linalg.norm(a)
    e2 = b - (b @ e1) * e1
    e2 /= np.linalg.norm(e2)
    e3 = np.cross(e1, e2)
    if e3 @ c < 0:  # keep the handedness of the cell
        e3 = -e3
    return np.stack([e1, e2, e3])


def _interpolate_periodic(grid, frac, order):
    """Evaluate the periodic spline of ``grid`` at fractional points ``frac``."""
    # Periodic B-spline interpolation (see the class Notes): mode="grid-wrap" makes
    # both the prefilter and the evaluation periodic with period n along each axis.
    shape = np.asarray(grid.shape, dtype=np.float64)
    coords = np.mod(frac * shape, shape).reshape(-1, 3).T
    values = map_coordinates(
        np.asarray(grid, dtype=np.float64), coords, order=order, mode="grid-wrap", prefilter=True
    )
    return values.reshape(frac.shape[:-1])
