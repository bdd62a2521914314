"""Rotation-invariant local descriptors of a density (the input of the invariant network)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ..io import load_density
from ._base import BaseSampleFeaturizer

__all__ = ["LocalDensityFeaturizer"]

# Constants of the reduced gradient s = |grad n| / (2 (3 pi^2)^(1/3) n^(4/3)) and the
# reduced Laplacian q = lap n / (4 (3 pi^2)^(2/3) n^(5/3)) of density-functional theory.
_C_S = 2.0 * (3.0 * np.pi**2) ** (1.0 / 3.0)
_C_Q = 4.0 * (3.0 * np.pi**2) ** (2.0 / 3.0)
_PER_SCALE = ("log10_n", "asinh_s", "asinh_l1", "asinh_l2", "asinh_l3", "asinh_q")


class LocalDensityFeaturizer(BaseSampleFeaturizer):
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
    file's own grid) with the reciprocal lattice, in Cartesian coordinates, so the
    cell's shape and skew do not matter.

    What a network with global pooling (:class:`skecd.models.InvariantECDRegressor`)
    sees is the *distribution* of the descriptors over the cell. They are evaluated
    on the file's grid refined by whole factors (see ``spacing``), where every point
    stands for the same volume; the points are sorted by their descriptors and
    ``n_points`` of them are taken at evenly spaced ranks. The result depends only
    on the multiset of values, so it is the same when the file is rotated, when its
    origin moves by grid steps and for a supercell (each value repeated), and nearly
    the same for a conventional cell on another grid (other points of the same
    function).

    The transformer is stateless: ``fit`` only validates the parameters.

    Parameters
    ----------
    sigmas : tuple of float, default=(0.25, 0.5, 1.0, 2.0)
        Gaussian smoothing lengths in Angstrom (physical scale: the same in every
        crystal).
    n_points : int, default=4096
        Points P per density, taken from the density's own grid at evenly spaced
        quantiles of the descriptors (see Notes).
    spacing : float, default=0.15
        Largest grid spacing in Angstrom at which the descriptors are evaluated:
        the file's grid is refined by a whole factor per axis (exact Fourier
        interpolation of the band-limited density) until its spacing is at most
        this, so files on coarse grids are sampled as finely as fine ones.
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
    >>> X = LocalDensityFeaturizer(n_points=512).fit_transform([si])
    >>> X.shape, X.dtype  # (samples, 6 descriptors x 4 scales, points)
    ((1, 24, 512), dtype('float32'))
    """

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "sigmas": ["array-like"],
        "n_points": [Interval(Integral, 1, None, closed="left")],
        "spacing": [Interval(Real, 0, None, closed="neither")],
        "floor": [Interval(Real, 0, None, closed="neither")],
        "flatten": ["boolean"],
    }
    _parameter_messages = {
        "sigmas": "must be a sequence of positive lengths in Angstrom",
        "n_points": "must be an int >= 1",
        "spacing": "must be a positive length in Angstrom",
        "floor": "must be a positive density in e/A^3",
    }
    _progress = ("Local descriptors", "density")

    def __init__(
        self,
        sigmas=(0.25, 0.5, 1.0, 2.0),
        n_points=4096,
        spacing=0.15,
        floor=1e-4,
        flatten=False,
        n_jobs=None,
        verbose=False,
    ):
        self.sigmas = sigmas
        self.n_points = n_points
        self.spacing = spacing
        self.floor = floor
        self.flatten = flatten
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        try:
            sigmas = [float(s) for s in self.sigmas]
        except (TypeError, ValueError):
            sigmas = []
        if not sigmas or not all(np.isfinite(s) and s > 0 for s in sigmas):
            self._raise_invalid(type(self).__name__, "sigmas", self.sigmas)

    def featurize_sample(self, sample, index):
        """Descriptors of one density, shape (6 * len(sigmas), n_points).

        Parameters
        ----------
        sample : str, path-like, ChargeDensity or VolumetricData
        index : int
            Its position in ``X`` (named in errors).

        Returns
        -------
        ndarray, float32
        """
        density = load_density(sample, index=index)
        if not np.all(np.isfinite(density.total)):
            raise ValueError(
                f"sample {index}: total density holds non-finite values (NaN or inf)"
                f" (source: {density.source})"
            )
        out = local_descriptors(
            density.total,
            density.structure.lattice.matrix,
            [float(s) for s in self.sigmas],
            int(self.n_points),
            float(self.floor),
            float(self.spacing),
        )
        return out.ravel() if self.flatten else out

    def get_feature_names_out(self, input_features=None):
        """Names of the descriptor channels (axis 1 of the output).

        With ``flatten=True``, one name per column (``name[point]``).

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str
        """
        self._validate_params()
        names = [f"{name}@{float(s):g}A" for s in self.sigmas for name in _PER_SCALE]
        if self.flatten:
            names = [f"{name}[{i}]" for name in names for i in range(self.n_points)]
        return np.array(names, dtype=object)


