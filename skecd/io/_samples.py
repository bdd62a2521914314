"""One sample layer: a list of samples, and a density, structure or composition from any sample.

Every skecd estimator that takes one sample per item (the featurisers, the fusion
regressor, the leave-one-element-out splitter) checks ``X`` with
:func:`check_samples` and reads what it needs of each sample here:
:func:`~skecd.io.load_density` for the density, :func:`read_structure` for the
crystal, :func:`read_composition` for the chemistry. The latter two read as
little of a file as they can: the structure arrays of an ``.npz`` (never the
grid), the header of a VASP file.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator, Mapping

import numpy as np
import scipy.sparse as sp

from ._cube import read_cube
from ._density import ChargeDensity, _check_lattice
from ._files import STRUCTURE_KINDS, file_kind, read_structure_file, structure_from_dict
from ._readers import from_volumetric_data, read_chgcar, read_gpaw_npz

__all__ = [
    "check_sample_type",
    "check_samples",
    "load_density",
    "read_composition",
    "read_structure",
]

#: What a sample may be, per kind, and how to say it in errors.
_EXPECTED = {
    "density": "a ChargeDensity, a pymatgen VolumetricData or a file path",
    "structure": "a pymatgen Structure (or its as_dict()), a ChargeDensity or a file path",
    "composition": "a formula, a pymatgen Composition or Structure, a ChargeDensity or a file path",
}
_NOUNS = {
    "density": "densities or file paths",
    "structure": "structures, densities or file paths",
    "composition": "formulas, compositions, structures, densities or file paths",
}


def _where(index, where):
    if where is not None:
        return where
    return f"sample {index}" if index is not None else "sample"


def _is_volumetric(obj):
    from pymatgen.io.common import VolumetricData

    return isinstance(obj, VolumetricData)


def _is_structure_like(obj):
    """Structure, IStructure or Molecule (anything with sites and a composition)."""
    return hasattr(obj, "composition") and hasattr(obj, "sites")


def _is_single_sample(X):
    from pymatgen.core import Composition

    return (
        isinstance(X, (str, os.PathLike, ChargeDensity, Mapping, Composition))
        or _is_volumetric(X)
        or _is_structure_like(X)
    )


def check_sample_type(obj, index, kind="density"):
    """Raise ``TypeError`` naming the sample if ``obj`` is no ``kind`` sample skecd reads.

    Parameters
    ----------
    obj : object
        One sample.
    index : int
        Its position in ``X``, quoted in the error.
    kind : {"density", "structure", "composition"}, default="density"
        What is read from the sample.
    """
    from pymatgen.core import Composition

    ok = isinstance(obj, (str, os.PathLike, ChargeDensity)) or _is_volumetric(obj)
    if kind == "structure":
        ok = ok or _is_structure_like(obj) or isinstance(obj, dict)
    elif kind == "composition":
        ok = ok or _is_structure_like(obj) or isinstance(obj, (Mapping, Composition))
    if not ok:
        raise TypeError(
            f"{_where(index, None)}: expected {_EXPECTED[kind]}, got {type(obj).__name__} "
            f"({obj!r:.60})"
        )


def check_samples(X, kind="density"):
    """Return ``X`` as a list of samples, or say what is wrong with it.

    Parameters
    ----------
    X : list, tuple, 1D array, one-column 2D array, pandas Series or one-column DataFrame
        One sample per item (per row for a column).
    kind : {"density", "structure", "composition"}, default="density"
        What will be read from each sample: decides which types are accepted
        (see :func:`check_sample_type`).

    Returns
    -------
    list
        The samples, in order.

    Raises
    ------
    TypeError
        If ``X`` is a single sample, sparse, not a sequence, or a sample has a
        type that cannot be read (the message names the sample).
    ValueError
        If ``X`` is empty or a table with more than one column.

    Examples
    --------
    >>> from skecd.io import check_samples
    >>> check_samples(["NaCl", "Si"], kind="composition")
    ['NaCl', 'Si']
    >>> check_samples("CHGCAR")
    Traceback (most recent call last):
    ...
    TypeError: X must be a list of samples, got a single str; wrap it in a list
    """
    noun = _NOUNS[kind]
    if _is_single_sample(X):
        raise TypeError(
            f"X must be a list of samples, got a single {type(X).__name__}; wrap it in a list"
        )
    if isinstance(X, Iterator):
        raise TypeError(
            f"X is a {type(X).__name__}, which the first pass (fit) would use up: pass a "
            f"list of {noun}, e.g. list(X)"
        )
    if sp.issparse(X):
        raise TypeError(f"Sparse data not supported: X must hold {noun}, one sample per row")
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # pandas DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"X must have one column of samples, got a DataFrame of shape {X.shape}"
            )
        samples = list(X.iloc[:, 0])
    elif hasattr(X, "iloc"):  # pandas Series
        samples = list(X)
    elif isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        X = np.asarray(X)
        if X.ndim == 2 and X.shape[1] == 1:
            samples = list(X[:, 0])
        elif X.ndim == 1:
            samples = list(X)
        else:
            raise ValueError(
                f"X must be a 1D sequence of {noun} (or one column of them), "
                f"got an array of shape {X.shape}"
            )
    else:
        try:
            samples = [_unwrap_row(x, i) for i, x in enumerate(X)]
        except TypeError:
            raise TypeError(f"X must be a list of {noun}, got {type(X).__name__}") from None
    if not samples:
        raise ValueError(f"X is empty: at least one sample ({noun}) is needed")
    for index, obj in enumerate(samples):
        check_sample_type(obj, index, kind)
    return samples


def _unwrap_row(row, index):
    """Take the one sample of a row of a one-column table given as a list of lists."""
    if isinstance(row, (list, tuple, np.ndarray)):
        if len(row) != 1:
            raise ValueError(
                f"X must have one column of samples; row {index} has {len(row)} entries"
            )
        return row[0]
    return row


def read_structure(obj, index=None, *, where=None):
    """Return the pymatgen ``Structure`` of one sample, reading as little as possible.

    Parameters
    ----------
    obj : Structure, dict, ChargeDensity, VolumetricData, str or path-like
        A structure (or its ``as_dict()``), a density, or a path to a skecd
        ``.npz`` density (only its structure arrays are read) or to a VASP
        volumetric file (only its header, when it names the elements).
    index : int, default=None
        Position of the sample in ``X``, quoted in errors as ``sample {index}``.
    where : str, default=None
        How to name the sample in errors instead (e.g. ``"groups[3]"``).

    Returns
    -------
    pymatgen.core.Structure

    Examples
    --------
    >>> from skecd.datasets import get_sample_chgcar_paths
    >>> from skecd.io import read_structure
    >>> read_structure(get_sample_chgcar_paths()["Si_fcc"]).composition.reduced_formula
    'Si'
    """
    from pymatgen.core import Structure

    name = _where(index, where)
    if isinstance(obj, Structure):
        _check_lattice(obj, f" ({name})")  # a zero or NaN cell breaks neighbour searches
        return obj
    if isinstance(obj, ChargeDensity) or _is_volumetric(obj):
        return obj.structure
    if isinstance(obj, dict):
        return structure_from_dict(obj, name)  # pymatgen's classes only: no code from X
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{name}: no such file {path!r}")
        kind = file_kind(path)
        if path.endswith(".npz") or kind == "npz":
            return _npz_structure(path, name)
        if kind in STRUCTURE_KINDS:
            try:
                return read_structure_file(path, kind)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from exc
        structure = _vasp_header_structure(path)
        if structure is not None:
            return structure
        try:  # the whole file, when its header does not say which elements it holds
            return load_density(path).structure
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from exc
    check_sample_type(obj, index, "structure")
    raise TypeError(f"{name}: expected {_EXPECTED['structure']}, got {type(obj).__name__}")


def read_composition(obj, index=None, *, where=None):
    """Return the element composition of one sample, reading as little as possible.

    Parameters
    ----------
    obj : str, path-like, Composition, mapping, Structure, VolumetricData or ChargeDensity
        A formula (a ``str`` that names no existing file), a composition, or
        anything :func:`read_structure` reads.
    index : int, default=None
        Position of the sample in ``X``, quoted in errors as ``sample {index}``.
    where : str, default=None
        How to name the sample in errors instead (e.g. ``"groups[3]"``).

    Returns
    -------
    pymatgen.core.Composition
        Its element composition (oxidation states dropped).

    Examples
    --------
    >>> from skecd.io import read_composition
    >>> read_composition("NaCl").reduced_formula
    'NaCl'
    """
    from pymatgen.core import Composition, Element

    name = _where(index, where)
    if isinstance(obj, Composition):
        comp = obj
    elif _is_structure_like(obj):  # Structure, IStructure, Molecule
        comp = obj.composition
    elif isinstance(obj, ChargeDensity) or _is_volumetric(obj):
        comp = obj.structure.composition
    elif isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if os.path.isfile(text):
            comp = read_structure(text, index, where=name).composition
        elif not isinstance(obj, str):  # a Path object that does not exist
            raise FileNotFoundError(f"{name}: no such file {text!r}")
        else:
            try:
                comp = Composition(text)
            except Exception as exc:
                raise ValueError(
                    f"{name}: {text!r} is neither an existing file nor a valid chemical "
                    f"formula ({exc})"
                ) from exc
            # pymatgen drops elements of amount zero ("NaCl0" is Na); refuse rather than
            # featurise another chemistry than the one written.
            present = {getattr(el, "symbol", str(el)) for el in comp}
            dropped = sorted(set(re.findall(r"[A-Z][a-z]*", text)) - present)
            if dropped:
                raise ValueError(
                    f"{name}: formula {text!r} gives zero atoms of {dropped}; write each "
                    "element with a positive amount"
                )
    elif isinstance(obj, Mapping):
        try:
            comp = Composition(obj)
        except Exception as exc:
            raise ValueError(f"{name}: invalid composition {obj!r}: {exc}") from exc
    else:
        raise TypeError(
            f"{name}: expected {_EXPECTED['composition']}, got {type(obj).__name__} ({obj!r:.60})"
        )
    bad_amounts = [
        f"{getattr(el, 'symbol', el)}={amount!r}"
        for el, amount in dict(comp).items()
        if not np.isfinite(float(amount)) or float(amount) < 0
    ]
    if bad_amounts:
        raise ValueError(
            f"{name}: amounts {', '.join(bad_amounts)} in {obj!r:.80} are not finite "
            "non-negative numbers"
        )
    comp = comp.element_composition
    unknown = [getattr(el, "symbol", str(el)) for el in comp if not isinstance(el, Element)]
    if unknown:
        raise ValueError(f"{name}: unknown element(s) {unknown} in {obj!r:.80}")
    if len(comp) == 0 or comp.num_atoms <= 0:
        raise ValueError(f"{name}: empty composition {obj!r:.80}")
    return comp


def _npz_structure(path, name):
    """The structure of a skecd ``.npz`` density; the density grid is never decompressed."""
    from pymatgen.core import Lattice, Structure

    try:
        with np.load(path, allow_pickle=False) as f:  # lazy: reads only the arrays asked for
            species = [str(s) for s in f["species"]]
            lattice = np.asarray(f["lattice"], dtype=np.float64)
            frac_coords = np.asarray(f["frac_coords"], dtype=np.float64)
    except Exception as exc:
        raise ValueError(
            f"{name}: could not read 'species', 'lattice' and 'frac_coords' from {path!r}: {exc}"
        ) from exc
    try:
        return Structure(Lattice(lattice), species, frac_coords)
    except Exception as exc:
        raise ValueError(f"{name}: no valid structure in {path!r}: {exc}") from exc


def _vasp_header_structure(path):
    """The structure in the header of a VASP volumetric file, or None if it cannot say.

    pymatgen's ``Poscar.from_file`` cannot read a CHGCAR (it parses the grid as
    coordinates) and ``Chgcar.from_file`` parses the whole grid; the structure
    block ends at the first blank line, so only those lines are read and given
    to ``Poscar.from_str`` (what ``Chgcar`` does with them too).
    """
    from monty.io import zopen
    from pymatgen.io.vasp import Poscar

    lines = []
    try:
        with zopen(path, mode="rt") as fh:
            for line in fh:
                if not line.strip():
                    break
                lines.append(line)
                if len(lines) > 100_000:  # no blank line: not a VASP volumetric file
                    return None
    except (OSError, UnicodeDecodeError, EOFError):
        return None
    if len(lines) < 8:
        return None
    from pymatgen.io.vasp.inputs import BadPoscarWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen warns about POTCAR-less headers
            # a VASP 4 header has no element names: pymatgen would call them H, He, ...;
            # read_chgcar then says what is wrong
            warnings.simplefilter("error", BadPoscarWarning)
            return Poscar.from_str("".join(lines)).structure
    except Exception:  # e.g. a VASP 4 header without element symbols: read the whole file
        return None


def load_density(obj, index=None) -> ChargeDensity:
    """Return a :class:`ChargeDensity` from any input skecd accepts.

    Parameters
    ----------
    obj : ChargeDensity, pymatgen VolumetricData, str or path-like
        A density, a pymatgen ``Chgcar``/``VolumetricData``, or a path to a
        density file of a kind :func:`file_kind` recognises: a ``.npz`` written
        by skecd or GPAW, a Gaussian cube file, or any VASP volumetric file
        (CHGCAR, CHG, AECCAR*, PARCHG, optionally compressed; the default for a
        file of no recognised kind).
    index : int, default=None
        Position of ``obj`` in a list of samples, quoted in error messages.

    Returns
    -------
    ChargeDensity
    """
    from pymatgen.io.common import VolumetricData

    where = f"sample {index}: " if index is not None else ""
    if isinstance(obj, ChargeDensity):
        return obj
    if isinstance(obj, VolumetricData):
        try:
            source = f"sample {index}" if index is not None else None
            return from_volumetric_data(obj, source=source)
        except ValueError as exc:
            raise ValueError(f"{where}{exc}") from exc
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        try:
            kind = file_kind(path) if os.path.isfile(path) else None
            if path.endswith(".npz") or kind == "npz":
                return read_gpaw_npz(path)
            if kind == "cube":
                return read_cube(path)
            if kind in STRUCTURE_KINDS:
                raise ValueError(
                    f"{path!r} is a structure file ({kind}), not a charge density: compute "
                    "its density first (skecd.density.compute_density)"
                )
            return read_chgcar(path)
        except (OSError, ValueError) as exc:
            if not where:
                raise
            kind = type(exc) if isinstance(exc, OSError) else ValueError
            raise kind(f"{where}{exc}") from exc
    check_sample_type(obj, index, "density")  # raises: obj is of no type read here
