"""Crystal graphs (the input of CGCNN) from structures, densities or files."""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError

from ..io import read_structure
from ._base import BaseSampleFeaturizer

__all__ = ["CrystalGraph", "CrystalGraphFeaturizer", "atom_feature_names"]


# --------------------------------------------------------------------------------------
# Atom features: a one-hot table of elemental properties, built from pymatgen's data.
# --------------------------------------------------------------------------------------
# The original CGCNN reads a 92-long one-hot vector per element from ``atom_init.json``
# (Xie & Grossman 2018, Table S2 of the supplement). That file is not shipped with any
# package we depend on, so we rebuild an equivalent encoding from pymatgen's element
# data: the same nine properties, binned the same way (categorical properties one-hot,
# continuous ones into 10 equal bins over a fixed range, values outside the range in
# the end bins, a missing value (e.g. no Pauling electronegativity for He, Ne, Ar)
# leaving its block all zeros). Ranges cover the elements of the periodic table up to
# Z = 96; the logarithmic ones use the natural log, as in the CGCNN supplement.
_N_BINS = 10
_CONTINUOUS = {
    # name: (low, high, log?)
    "electronegativity": (0.5, 4.0, False),  # Pauling
    "covalent_radius": (0.25, 2.5, False),  # Angstrom (Cordero et al. 2008)
    "first_ionization_energy": (1.3, 3.3, True),  # ln(eV)
    "electron_affinity": (-3.0, 3.7, False),  # eV
    "atomic_volume": (1.5, 4.3, True),  # ln(cm^3/mol), molar volume of the element
}
_BLOCKS = ("s", "p", "d", "f")
_N_GROUPS = 18
_N_PERIODS = 7
_N_VALENCE = 12


def atom_feature_names():
    """Names of the atom features of :class:`CrystalGraphFeaturizer`, in order.

    Returns
    -------
    list of str
        91 names such as ``"group_1"``, ``"period_3"``, ``"electronegativity_bin_4"``,
        ``"valence_electrons_8"``, ``"block_d"``.

    Examples
    --------
    >>> from skecd.preprocessing import atom_feature_names
    >>> names = atom_feature_names()
    >>> len(names), names[0], names[-1]
    (91, 'group_1', 'atomic_volume_bin_9')
    """
    names = [f"group_{g}" for g in range(1, _N_GROUPS + 1)]
    names += [f"period_{p}" for p in range(1, _N_PERIODS + 1)]
    for prop in ("electronegativity", "covalent_radius"):
        names += [f"{prop}_bin_{b}" for b in range(_N_BINS)]
    names += [f"valence_electrons_{v}" for v in range(1, _N_VALENCE + 1)]
    for prop in ("first_ionization_energy", "electron_affinity"):
        names += [f"{prop}_bin_{b}" for b in range(_N_BINS)]
    names += [f"block_{b}" for b in _BLOCKS]
    names += [f"atomic_volume_bin_{b}" for b in range(_N_BINS)]
    return names


def _one_hot(index, size):
    out = np.zeros(size, dtype=np.float32)
    if index is not None and 0 <= index < size:
        out[index] = 1.0
    return out


def _bin(value, prop):
    """Index of the bin of ``value`` for continuous property ``prop`` (None if missing)."""
    low, high, log = _CONTINUOUS[prop]
    if value is None or not np.isfinite(value):
        return None
    if log:
        if value <= 0:
            return None
        value = math.log(value)
    index = int((value - low) / (high - low) * _N_BINS)
    return min(max(index, 0), _N_BINS - 1)


def _valence_electrons(group, block):
    """Valence electrons counted from the group (s, d: group; p: group - 10; f: 3)."""
    if block == "f":
        return 3
    if block == "p" and group > 12:
        return group - 10
    return group


