"""Angular shape of the density around each atom: a SOAP of the density field itself."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from pymatgen.core import Lattice
from scipy.integrate import lebedev_rule
from scipy.ndimage import map_coordinates, spline_filter
from scipy.special import erfc, sph_harm_y
from sklearn.utils._param_validation import Interval

from ..io import load_density
from ._base import BaseSampleFeaturizer
from ._radial import fine_grid, increasing_radii

__all__ = ["AngularDensityFeaturizer"]

_STATS = ("mean", "max")
_SOFTNESS = 0.25  # Angstrom: width of the switch at the edge of a core sphere


class AngularDensityFeaturizer(BaseSampleFeaturizer):
    """Rotation-invariant angular power spectra of the density on shells around each atom.

    For every atom, the valence density ``n`` is read on spheres of the given
    ``radii`` (Angstrom) centred on the nucleus, at the points of a Lebedev
    quadrature (:func:`scipy.integrate.lebedev_rule`), and expanded in spherical
    harmonics (:func:`scipy.special.sph_harm_y`) up to degree ``l_max``:
    ``c_lm(r) = sum_i w_i n(r u_i) Y_lm*(u_i)``. Two kinds of numbers that do not
    change when the crystal is rotated are kept (the power spectrum of SOAP, applied
    to the density field rather than to smeared atom positions):

    - ``aniso_l@r``: ``sqrt(p_l(r) / p_0(r))`` with the power
      ``p_l(r) = sum_m |c_lm(r)|^2``: how far the shell's density departs from a
      sphere at angular frequency ``l`` (0 for a spherical atom; the directional
      bonds of covalent crystals raise ``l = 3, 4``, ``l = 4, 6`` for cubic sites);
    - ``align_l@r1-r2``: ``Re sum_m c_lm(r1) c_lm*(r2) / sqrt(p_0(r1) p_0(r2))`` for
      neighbouring radii: the angular pattern's power shared by two shells, positive
      when it keeps its orientation from one shell to the next and negative when it
      turns over, as when lobes of bonding charge give way to the neighbours' cores.

    Both are pooled over the atoms by their mean and maximum. Isotropic descriptors
    (:class:`RadialDensityFeaturizer`, :class:`ChargeDensityDescriptor`) cannot see
    this directional character, which shear resistance depends on.

    The density is read off the file's grid refined by whole factors (Fourier
    interpolation) to at most ``spacing``, with cubic B-splines
    (:func:`scipy.ndimage.map_coordinates`, periodic). Points within ``core_radius``
    of any nucleus (of the neighbours too) read as 0: DFT codes differ most inside
    their PAW spheres (see :class:`RadialDensityFeaturizer`), so with ``core_radius``
    of about 1 A and ``radii`` beyond it, only the density where they agree is
    described (the masked directions then carry the neighbours' positions, which
    are the same in every code).

    The quadrature is exact for polynomials of degree ``order`` on the sphere; the
    density is not band-limited, so a rotated file gives the same row up to a
    small quadrature error (measured in the tests). The transformer is stateless:
    ``fit`` only validates the parameters.

    Parameters
    ----------
    radii : tuple of float, default=(1.25, 1.5, 1.75, 2.0, 2.5)
        Shell radii in Angstrom, increasing.
    l_max : int, default=6
        Highest degree of the spherical harmonics (``l = 1 .. l_max`` are output).
    order : int, default=41
        Degree of the Lebedev rule (590 points at 41); at least ``2 * l_max + 1``.
        Rules of lower degree are quicker but alias the sharp density near the
        neighbours' cores: rotating a file then changes the row by up to 0.4
        (degree 17) against 0.003 (degree 41).
    spacing : float, default=0.15
        Largest grid spacing (Angstrom) at which the density is interpolated.
    core_radius : float, default=1.0
        Radius (Angstrom) around every nucleus inside which the density reads as 0.
        0 keeps every point.
    n_jobs : int, default=None
        Number of joblib workers; ``None`` means 1, ``-1`` all cores.
    verbose : bool, default=False
        Show a tqdm progress bar over the samples.

    See Also
    --------
    RadialDensityFeaturizer : The spherically averaged profiles around the atoms.
    BondCriticalPointFeaturizer : The density at the bond points between neighbours.

    Examples
    --------
    >>> from pathlib import Path
    >>> import skecd
    >>> from skecd.preprocessing import AngularDensityFeaturizer
    >>> data = Path(skecd.__file__).parent / "datasets" / "data" / "ecd_gpaw"
    >>> f = AngularDensityFeaturizer(radii=(1.5, 2.0), l_max=4)
    >>> f.fit_transform([data / "mp-30.npz"]).shape
    (1, 24)
    >>> [str(c) for c in f.get_feature_names_out()[:2]]
    ['aniso_1@1.5A_mean', 'aniso_1@1.5A_max']
    """

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "radii": ["array-like"],
        "l_max": [Interval(Integral, 1, 12, closed="both")],
        "order": [Interval(Integral, 3, 131, closed="both")],
        "spacing": [Interval(Real, 0, None, closed="neither")],
        "core_radius": [Interval(Real, 0, None, closed="left")],
    }
    _parameter_messages = {
        "radii": "must be an increasing sequence of positive lengths in Angstrom",
        "l_max": "must be an int in [1, 12]",
        "order": "must be an odd int in [3, 131] of scipy's Lebedev rules, >= 2 * l_max + 1",
        "spacing": "must be a positive length in Angstrom",
        "core_radius": "must be a non-negative length in Angstrom",
    }
    _progress = ("Angular spectra", "density")

    def __init__(
        self,
        radii=(1.25, 1.5, 1.75, 2.0, 2.5),
        l_max=6,
        order=41,
        spacing=0.15,
        core_radius=1.0,
        n_jobs=None,
        verbose=False,
    ):
        self.radii = radii
        self.l_max = l_max
        self.order = order
        self.spacing = spacing
        self.core_radius = core_radius
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if not increasing_radii(self.radii):
            self._raise_invalid(type(self).__name__, "radii", self.radii)
        if self.order < 2 * self.l_max + 1:
            self._raise_invalid(type(self).__name__, "order", self.order)
        try:
            lebedev_rule(self.order)
        except (ValueError, NotImplementedError):
            self._raise_invalid(type(self).__name__, "order", self.order)

    def featurize_sample(self, sample, index):
        """Pooled angular spectra of one density, in the order of the feature names.

        Parameters
        ----------
        sample : str, path-like, ChargeDensity or VolumetricData
        index : int
            Its position in ``X`` (named in errors).

        Returns
        -------
        ndarray of float64
        """
        density = load_density(sample, index=index)
        return angular_spectra(
            density.total,
            density.structure.lattice.matrix,
            density.structure.cart_coords,
            np.asarray(self.radii, dtype=float),
            int(self.l_max),
            int(self.order),
            float(self.spacing),
            float(self.core_radius),
        )

    def get_feature_names_out(self, input_features=None):
        """Names ``aniso_<l>@<r>A_<stat>`` then ``align_<l>@<r1>-<r2>A_<stat>``.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str
        """
        self._validate_params()
        radii = [f"{float(r):g}" for r in np.asarray(self.radii, dtype=float)]
        ls = range(1, int(self.l_max) + 1)
        names = [f"aniso_{deg}@{r}A_{s}" for r in radii for deg in ls for s in _STATS]
        names += [
            f"align_{deg}@{a}-{b}A_{s}"
            for a, b in zip(radii[:-1], radii[1:])
            for deg in ls
            for s in _STATS
        ]
        return np.array(names, dtype=object)


def nearest_nucleus(points, lattice, cart_coords):
    """Distance (Angstrom) from each Cartesian point to the nearest nucleus, any image
    (pymatgen's minimum-image distances)."""
    cell = Lattice(lattice)
    frac = cell.get_fractional_coords(points)
    return cell.get_all_distances(frac, cell.get_fractional_coords(cart_coords)).min(axis=1)


def core_switch(distance, core_radius, softness=_SOFTNESS):
    """0 deep inside a core sphere, 1 outside, switched smoothly (an error function
    over ``softness`` Angstrom) so that the masked density stays smooth enough on the
    sphere for the quadrature (a hard edge would alias into every degree ``l``)."""
    return 0.5 * erfc((core_radius - distance) / softness)


def periodic_interpolator(grid):
    """Cubic B-spline interpolation of a periodic grid at fractional coordinates.

    The spline coefficients are computed once (:func:`scipy.ndimage.spline_filter`)
    and reused for every call.
    """
    coeffs = spline_filter(grid, order=3, mode="grid-wrap")
    shape = np.asarray(grid.shape, dtype=float)

    def at(frac):
        coords = (np.asarray(frac) % 1.0 * shape).T
        return map_coordinates(coeffs, coords, order=3, mode="grid-wrap", prefilter=False)

    return at


def angular_spectra(total, lattice, cart_coords, radii, l_max, order, spacing, core_radius):
    """The row of :class:`AngularDensityFeaturizer` for a density on its periodic grid.

    Returns
    -------
    ndarray of shape (2 * l_max * (2 * len(radii) - 1),)
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    cart_coords = np.asarray(cart_coords, dtype=np.float64)
    at = periodic_interpolator(fine_grid(total, lattice, spacing))
    x, w = lebedev_rule(order)  # (3, P) unit vectors and weights summing to 4 pi
    theta, phi = np.arccos(np.clip(x[2], -1.0, 1.0)), np.arctan2(x[1], x[0])
    ls = np.arange(1, l_max + 1)
    # conj(Y_lm) at the quadrature points, all (l, m) with l = 0..l_max stacked
    lm = [(deg, m) for deg in range(l_max + 1) for m in range(-deg, deg + 1)]
    ylm = np.conj(np.stack([sph_harm_y(deg, m, theta, phi) for deg, m in lm])) * w  # (LM, P)
    degree = np.array([deg for deg, _ in lm])
    # points on every shell of every atom: (atoms, radii, P, 3)
    points = cart_coords[:, None, None, :] + radii[None, :, None, None] * x.T[None, None]
    flat = points.reshape(-1, 3)
    values = at(flat @ np.linalg.inv(lattice))
    if core_radius > 0:
        values *= core_switch(nearest_nucleus(flat, lattice, cart_coords), core_radius)
    values = values.reshape(len(cart_coords), len(radii), -1)
    coeff = values @ ylm.T  # (atoms, radii, LM)
    power = np.stack(
        [np.sum(np.abs(coeff[..., degree == deg]) ** 2, axis=-1) for deg in range(l_max + 1)],
        axis=-1,
    )
    p0 = np.maximum(power[..., :1], 1e-30)
    aniso = np.sqrt(power[..., 1:] / p0)  # (atoms, radii, l_max)
    cross = np.stack(
        [
            np.sum(
                coeff[:, :-1, degree == deg] * np.conj(coeff[:, 1:, degree == deg]), axis=-1
            ).real
            for deg in ls
        ],
        axis=-1,
    )  # (atoms, radii - 1, l_max)
    # normalised by the spherical parts, not by p_l itself: a shell with almost no
    # power at degree l would turn quadrature noise into a full +-1
    align = cross / np.sqrt(p0[:, :-1] * p0[:, 1:])
    rows = []
    for block in (aniso, align):
        pooled = np.stack([block.mean(axis=0), block.max(axis=0)], axis=-1)  # (r, l, stat)
        rows.append(pooled.ravel())
    return np.concatenate(rows)
