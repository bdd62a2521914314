"""The density around each atom, spherically averaged at fixed radii, pooled over the atoms."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.special import erfc
from sklearn.utils._param_validation import Interval

from ..io import load_density
from ._base import BaseSampleFeaturizer
from ._local import _resample_spectrum

__all__ = ["RadialDensityFeaturizer"]

_STATS = ("mean", "min", "max")
_KINDS = ("log10_n", "log10_electrons")


class RadialDensityFeaturizer(BaseSampleFeaturizer):
    """Radial profiles of the density around every atom, pooled over the atoms.

    For every atom of the file's structure, the valence density ``n`` is averaged
    over thin spherical shells of the given ``radii`` (Angstrom) centred on the
    nucleus, and the electrons inside each sphere are counted. Both are read off the
    grid points themselves, by their distance to the nucleus (over the periodic
    images): a shell average is the mean of the points weighted by a Gaussian of
    the distance (standard deviation ``width``), an electron count the sum of the
    points inside, with the sphere's edge softened over the same ``width``. The file's
    grid is first refined by whole factors (Fourier interpolation, as in
    :class:`LocalDensityFeaturizer`) until its spacing is at most ``spacing``. Both
    go through ``log10`` (floored at ``floor``) and are pooled over the atoms by
    their mean, minimum and maximum.

    Distances between grid points and nuclei do not change when the file is rotated,
    when its origin moves by grid steps or when it is a supercell (every atom repeated
    alike), so the row is the same in each case (up to float rounding); a
    conventional cell whose grid holds the same points gives the same row too.

    The columns describe *how the density is shaped around the nuclei*: how much
    valence charge an atom holds close in, how fast it decays and how much reaches
    the neighbours. They use the density and the atomic positions of the file only,
    never which element sits there. The volume-uniform descriptors of
    :class:`LocalDensityFeaturizer` dilute this atom-centred information.

    The transformer is stateless: ``fit`` only validates the parameters.

    Parameters
    ----------
    radii : tuple of float, default=(0.3, 0.45, 0.6, 0.8, 1.0, ..., 2.6, 3.0)
        Sphere radii in Angstrom (physical scale: the same in every crystal),
        increasing. The default: 0.3, 0.45, 0.6, 0.8, then steps of 0.2 to 2.0,
        then 2.3, 2.6, 3.0.
    width : float, default=0.1
        Thickness (Angstrom, a Gaussian's standard deviation) of the shells and of
        the spheres' soft edge.
    spacing : float, default=0.15
        Largest grid spacing (Angstrom) at which the density is read.
    floor : float, default=1e-4
        Smallest value (e/A^3, or electrons) passed to ``log10``; pseudo densities
        may hold small negative values near the nuclei.
    core_radius : float, default=0.0
        Radius (Angstrom) of a sphere around every nucleus whose grid points are left
        out of every shell average and electron count (the electrons are then those
        *outside* all core spheres). DFT codes differ most inside their PAW
        augmentation spheres (GPAW's pseudo density with compensation charges dips to
        -1.3 e/A^3 there, VASP's stays above -0.2, and semicore states are valence in
        one code and core in the other), and agree closely between the atoms; a
        ``core_radius`` of about 1 A, with ``radii`` beyond it, describes only the
        part of the density where they agree (the user guide, "Densities from other
        DFT codes", gives the measured shifts). 0 keeps every point.
    n_jobs : int, default=None
        Number of joblib workers; ``None`` means 1, ``-1`` all cores.
    verbose : bool, default=False
        Show a tqdm progress bar over the samples.

    See Also
    --------
    LocalDensityFeaturizer : Volume-uniform local descriptors of the same density.
    ChargeDensityDescriptor : A few global numbers of the density.

    Examples
    --------
    >>> from pathlib import Path
    >>> import skecd
    >>> from skecd.preprocessing import RadialDensityFeaturizer
    >>> data = Path(skecd.__file__).parent / "datasets" / "data" / "ecd_gpaw"
    >>> X = RadialDensityFeaturizer(radii=(0.5, 1.0, 2.0)).fit_transform([data / "mp-30.npz"])
    >>> X.shape
    (1, 18)
    >>> str(RadialDensityFeaturizer(radii=(0.5, 1.0)).get_feature_names_out()[0])
    'log10_n@0.5A_mean'
    """

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "radii": ["array-like"],
        "width": [Interval(Real, 0, None, closed="neither")],
        "spacing": [Interval(Real, 0, None, closed="neither")],
        "floor": [Interval(Real, 0, None, closed="neither")],
        "core_radius": [Interval(Real, 0, None, closed="left")],
    }
    _parameter_messages = {
        "radii": "must be an increasing sequence of positive lengths in Angstrom",
        "width": "must be a positive length in Angstrom",
        "spacing": "must be a positive length in Angstrom",
        "floor": "must be a positive density in e/A^3",
        "core_radius": "must be a non-negative length in Angstrom",
    }
    _progress = ("Radial profiles", "density")

    def __init__(
        self,
        radii=(0.3, 0.45, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.3, 2.6, 3.0),
        width=0.1,
        spacing=0.15,
        floor=1e-4,
        core_radius=0.0,
        n_jobs=None,
        verbose=False,
    ):
        self.radii = radii
        self.width = width
        self.spacing = spacing
        self.floor = floor
        self.core_radius = core_radius
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if not increasing_radii(self.radii):
            self._raise_invalid(type(self).__name__, "radii", self.radii)

    def featurize_sample(self, sample, index):
        """Pooled radial profiles of one density, shape (6 * len(radii),).

        Parameters
        ----------
        sample : str, path-like, ChargeDensity or VolumetricData
        index : int
            Its position in ``X`` (named in errors).

        Returns
        -------
        ndarray, float64
            In the order of :meth:`get_feature_names_out`.
        """
        density = load_density(sample, index=index)  # refuses non-finite grids, naming them
        return radial_profiles(
            density.total,
            density.structure.lattice.matrix,
            density.structure.cart_coords,
            np.asarray(self.radii, dtype=float),
            float(self.width),
            float(self.floor),
            float(self.spacing),
            float(self.core_radius),
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``<kind>@<radius>A_<stat>``.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str
        """
        self._validate_params()
        return np.array(
            [
                f"{kind}@{float(r):g}A_{stat}"
                for kind in _KINDS
                for stat in _STATS
                for r in np.asarray(self.radii, dtype=float).ravel()
            ],
            dtype=object,
        )


def increasing_radii(value):
    """Whether ``value`` is a non-empty 1D sequence of finite, positive, increasing radii."""
    try:
        radii = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False
    return bool(
        radii.ndim == 1
        and radii.size > 0
        and np.all(np.isfinite(radii))
        and np.all(radii > 0)
        and np.all(np.diff(radii) > 0)
    )


def radial_profiles(
    total, lattice, cart_coords, radii, width, floor, spacing=0.15, core_radius=0.0
):
    """The row of :class:`RadialDensityFeaturizer` for a density on its periodic grid.

    Parameters
    ----------
    total : ndarray of shape (n1, n2, n3)
        The density in e/A^3, point ``(i, j, k)`` at fractional ``(i/n1, j/n2, k/n3)``.
    lattice : ndarray of shape (3, 3)
        Cell vectors (rows, Angstrom).
    cart_coords : ndarray of shape (n_atoms, 3)
        Positions of the nuclei (Angstrom).
    radii : ndarray of shape (n_radii,)
    width : float
    floor : float
    spacing : float, default=0.15
    core_radius : float, default=0.0
        Points within this distance of any nucleus are left out (0: none).

    Returns
    -------
    ndarray of shape (6 * n_radii,)
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    fine = fine_grid(total, lattice, spacing)
    n = np.asarray(fine.shape)
    voxel = abs(np.linalg.det(lattice)) / fine.size
    inverse = np.linalg.inv(lattice)
    # Distance between neighbouring lattice planes along each axis: the grid indices
    # within ``reach`` of a nucleus lie in a box of that many planes on either side.
    planes = 1.0 / np.linalg.norm(inverse, axis=0)
    fractional = np.asarray(cart_coords, dtype=np.float64) @ inverse
    keep = np.ones(fine.shape, dtype=bool)
    if core_radius > 0:  # every periodic image's core, also of the neighbours
        for frac in fractional:
            index, _ = _points_within(frac, core_radius, n, lattice, planes)
            keep[index[:, 0], index[:, 1], index[:, 2]] = False
    reach = radii[-1] + 4.0 * width
    shells, electrons = [], []
    for frac in fractional:
        index, distance = _points_within(frac, reach, n, lattice, planes)
        values = fine[index[:, 0], index[:, 1], index[:, 2]]
        kept = keep[index[:, 0], index[:, 1], index[:, 2]]
        offset = (distance[:, None] - radii[None, :]) / width
        weight = np.exp(-0.5 * offset**2) * kept[:, None]
        total_weight = weight.sum(axis=0)
        # A shell wholly inside the cores has no point left: it reads as the floor.
        shells.append(
            np.divide(
                values @ weight, total_weight, out=np.zeros(len(radii)), where=total_weight > 0
            )
        )
        electrons.append((values * kept) @ (0.5 * erfc(offset / np.sqrt(2.0))) * voxel)
    rows = []
    for profile in (np.array(shells), np.array(electrons)):
        profile = np.log10(np.maximum(profile, floor))
        rows += [profile.mean(axis=0), profile.min(axis=0), profile.max(axis=0)]
    return np.concatenate(rows)


def refined_spectrum(total, lattice, spacing):
    """Fourier coefficients of the density on its grid refined by whole factors to a
    spacing of at most ``spacing`` (exact interpolation of the band-limited density)."""
    steps = np.linalg.norm(lattice, axis=1) / np.asarray(total.shape)
    n = np.asarray(total.shape) * np.maximum(np.ceil(steps / spacing - 1e-9), 1).astype(int)
    return _resample_spectrum(np.fft.fftn(np.asarray(total, dtype=np.float64)), n)


def fine_grid(total, lattice, spacing):
    """The density on its grid refined by whole factors to a spacing of at most ``spacing``."""
    return np.fft.ifftn(refined_spectrum(total, lattice, spacing)).real


def _points_within(frac, reach, n, lattice, planes):
    """Indices (wrapped into the grid ``n``) and distances of the grid points within
    ``reach`` of the fractional position ``frac``, over the periodic images."""
    lo = np.floor((frac - reach / planes) * n).astype(int)
    hi = np.ceil((frac + reach / planes) * n).astype(int)
    axes = [np.arange(a, b + 1) for a, b in zip(lo, hi)]
    index = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    distance = np.linalg.norm((index / n - frac) @ lattice, axis=1)
    near = distance <= reach
    return index[near] % n, distance[near]