@functools.cache
def _element_features(symbol):
    """The one-hot feature vector of one element (see ``atom_feature_names``)."""
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius
    from pymatgen.core import Element

    el = Element(symbol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns for every missing datum
        group, period, block = el.group, el.row, el.block
        electronegativity = float(el.X)  # NaN where undefined
        ionization = el.ionization_energies[0] if el.ionization_energies else None
        affinity = el.electron_affinity
        volume = el.molar_volume
    if symbol == "He":
        valence = 2
    else:
        valence = _valence_electrons(group, block)
    parts = [
        _one_hot(group - 1, _N_GROUPS),
        _one_hot(min(period, _N_PERIODS) - 1, _N_PERIODS),
        _one_hot(_bin(electronegativity, "electronegativity"), _N_BINS),
        _one_hot(_bin(CovalentRadius.radius.get(symbol), "covalent_radius"), _N_BINS),
        _one_hot(min(valence, _N_VALENCE) - 1, _N_VALENCE),
        _one_hot(_bin(ionization, "first_ionization_energy"), _N_BINS),
        _one_hot(_bin(None if affinity is None else float(affinity), "electron_affinity"), _N_BINS),
        _one_hot(_BLOCKS.index(block) if block in _BLOCKS else None, len(_BLOCKS)),
        _one_hot(_bin(None if volume is None else float(volume), "atomic_volume"), _N_BINS),
    ]
    return np.concatenate(parts)


# --------------------------------------------------------------------------------------
# The graph record
# --------------------------------------------------------------------------------------
@dataclass(eq=False)
class CrystalGraph:
    """The crystal graph of one structure, as :class:`CrystalGraphFeaturizer` makes it.

    Edges are directed, one per (atom, neighbour) pair kept; a periodic image of an
    atom, and the atom itself seen through a lattice translation, are neighbours
    like any other atom.

    Parameters
    ----------
    atom_features : ndarray of shape (n_atoms, n_atom_features), float32
        One-hot elemental features of each site (see :func:`atom_feature_names`).
    edge_index : ndarray of shape (2, n_edges), int64
        Row 0: the centre atom of each edge; row 1: the neighbour's atom index in the
        cell. Edges are sorted by centre, then by distance.
    edge_features : ndarray of shape (n_edges, n_gaussians), float32
        Gaussian expansion of the edge lengths.
    distances : ndarray of shape (n_edges,), float64
        Edge lengths in Angstrom.
    formula : str
        Reduced formula of the structure, for messages.
    """

    atom_features: np.ndarray
    edge_index: np.ndarray
    edge_features: np.ndarray
    distances: np.ndarray
    formula: str = ""

    @property
    def n_atoms(self):
        """Number of atoms (nodes)."""
        return self.atom_features.shape[0]

    @property
    def n_edges(self):
        """Number of directed edges."""
        return self.edge_index.shape[1]

    def __repr__(self):
        return (
            f"CrystalGraph(formula={self.formula!r}, n_atoms={self.n_atoms}, "
            f"n_edges={self.n_edges}, n_atom_features={self.atom_features.shape[1]}, "
            f"n_edge_features={self.edge_features.shape[1]})"
        )


# --------------------------------------------------------------------------------------
# The transformer
# --------------------------------------------------------------------------------------
class CrystalGraphFeaturizer(BaseSampleFeaturizer):
    """Turn crystal structures into the crystal graphs of CGCNN (Xie & Grossman 2018).

    Each sample (a pymatgen ``Structure`` or its ``as_dict()``, a
    :class:`~skecd.io.ChargeDensity`, whose ``structure`` is used, or a path to a
    VASP volumetric file or an skecd ``.npz`` density, of which only the structure is
    read) becomes one :class:`CrystalGraph`:

    - nodes: the atoms of the cell, each with 91 one-hot elemental features
      (group, period, electronegativity, covalent radius, valence electrons, first
      ionisation energy, electron affinity, block, atomic volume; see Notes);
    - edges: for each atom, its ``max_neighbors`` nearest neighbours within
      ``cutoff`` Angstrom, periodic images included (pymatgen's vectorised
      ``Structure.get_neighbor_list``);
    - edge features: the distance expanded on Gaussians centred every
      ``gaussian_step`` Angstrom from 0 to ``cutoff``, each of width
      ``gaussian_step``: ``exp(-(d - mu_k)**2 / gaussian_step**2)``.

    The transformer is stateless: ``fit`` only validates the parameters. Its output
    is a 1D object array of graphs, the input of
    :class:`~skecd.models.CGCNNRegressor`; there is no ``get_feature_names_out``
    since the output is not a table of named columns (the atom feature names are
    given by :func:`atom_feature_names`).

    Parameters
    ----------
    cutoff : float, default=8.0
        Neighbour search radius in Angstrom (8 in the CGCNN paper).
    max_neighbors : int, default=12
        Largest number of neighbours kept per atom, the nearest ones (12 in the
        paper). Atoms with fewer neighbours within ``cutoff`` keep the ones they
        have; ties at the last kept distance are broken by neighbour index and
        image, so the kept distances never depend on the order.
    gaussian_step : float, default=0.2
        Spacing and width of the Gaussians of the edge features in Angstrom
        (0.2 in the paper); there are ``floor(cutoff / gaussian_step) + 1``.
    n_jobs : int, default=None
        Number of joblib workers; ``None`` means 1, ``-1`` all cores.
    verbose : bool, default=False
        Show a tqdm progress bar over the samples.

    See Also
    --------
    skecd.models.CGCNNRegressor : The graph network that takes these graphs.

    Notes
    -----
    Atom features. The original CGCNN uses a one-hot table of elemental properties
    (``atom_init.json``) that no dependency ships, so an equivalent one is built from
    pymatgen's element data, following the supplement's Table S2: group (18, one-hot),
    period (7; lanthanides 6, actinides 7), Pauling electronegativity (10 bins over
    0.5-4.0), covalent radius (10 bins over 0.25-2.5 Angstrom, Cordero et al. 2008
    as tabulated by pymatgen), valence electrons (12; counted from the group: s and d
    blocks the group number, p block the group minus 10, f block 3, He 2), first
    ionisation energy (10 bins of ln(eV) over 1.3-3.3), electron affinity (10 bins over
    -3 to 3.7 eV), block (s, p, d, f) and atomic volume (10 bins of the natural log of
    the molar volume in cm^3/mol over 1.5-4.3). Out-of-range values fall in the end
    bins; a missing value (no electronegativity for He, Ne, Ar, for example) leaves
    that property's block at zero.

    Neighbours. Unlike the original, which pads atoms with fewer than 12 neighbours
    with fake ones at ``cutoff + 1``, graphs keep a variable number of edges per atom;
    an atom with no neighbour at all within ``cutoff`` is an error.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from skecd.preprocessing import CrystalGraphFeaturizer
    >>> cu = Structure(Lattice.cubic(3.61), ["Cu"] * 4,
    ...                [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    >>> (graph,) = CrystalGraphFeaturizer(cutoff=3.0).fit_transform([cu])
    >>> graph.n_atoms, graph.n_edges, graph.edge_features.shape
    (4, 48, (48, 16))
    """

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "cutoff": [Interval(Real, 0, None, closed="neither")],
        "max_neighbors": [Interval(Integral, 1, None, closed="left")],
        "gaussian_step": [Interval(Real, 0, None, closed="neither")],
    }
    _parameter_messages = {
        "cutoff": "must be a positive length in Angstrom",
        "max_neighbors": "must be an int >= 1",
        "gaussian_step": "must be a positive length in Angstrom",
    }
    _sample_kind = "structure"
    _progress = ("Crystal graphs", "structure")
    _object_output = True

    def __init__(self, cutoff=8.0, max_neighbors=12, gaussian_step=0.2, n_jobs=None, verbose=False):
        self.cutoff = cutoff
        self.max_neighbors = max_neighbors
        self.gaussian_step = gaussian_step
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if self.gaussian_step > self.cutoff:
            raise InvalidParameterError(
                f"{type(self).__name__}: gaussian_step ({self.gaussian_step}) must not exceed "
                f"cutoff ({self.cutoff})"
            )

    def featurize_sample(self, sample, index):
        """Build the graph of one sample.

        Parameters
        ----------
        sample : Structure, dict, ChargeDensity, VolumetricData, str or path-like
            The crystal.
        index : int
            Its position in ``X``, for error messages.

        Returns
        -------
        CrystalGraph

        Raises
        ------
        ValueError
            If the structure is disordered, or an atom has no neighbour within
            ``cutoff``; the message names the sample index (and the atom).
        """
        return _graph_of_sample(
            sample,
            index,
            cutoff=float(self.cutoff),
            max_neighbors=int(self.max_neighbors),
            gaussian_step=float(self.gaussian_step),
        )