def _resample_spectrum(spectrum, shape):
    """Fourier coefficients of the same band-limited function on a grid of ``shape`` points.

    Each integer frequency ``f`` of the input goes to index ``f mod m`` of the output
    (zero-padding for a finer grid); on a coarser grid the frequencies it cannot hold
    are dropped; the Nyquist term of an even input axis is split between ``+k/2`` and
    ``-k/2`` so the function stays real. Scaled so that ``ifftn`` gives the same
    values. Hand-written: ``scipy.signal.resample`` does this for one axis of real
    samples, not for the three axes of a spectrum that is differentiated afterwards.
    """
    out = spectrum
    for axis, (k, m) in enumerate(zip(spectrum.shape, shape)):
        freqs = np.rint(np.fft.fftfreq(k, 1.0 / k)).astype(int)  # 0, 1, ..., -1
        moved = np.moveaxis(out, axis, 0)
        new = np.zeros((m,) + moved.shape[1:], dtype=complex)
        for index, f in enumerate(freqs):
            if k % 2 == 0 and f == -k // 2:  # the Nyquist term of an even axis
                if m > k:
                    new[(k // 2) % m] += 0.5 * moved[index]
                    new[(-k // 2) % m] += 0.5 * moved[index]
                elif m == k:
                    new[index] += moved[index]
                continue
            if 2 * abs(f) < m or (m == k):
                new[f % m] += moved[index]
        out = np.moveaxis(new, 0, axis)
    return out * (np.prod(shape) / np.prod(spectrum.shape))


def local_descriptors(total, lattice, sigmas, n_points, floor, spacing=0.15):
    """Descriptors of one periodic density grid (see :class:`LocalDensityFeaturizer`).

    Parameters
    ----------
    total : ndarray of shape (nx, ny, nz)
        Density in e/A^3, point ``(i, j, k)`` at fractional ``(i/nx, j/ny, k/nz)``.
    lattice : ndarray of shape (3, 3)
        Cell vectors as rows, Angstrom.
    sigmas : sequence of float
    n_points : int
    floor : float
    spacing : float, default=0.15
        Largest grid spacing (Angstrom) at which the descriptors are evaluated.

    Returns
    -------
    ndarray of shape (6 * len(sigmas), n_points), float32
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    # Refine the file's grid by a whole factor per axis until the spacing is at most
    # ``spacing``: files on coarse grids are sampled as finely as fine ones, and a
    # supercell or a shifted origin still gives the same multiset of points.
    steps = np.linalg.norm(lattice, axis=1) / np.asarray(total.shape)
    n = np.asarray(total.shape) * np.maximum(np.ceil(steps / spacing - 1e-9), 1).astype(int)
    spectrum = _resample_spectrum(np.fft.fftn(np.asarray(total, dtype=np.float64)), n)
    # Cartesian wave vectors of the grid's Fourier components: G = 2 pi m B with the
    # integer frequencies m and B the reciprocal basis (rows), so that derivatives
    # are i G (exact for the periodic, band-limited interpolant of the grid).
    freqs = np.meshgrid(*[np.fft.fftfreq(k, 1.0 / k) for k in n], indexing="ij")
    recip = 2.0 * np.pi * np.linalg.inv(lattice).T
    g = np.stack(freqs, axis=-1) @ recip
    g2 = np.einsum("...a,...a->...", g, g)

    def field(fourier):
        return np.fft.ifftn(fourier).real.ravel()

    rows = []
    for sigma in sigmas:
        smooth = spectrum * np.exp(-0.5 * sigma * sigma * g2)
        dens = field(smooth)
        grad = np.stack([field(1j * g[..., a] * smooth) for a in range(3)], axis=-1)
        hess = np.empty((len(dens), 3, 3))
        for a in range(3):
            for b in range(a, 3):
                hess[:, a, b] = hess[:, b, a] = field(-g[..., a] * g[..., b] * smooth)
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
    values = np.stack(rows)  # (F, number of grid points)
    return values[:, _quantile_points(values, n_points)].astype(np.float32)


def _quantile_points(values, n_points):
    """Indices of ``n_points`` grid points spread evenly over the sorted descriptors.

    Every grid point stands for the same volume, so the descriptors' distribution over
    the cell is that of the grid points. Sorting them (by all descriptors, the
    smoothest density first) and taking evenly spaced ranks keeps that distribution
    at a fixed size, and depends only on the multiset of points: a shifted origin
    (a permutation of the grid) or a supercell (each point repeated) selects the same
    values. Hand-written: no library function subsamples a multiset by its quantiles.
    """
    order = np.lexsort(values[::-1])  # last key is primary: values[0] sorts first
    n_grid = values.shape[1]
    ranks = np.floor((np.arange(n_points) + 0.5) * n_grid / n_points).astype(int)
    return order[np.minimum(ranks, n_grid - 1)]
