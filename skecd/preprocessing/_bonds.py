"""Bonding topology of a density: its bond points between neighbours and its reduced
gradient and Laplacian between the atoms."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ..io import load_density
from ._angular import _SOFTNESS as _SOFT
from ._angular import core_switch, periodic_interpolator
from ._base import BaseSampleFeaturizer
from ._local import _C_Q, _C_S
from ._radial import _points_within, refined_spectrum

__all__ = ["BondCriticalPointFeaturizer"]

_BOND = ("log10_n", "asinh_q", "asinh_ellipticity", "asinh_l1_over_l3", "offset")
_POOL = ("mean", "min", "max")
_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
_FIELDS = ("asinh_s", "asinh_q")
_STEPS = 41  # points along each bond at which the density is read


class BondCriticalPointFeaturizer(BaseSampleFeaturizer):
    """The density at the bond points between neighbouring atoms, and between the atoms.

    Two groups of rotation-invariant numbers that tell metallic, covalent and ionic
    bonding apart (the quantum theory of atoms in molecules, and the reduced
    gradient and Laplacian of density-functional theory):

    **Bond points.** For every atom, the neighbours within ``neighbor_factor``
    times its nearest-neighbour distance (found with pymatgen's
    :meth:`~pymatgen.core.Structure.get_neighbor_list`) are bonded to it. On the
    straight segment between the two nuclei, outside both core spheres (at least
    its middle 40%), the density's minimum is found (41 points, refined by a
    parabola): the bond critical point of Bader's
    theory where the bond path is straight (along symmetry axes, as in most of
    these crystals), near it otherwise. There the Hessian of the density gives
    its eigenvalues ``l1 <= l2 <= l3``, and five numbers per bond are kept:
    ``log10 n`` (floored at ``floor``), the reduced Laplacian
    ``asinh((l1 + l2 + l3) / (4 (3 pi^2)^(2/3) n^(5/3)))`` (negative where charge
    concentrates, in covalent bonds), the ellipticity ``l1 / l2 - 1`` (how far the
    bond's density departs from a cylinder: pi character) and ``|l1| / l3`` (above 1
    for shared, below for closed-shell interactions), both through ``asinh`` (they
    are unbounded where ``l2`` or ``l3`` nears 0), and the offset of the point
    from the bond's middle (a fraction of its length: charge transfer). Each is
    pooled over the bonds by its mean, minimum and maximum; ``bonds_per_atom``
    is the mean coordination.

    **Between the atoms.** At the grid points farther than ``core_radius`` from
    every nucleus (a smooth switch, as :class:`AngularDensityFeaturizer`), the
    reduced gradient ``s = |grad n| / (2 (3 pi^2)^(1/3) n^(4/3))`` and the reduced
    Laplacian ``q`` (both through ``asinh``) are summarised by their quantiles
    over the volume and over the electrons.

    Derivatives are exact for the periodic, band-limited density (Fourier space,
    as :class:`LocalDensityFeaturizer`), evaluated on the grid refined to at most
    ``spacing`` and read between grid points with cubic B-splines. Hand-written:
    critic2 and the Bader codes are stand-alone programs, and pybader computes
    Bader volumes, not bond points. The transformer is stateless.

    Parameters
    ----------
    neighbor_factor : float, default=1.2
        Bonded neighbours lie within this factor of each atom's nearest-neighbour
        distance.
    spacing : float, default=0.15
        Largest grid spacing (Angstrom) at which the density is differentiated.
    core_radius : float, default=1.0
        Radius (Angstrom) of the sphere around every nucleus left out of the
        search for bond points (at most 30% of a bond from each end) and of the
        quantiles between the atoms.
    floor : float, default=1e-4
        Smallest density (e/A^3) in logs and reduced quantities.
    n_jobs : int, default=None
        Number of joblib workers; ``None`` means 1, ``-1`` all cores.
    verbose : bool, default=False
        Show a tqdm progress bar over the samples.

    See Also
    --------
    AngularDensityFeaturizer : The angular shape of the density around each atom.
    LocalDensityFeaturizer : The distribution of local descriptors over the cell.

    Examples
    --------
    >>> from pathlib import Path
    >>> import skecd
    >>> from skecd.preprocessing import BondCriticalPointFeaturizer
    >>> data = Path(skecd.__file__).parent / "datasets" / "data" / "ecd_gpaw"
    >>> f = BondCriticalPointFeaturizer()
    >>> f.fit_transform([data / "mp-30.npz"]).shape
    (1, 36)
    >>> str(f.get_feature_names_out()[0])
    'bond_log10_n_mean'
    """

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "neighbor_factor": [Interval(Real, 1, 2, closed="both")],
        "spacing": [Interval(Real, 0, None, closed="neither")],
        "core_radius": [Interval(Real, 0, None, closed="left")],
        "floor": [Interval(Real, 0, None, closed="neither")],
    }
    _parameter_messages = {
        "neighbor_factor": "must be a number in [1, 2]",
        "spacing": "must be a positive length in Angstrom",
        "core_radius": "must be a non-negative length in Angstrom",
        "floor": "must be a positive density in e/A^3",
    }
    _progress = ("Bond points", "density")

    def __init__(
        self,
        neighbor_factor=1.2,
        spacing=0.15,
        core_radius=1.0,
        floor=1e-4,
        n_jobs=None,
        verbose=False,
    ):
        self.neighbor_factor = neighbor_factor
        self.spacing = spacing
        self.core_radius = core_radius
        self.floor = floor
        self.n_jobs = n_jobs
        self.verbose = verbose

    def featurize_sample(self, sample, index):
        """Bond-point and between-atom features of one density.

        Parameters
        ----------
        sample : str, path-like, ChargeDensity or VolumetricData
        index : int
            Its position in ``X`` (named in errors).

        Returns
        -------
        ndarray of float64
            In the order of :meth:`get_feature_names_out`.
        """
        density = load_density(sample, index=index)
        return bond_topology(
            density.total,
            density.structure,
            float(self.neighbor_factor),
            float(self.spacing),
            float(self.core_radius),
            float(self.floor),
        )

    def get_feature_names_out(self, input_features=None):
        """Names: ``bond_<quantity>_<stat>``, ``bonds_per_atom``, then
        ``<field>_<volume|electron>_q<percent>``.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str
        """
        self._validate_params()
        names = [f"bond_{q}_{s}" for q in _BOND for s in _POOL] + ["bonds_per_atom"]
        names += [
            f"{f}_{w}_q{round(100 * q)}"
            for f in _FIELDS
            for w in ("volume", "electron")
            for q in _QUANTILES
        ]
        return np.array(names, dtype=object)


def bond_topology(total, structure, neighbor_factor, spacing, core_radius, floor):
    """The row of :class:`BondCriticalPointFeaturizer` for a density and its structure."""
    lattice = np.asarray(structure.lattice.matrix, dtype=np.float64)
    spectrum = refined_spectrum(total, lattice, spacing)
    n = np.asarray(spectrum.shape)
    freqs = np.meshgrid(*[np.fft.fftfreq(k, 1.0 / k) for k in n], indexing="ij")
    g = np.stack(freqs, axis=-1) @ (2.0 * np.pi * np.linalg.inv(lattice).T)

    def field(fourier):
        return np.fft.ifftn(fourier).real

    dens = field(spectrum)
    pairs = [(a, b) for a in range(3) for b in range(a, 3)]
    hess = [field(-g[..., a] * g[..., b] * spectrum) for a, b in pairs]
    grad = np.sqrt(sum(field(1j * g[..., a] * spectrum) ** 2 for a in range(3)))
    bonds = _bond_rows(dens, hess, pairs, structure, neighbor_factor, core_radius, floor)
    laplacian = hess[0] + hess[3] + hess[5]
    between = _between_atoms(dens, grad, laplacian, structure, n, core_radius, floor)
    return np.concatenate([bonds, between])


def _bond_rows(dens, hess, pairs, structure, neighbor_factor, core_radius, floor):
    lattice = structure.lattice
    centres, neighbours, images, distances = structure.get_neighbor_list(
        r=min(8.0, 2.0 * min(lattice.abc))
    )
    if len(distances) == 0:
        raise ValueError("no neighbour within 8 A of any atom")
    nearest = np.full(len(structure), np.inf)
    np.minimum.at(nearest, centres, distances)
    bonded = distances <= neighbor_factor * nearest[centres] + 1e-6
    centres, neighbours, images = centres[bonded], neighbours[bonded], images[bonded]
    start = structure.frac_coords[centres]
    end = structure.frac_coords[neighbours] + images
    # the segment outside both cores (pseudo densities dip inside them, even below 0),
    # and at least the middle 40% of a short bond
    length = distances[bonded]
    lo = np.minimum(core_radius, 0.3 * length) / length
    t = lo[:, None] + (1.0 - 2.0 * lo[:, None]) * np.linspace(0.0, 1.0, _STEPS)[None, :]
    points = start[:, None, :] + t[:, :, None] * (end - start)[:, None, :]
    density_at = periodic_interpolator(dens)
    along = density_at(points.reshape(-1, 3)).reshape(len(start), _STEPS)
    # the minimum on the segment, refined by a parabola through it and its two neighbours
    k = np.clip(np.argmin(along, axis=1), 1, _STEPS - 2)
    rows = np.arange(len(k))
    y0, y1, y2 = along[rows, k - 1], along[rows, k], along[rows, k + 1]
    curvature = y0 - 2.0 * y1 + y2
    shift = np.divide(0.5 * (y0 - y2), curvature, out=np.zeros_like(y1), where=curvature > 0)
    t_min = t[rows, k] + np.clip(shift, -1.0, 1.0) * (t[rows, 1] - t[rows, 0])
    at = start + t_min[:, None] * (end - start)
    n_b = np.maximum(density_at(at), floor)
    h = np.empty((len(at), 3, 3))
    for (a, b), values in zip(pairs, hess):
        h[:, a, b] = h[:, b, a] = periodic_interpolator(values)(at)
    eig = np.linalg.eigvalsh(h)  # ascending: l1 <= l2 <= l3
    l1, l2, l3 = eig.T
    per_bond = np.stack(
        [
            np.log10(n_b),
            np.arcsinh(eig.sum(axis=1) / (_C_Q * n_b ** (5.0 / 3.0))),
            # l1 / l2 - 1 at a bond point (l2 < 0); 0 where the density is not pinched.
            # Both ratios through asinh: l2 or l3 near 0 makes them unbounded.
            np.arcsinh(np.where(l2 < 0, l1 / np.where(l2 < 0, l2, -1.0) - 1.0, 0.0)),
            np.arcsinh(np.abs(l1) / np.maximum(np.abs(l3), 1e-12)),
            np.abs(t_min - 0.5),
        ],
        axis=1,
    )
    pooled = np.stack([per_bond.mean(axis=0), per_bond.min(axis=0), per_bond.max(axis=0)], axis=1)
    return np.concatenate([pooled.ravel(), [len(centres) / len(structure)]])


def _between_atoms(dens, grad, laplacian, structure, n, core_radius, floor):
    dens_f = np.maximum(dens.ravel(), floor)
    s = np.arcsinh(grad.ravel() / (_C_S * dens_f ** (4.0 / 3.0)))
    q = np.arcsinh(laplacian.ravel() / (_C_Q * dens_f ** (5.0 / 3.0)))
    weight = np.ones(dens.size)
    if core_radius > 0:
        weight = core_switch(_distance_map(structure, n, core_radius + 3 * _SOFT), core_radius)
    out = []
    for values in (s, q):
        for w in (weight, weight * dens_f):
            out.append(_weighted_quantiles(values, w, _QUANTILES))
    return np.concatenate(out)


def _distance_map(structure, n, reach):
    """Distance from each grid point to the nearest nucleus, up to ``reach`` (inf beyond)."""
    lattice = np.asarray(structure.lattice.matrix, dtype=np.float64)
    planes = 1.0 / np.linalg.norm(np.linalg.inv(lattice), axis=0)
    distance = np.full(tuple(n), np.inf)
    for frac in structure.frac_coords:
        index, d = _points_within(frac, reach, np.asarray(n), lattice, planes)
        np.minimum.at(distance, tuple(index.T), d)
    return distance.ravel()


def _weighted_quantiles(values, weight, quantiles):
    """Quantiles of ``values`` under ``weight`` (the inverse of the weighted CDF).
    Hand-written: numpy's ``quantile(weights=...)`` needs numpy >= 2.0 and the
    inverted-CDF method only."""
    order = np.argsort(values)
    cdf = np.cumsum(weight[order])
    cdf /= cdf[-1]
    return np.interp(quantiles, cdf, values[order])