def gaussian_centers(cutoff, step):
    """Centres of the Gaussians of the edge features: 0, step, ..., <= cutoff."""
    n = int(math.floor(cutoff / step + 1e-9)) + 1
    return step * np.arange(n, dtype=np.float64)


def _atom_features(structure, index):
    """One-hot features of every site of ``structure`` (sample ``index``)."""
    rows = []
    for i, site in enumerate(structure):
        if not site.is_ordered:
            raise ValueError(
                f"sample {index} ({structure.composition.reduced_formula}): site {i} is "
                f"disordered ({site.species_string}); crystal graphs need ordered structures"
            )
        symbol = getattr(site.specie, "symbol", str(site.specie))
        try:
            rows.append(_element_features(symbol))
        except (ValueError, KeyError) as exc:
            raise ValueError(
                f"sample {index}: site {i} holds {site.species_string!r}, not a chemical "
                f"element: {exc}"
            ) from exc
    return np.stack(rows)


def _neighbor_edges(structure, cutoff, max_neighbors):
    """Edges to the ``max_neighbors`` nearest neighbours of each site within ``cutoff``.

    Returns ``(centers, neighbors, distances)`` sorted by centre then distance.
    """
    centers, neighbors, images, distances = structure.get_neighbor_list(r=cutoff)
    # Sort by centre, then distance (rounded so that equal distances compare equal),
    # then neighbour index and image: a deterministic choice among ties.
    rounded = np.round(distances, 6)
    images = np.asarray(images, dtype=np.int64).reshape(-1, 3)
    order = np.lexsort((images[:, 2], images[:, 1], images[:, 0], neighbors, rounded, centers))
    centers, neighbors, distances = centers[order], neighbors[order], distances[order]
    # Rank of each edge within its centre's sorted run, to keep the first max_neighbors.
    starts = np.searchsorted(centers, centers, side="left")
    keep = (np.arange(len(centers)) - starts) < max_neighbors
    return centers[keep], neighbors[keep], distances[keep]


