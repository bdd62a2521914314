"""Rotation-invariant local descriptors of a density at sample points (input of the invariant network)."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.ndimage import map_coordinates
from sklearn.base import BaseEstimator, TransformerMixin

from ..io import load_density
from ._samples import check_samples, map_samples

__all__ = ["LocalDensityFeaturizer"]

# Constants of the reduced gradient s = |grad n| / (2 (3 pi^2)^(1/3) n^(4/3)) and the
# reduced Laplacian q = lap n / (4 (3 pi^2)^(2/3) n^(5/3)) of density-functional theory.
_C_S = 2.0 * (3.0 * np.pi**2) ** (1.0 / 3.0)
_C_Q = 4.0 * (3.0 * np.pi**2) ** (2.0 / 3.0)
_PER_SCALE = ("log10_n", "asinh_s", "asinh_l1", "asinh_l2", "asinh_l3", "asinh_q")


class LocalDensityFeaturizer(TransformerMixin, BaseEstimator):
    """Local, rotation-invariant descriptors of the density at uniform points of the cell.

    For each Gaussian smoothing length ``sigma`` (Angstrom) the density ``n`` is
    smoothed, and at every sample point six numbers are taken that do not change
    when the crystal is rotated, translated or described by another cell:

    - ``log10 n`` (``n`` floored at ``floor`` e/A^3: pseudo densities hold small
      negative values near the nuclei);
    - the reduced gradient ``s = |grad n| / (2 (3 pi^2)^(1/3) n^(4/3))`` of
      density-functional theory (generalised-gradient approximations use it);
    - the three eigenvalues of the Hessian of ``n`` and its Laplacian (their sum),
      reduced like the Laplacian of meta-GGAs, ``/(4 (3 pi^2)^(2/3) n^(5/3))``:
      their signs tell nuclei (three negative), bonds (two negative, the bond
      critical points of Bader's theory), rings and cages apart.

    The reduced quantities go through ``asinh`` to tame their range. Derivatives
    are exact for the periodic density: taken in Fourier space (numpy's FFT of the
    file's own grid) with the reciprocal lattice, in Cartesian coordinates, so the grid's shape and the cell's skew do not
    matter. The points are ``points_per_edge**3`` uniform fractional positions
    of the file's cell, so every point stands for the same volume; the
    *distribution* of the descriptors over the points is what a network with
    global pooling (:class:`skecd.models.InvariantECDRegressor`) sees, and it is
    the same for a primitive cell, a conventional cell or a supercell of the same
    crystal, whatever its orientation and origin (up to the sampling of the points).

    The transformer is stateless: ``fit`` only validates the parameters.

    Parameters
    ----------
    sigmas : tuple of float, default=(0.25, 0.5, 1.0, 2.0)
        Gaussian smoothing lengths in Angstrom (physical scale: the same in every
        crystal).
    points_per_edge : int, default=16
        ``P = points_per_edge**3`` sample points per density.
    floor : float, default=1e-4
        Lower bound (e/A^3) applied to the smoothed density before logs and
        reduced quantities.
    flatten : bool, default=False
        Return (n_samples, F * P) instead of (n_samples, F, P), to join other
        features in a :class:`~sklearn.pipeline.FeatureUnion` (the input of
        :class:`skecd.models.InvariantFusionRegressor`).
    n_jobs : int, default=None
        joblib workers (``None``: 1, ``-1``: all cores).
    verbose : bool, default=False
        Show a tqdm progress bar.

    See Also
    --------
    ChargeDensityVoxelizer : Cubes of the density itself, for the 3D CNNs.
    skecd.models.InvariantECDRegressor : The network that takes these descriptors.

    Examples
    --------
    >>> from skecd.datasets import get_sample_chgcar_paths
    >>> from skecd.preprocessing import LocalDensityFeaturizer
    >>> si = get_sample_chgcar_paths()["Si_fcc"]
    >>> X = LocalDensityFeaturizer(points_per_edge=8).fit_transform([si])
    >>> X.shape, X.dtype  # (samples, 6 descriptors x 4 scales, 8**3 points)
    ((1, 24, 512), dtype('float32'))
    """

    def __init__(self, sigmas=(0.25, 0.5, 1.0, 2.0), points_per_edge=16, floor=1e-4,
                 flatten=False, n_jobs=None, verbose=False):
        self.sigmas = sigmas
        self.flatten = flatten
        self.points_per_edge = points_per_edge
        self.floor = floor
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X=None, y=None):
        """Validate the parameters (nothing is learnt).

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : LocalDensityFeaturizer
        """
        self._check_params()
        return self

    def transform(self, X):
        """Compute the descriptors of every sample.

        Parameters
        ----------
        X : list of str, path-like, ChargeDensity or VolumetricData
            One density per sample.

        Returns
        -------
        ndarray of shape (n_samples, 6 * len(sigmas), points_per_edge**3), float32
            Flattened to (n_samples, 6 * len(sigmas) * points_per_edge**3) with
            ``flatten=True``.
        """
        sigmas = self._check_params()
        samples = check_samples(X)
        p = int(self.points_per_edge)
        out = np.empty((len(samples), len(_PER_SCALE) * len(sigmas), p**3), dtype=np.float32)
        rows = map_samples(
            _featurize_sample, samples, n_jobs=self.n_jobs, verbose=self.verbose,
            desc="Local descriptors", unit="density",
            sigmas=sigmas, points_per_edge=p, floor=float(self.floor),
        )
        for i, row in enumerate(rows):
            out[i] = row
        return out.reshape(len(out), -1) if self.flatten else out

    def get_feature_names_out(self, input_features=None):
        """Names of the descriptor channels (axis 1 of the output).

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str
        """
        sigmas = self._check_params()
        names = [f"{name}@{s:g}A" for s in sigmas for name in _PER_SCALE]
        if self.flatten:
            names = [f"{name}[{i}]" for name in names for i in range(self.points_per_edge**3)]
        return np.array(names, dtype=object)

    def _check_params(self):
        name = type(self).__name__
        try:
            sigmas = tuple(float(s) for s in self.sigmas)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name}: sigmas must be a sequence of lengths in Angstrom, got {self.sigmas!r}"
            ) from None
        if not sigmas or not all(np.isfinite(s) and s > 0 for s in sigmas):
            raise ValueError(f"{name}: sigmas must be positive lengths, got {self.sigmas!r}")
        p = self.points_per_edge
        if not isinstance(p, numbers.Integral) or isinstance(p, bool) or p < 2:
            raise ValueError(f"{name}: points_per_edge must be an int >= 2, got {p!r}")
        f = self.floor
        if not isinstance(f, numbers.Real) or isinstance(f, bool) or not (np.isfinite(f) and f > 0):
            raise ValueError(f"{name}: floor must be a positive density in e/A^3, got {f!r}")
        return sigmas

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []
        return tags


def local_descriptors(total, lattice, sigmas, points_per_edge, floor):
    """Descriptors of one periodic density grid (see :class:`LocalDensityFeaturizer`).

    Parameters
    ----------
    total : ndarray of shape (nx, ny, nz)
        Density in e/A^3, point ``(i, j, k)`` at fractional ``(i/nx, j/ny, k/nz)``.
    lattice : ndarray of shape (3, 3)
        Cell vectors as rows, Angstrom.
    sigmas : sequence of float
    points_per_edge : int
    floor : float

    Returns
    -------
    ndarray of shape (6 * len(sigmas), points_per_edge**3), float32
    """
    n = np.asarray(total.shape)
    spectrum = np.fft.fftn(np.asarray(total, dtype=np.float64))
    # Cartesian wave vectors of the grid's Fourier components: G = 2 pi m B with the
    # integer frequencies m and B the reciprocal basis (rows), so that derivatives
    # are i G (exact for the periodic, band-limited interpolant of the grid).
    freqs = np.meshgrid(*[np.fft.fftfreq(k, 1.0 / k) for k in n], indexing="ij")
    recip = 2.0 * np.pi * np.linalg.inv(np.asarray(lattice, dtype=np.float64)).T
    g = np.stack(freqs, axis=-1) @ recip
    g2 = np.einsum("...a,...a->...", g, g)
    steps = np.arange(points_per_edge, dtype=np.float64) / points_per_edge
    u = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3)
    coords = (u * n).T

    def at_points(fourier):
        # Trilinear periodic interpolation of the (smoothed, hence slowly varying) field.
        field_ = np.fft.ifftn(fourier).real
        return map_coordinates(field_, coords, order=1, mode="grid-wrap")

    rows = []
    for sigma in sigmas:
        smooth = spectrum * np.exp(-0.5 * sigma * sigma * g2)
        dens = at_points(smooth)
        grad = np.stack([at_points(1j * g[..., a] * smooth) for a in range(3)], axis=-1)
        hess = np.empty((len(dens), 3, 3))
        for a in range(3):
            for b in range(a, 3):
                hess[:, a, b] = hess[:, b, a] = at_points(-g[..., a] * g[..., b] * smooth)
        eig = np.linalg.eigvalsh(hess)  # ascending
        dens_f = np.maximum(dens, floor)
        red_s = np.linalg.norm(grad, axis=-1) / (_C_S * dens_f ** (4.0 / 3.0))
        red_q = eig / (_C_Q * dens_f ** (5.0 / 3.0))[:, None]
        rows += [
            np.log10(dens_f),
            np.arcsinh(red_s),
            *np.arcsinh(red_q).T,
            np.arcsinh(red_q.sum(axis=1)),
        ]
    return np.stack(rows).astype(np.float32)


def _featurize_sample(obj, index, *, sigmas, points_per_edge, floor):
    density = load_density(obj, index=index)
    if not np.all(np.isfinite(density.total)):
        raise ValueError(
            f"sample {index}: total density holds non-finite values (NaN or inf)"
            f" (source: {density.source})"
        )
    return local_descriptors(
        density.total, density.structure.lattice.matrix, sigmas, points_per_edge, floor
    )
