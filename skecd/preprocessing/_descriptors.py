"""A few physically meaningful numbers read off a charge density (a cheap baseline)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError

from ..io import load_density
from ._base import BaseSampleFeaturizer

__all__ = ["ChargeDensityDescriptor"]

_BOHR = 0.529177210903  # Angstrom (CODATA 2018)


class ChargeDensityDescriptor(BaseSampleFeaturizer):
    """Describe each charge density by a small table of cell-independent numbers.

    Each sample (a file path, a :class:`~skecd.io.ChargeDensity` or a pymatgen
    ``VolumetricData``) is read with :func:`skecd.io.load_density`. Statistics over
    the grid points are volume-weighted statistics of the density, so they do not
    depend on which cell the file uses. The columns, in output order
    (:meth:`get_feature_names_out`): ``vol_frac_log10rho_<lo>_<hi>`` (``n_bins``
    volume fractions of a histogram of ``log10(rho)``), ``mean_density`` (e/A^3),
    ``wigner_seitz_radius`` (Bohr), ``volume_per_atom`` (A^3),
    ``electrons_per_atom``, ``density_p<q>`` (``percentiles``, e/A^3),
    ``max_density``, ``interstitial_min_density`` (e/A^3),
    ``frac_below_threshold``, ``nearest_neighbour_distance`` (A),
    ``abs_magnetisation_per_atom`` and ``local_magnetisation_per_atom`` (Bohr
    magnetons). What each one measures, and why it bears on the elastic moduli, is
    explained in the user guide, "Density descriptors".

    The transformer is stateless: ``fit`` only validates the parameters.

    Parameters
    ----------
    log10_range : tuple of (float, float), default=(-4.0, 2.0)
        Fixed lower and upper edges of the histogram of ``log10(rho)``, rho in
        e/A^3. Fixed (not learnt) so that every sample uses the same bins.
    n_bins : int, default=12
        Number of equal-width histogram bins over ``log10_range``.
    percentiles : sequence of float, default=(5, 25, 50, 75, 95)
        Percentiles (0 to 100) of the volume-weighted density distribution.
    threshold : float, default=0.01
        Density (e/A^3) below which a point counts as "empty" for
        ``frac_below_threshold``.
    n_jobs : int, default=None
        Number of joblib workers reading and describing the samples; ``None``
        means 1, ``-1`` all cores.
    verbose : bool, default=False
        Show a tqdm progress bar over the samples.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Names of the output columns (also returned by ``get_feature_names_out``).

    See Also
    --------
    ChargeDensityVoxelizer : Resamples the densities for the CNNs.
    skecd.io.load_density : Reads one sample.

    Notes
    -----
    Invariance to the choice of cell holds exactly when the two grids hold the
    same points (for example a primitive grid with ``n`` points per axis and the
    conventional FCC cell with ``n`` odd points per axis); otherwise two grids
    sample the same density at different points, and the statistics agree up
    to that sampling.

    Examples
    --------
    >>> from pathlib import Path
    >>> import skecd
    >>> from skecd.preprocessing import ChargeDensityDescriptor
    >>> data = Path(skecd.__file__).parent / "datasets" / "data" / "ecd_gpaw"
    >>> desc = ChargeDensityDescriptor(n_bins=6)
    >>> X = desc.fit_transform([data / "mp-30.npz", data / "mp-1138.npz"])
    >>> X.shape
    (2, 21)
    >>> str(desc.get_feature_names_out()[8])
    'volume_per_atom'
    """

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "log10_range": ["array-like"],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "percentiles": ["array-like"],
        "threshold": [Interval(Real, 0, None, closed="neither")],
    }
    _parameter_messages = {
        "log10_range": "must be two numbers (low, high)",
        "n_bins": "must be an int >= 1",
        "percentiles": "must be a sequence of numbers from 0 to 100",
        "threshold": "must be a positive density in e/A^3",
    }
    _progress = ("Describing", "density")

    def __init__(
        self,
        log10_range=(-4.0, 2.0),
        n_bins=12,
        percentiles=(5, 25, 50, 75, 95),
        threshold=0.01,
        n_jobs=None,
        verbose=False,
    ):
        self.log10_range = log10_range
        self.n_bins = n_bins
        self.percentiles = percentiles
        self.threshold = threshold
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit(self, samples):
        self.feature_names_out_ = self._feature_names()

    def featurize_sample(self, sample, index):
        """Describe one sample.

        Parameters
        ----------
        sample : str, path-like, ChargeDensity or VolumetricData
            The density.
        index : int
            Its position in ``X``, for error messages.

        Returns
        -------
        ndarray of shape (n_features_out,), float64
            The descriptors, in the order of :meth:`get_feature_names_out`.
        """
        return _describe_sample(
            sample,
            index,
            edges=np.linspace(*map(float, self.log10_range), int(self.n_bins) + 1),
            percentiles=np.asarray(self.percentiles, dtype=np.float64),
            threshold=float(self.threshold),
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : ignored
            Present for API compatibility; the inputs are densities, not columns.

        Returns
        -------
        ndarray of str
        """
        return self._feature_names()

    def _feature_names(self):
        """Validate the parameters and return the output column names."""
        self._validate_params()
        edges = np.linspace(*map(float, self.log10_range), int(self.n_bins) + 1)
        hist = [f"vol_frac_log10rho_{lo:+.2f}_{hi:+.2f}" for lo, hi in zip(edges[:-1], edges[1:])]
        pct = [f"density_p{q:g}" for q in np.asarray(self.percentiles, dtype=np.float64)]
        return np.asarray(
            hist
            + ["mean_density", "wigner_seitz_radius", "volume_per_atom", "electrons_per_atom"]
            + pct
            + [
                "max_density",
                "interstitial_min_density",
                "frac_below_threshold",
                "nearest_neighbour_distance",
                "abs_magnetisation_per_atom",
                "local_magnetisation_per_atom",
            ],
            dtype=object,
        )

    def _check_params(self):
        name = type(self).__name__
        rng = self.log10_range
        try:
            lo, hi = (float(v) for v in rng)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"{name}: log10_range must be two numbers (low, high), got {rng!r}"
            ) from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise InvalidParameterError(
                f"{name}: log10_range must be finite with low < high, got {rng!r}"
            )
        try:
            q = np.asarray(self.percentiles, dtype=np.float64)
        except (TypeError, ValueError):
            q = None
        if q is None or q.ndim != 1 or not np.all((q >= 0) & (q <= 100)):
            raise InvalidParameterError(
                f"{name}: percentiles must be a sequence of numbers from 0 to 100, "
                f"got {self.percentiles!r}"
            )