def _graph_of_sample(obj, index, *, cutoff, max_neighbors, gaussian_step):
    """Read sample ``index`` and return its :class:`CrystalGraph`."""
    structure = read_structure(obj, index)
    formula = structure.composition.reduced_formula
    atom_features = _atom_features(structure, index)
    centers, neighbors, distances = _neighbor_edges(structure, cutoff, max_neighbors)
    counts = np.bincount(centers, minlength=len(structure))
    isolated = np.flatnonzero(counts == 0)
    if isolated.size:
        i = int(isolated[0])
        raise ValueError(
            f"sample {index} ({formula}): atom {i} ({structure[i].species_string}) has no "
            f"neighbour within cutoff={cutoff} Angstrom"
            + (f" (nor do {isolated.size - 1} other atoms)" if isolated.size > 1 else "")
            + "; increase the cutoff"
        )
    mu = gaussian_centers(cutoff, gaussian_step)
    edge_features = np.exp(-(((distances[:, None] - mu[None, :]) / gaussian_step) ** 2))
    return CrystalGraph(
        atom_features=atom_features,
        edge_index=np.stack([centers, neighbors]).astype(np.int64),
        edge_features=edge_features.astype(np.float32),
        distances=np.asarray(distances, dtype=np.float64),
        formula=formula,
    )