def _describe_sample(obj, index, *, edges, percentiles, threshold):
    """Read sample ``index`` and return its row of descriptors."""
    density = load_density(obj, index=index)
    try:
        return _descriptors(density, edges, percentiles, threshold)
    except ValueError as exc:
        raise ValueError(f"sample {index} (source: {density.source}): {exc}") from exc


def _descriptors(density, edges, percentiles, threshold):
    """The descriptor row of one :class:`~skecd.io.ChargeDensity` (see the class docstring)."""
    rho = np.asarray(density.total, dtype=np.float64).ravel()
    structure = density.structure
    n_atoms = len(structure)
    volume = structure.volume
    mean = float(rho.mean())
    if not mean > 0:
        raise ValueError(f"mean density is {mean:g} e/A^3; a valence density must be positive")

    hist = _log10_histogram(rho, edges)
    r_s = (3.0 / (4.0 * np.pi * mean)) ** (1.0 / 3.0) / _BOHR
    pct = np.percentile(rho, percentiles) if len(percentiles) else np.empty(0)
    d_nn = _nearest_neighbour_distance(structure)
    interstitial = _interstitial_min_density(density, d_nn)
    if density.spin is not None:
        spin = np.asarray(density.spin, dtype=np.float64)
        mag_abs = abs(spin.mean()) * volume / n_atoms
        mag_local = np.abs(spin).mean() * volume / n_atoms
    else:
        mag_abs = mag_local = 0.0
    scalars = [mean, r_s, volume / n_atoms, mean * volume / n_atoms]
    tail = [rho.max(), interstitial, np.mean(rho < threshold), d_nn, mag_abs, mag_local]
    return np.concatenate([hist, scalars, pct, tail]).astype(np.float64)


def _log10_histogram(rho, edges):
    """Volume fractions of ``log10(rho)`` in the bins ``edges``; out-of-range to the end bins."""
    # log10 of the non-positive values of pseudo densities is undefined: they lie below
    # any bin, so clip them (with all other low values) to the lowest edge.
    floor = 10.0 ** edges[0]
    log_rho = np.log10(np.maximum(rho, floor))
    log_rho = np.clip(log_rho, edges[0], edges[-1])
    counts, _ = np.histogram(log_rho, bins=edges)
    return counts / rho.size


def _nearest_neighbour_distance(structure):
    """Shortest distance between two atoms (periodic images included), in Angstrom."""
    # Start from a radius that holds neighbours in any reasonable solid, grow if needed.
    radius = 2.0 * (structure.volume / len(structure)) ** (1.0 / 3.0)
    for _ in range(10):
        _, _, _, dist = structure.get_neighbor_list(radius)
        dist = dist[dist > 1e-8]
        if dist.size:
            return float(dist.min())
        radius *= 2.0
    raise ValueError("no neighbouring atom found; is the structure sensible?")


def _interstitial_min_density(density, d_nn):
    """Smallest density at grid points at least ``d_nn / 2`` away from every atom."""
    shape = np.array(density.grid_shape)
    idx = np.indices(density.grid_shape).reshape(3, -1).T
    frac = idx / shape
    lattice = density.structure.lattice
    # pymatgen's periodic distances (minimum image over neighbouring cells).
    dist = lattice.get_all_distances(frac, density.structure.frac_coords).min(axis=1)
    mask = dist >= 0.5 * d_nn - 1e-6
    if not mask.any():  # grid too coarse to hold such a point
        raise ValueError(
            f"no grid point of the {tuple(shape)} grid lies {0.5 * d_nn:.3f} A from every atom"
        )
    return float(np.asarray(density.total, dtype=np.float64).ravel()[mask].min())
