"""Readers that turn files and pymatgen objects into :class:`ChargeDensity`."""

from __future__ import annotations

import contextlib
import lzma
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

from .._atomic import atomic_write
from ._density import ChargeDensity, _check_lattice

__all__ = [
    "DENSITY_ENCODINGS",
    "DensityFileError",
    "read_chgcar",
    "read_gpaw_npz",
    "write_gpaw_npz",
    "from_volumetric_data",
]

_NPZ_REQUIRED = ("density", "lattice", "frac_coords", "species")
#: Arrays of the compact encodings (:data:`DENSITY_ENCODINGS`), in place of the grids.
_NPZ_ENCODED = (
    "density_encoding",
    "density_shape",
    "density_lzma",
    "spin_density_lzma",
    "density_sum",
)
#: Names the ``.npz`` format uses itself; metadata may not take them.
_NPZ_RESERVED = (*_NPZ_REQUIRED, "spin_density", *_NPZ_ENCODED)

#: How :func:`write_gpaw_npz` can store the grids, and :func:`read_gpaw_npz` reads:
#:
#: - ``"deflate"``: float32 arrays ``density`` (and ``spin_density``) in the zip's
#:   deflate, the original format (a file without ``density_encoding`` is read so);
#: - ``"lzma"``: the same float32 values, lossless, in an xz (LZMA) stream;
#: - ``"lzma-12bit"``: float32 with the mantissa rounded to 12 of its 23 bits
#:   (relative change at most 2^-13 = 1.2e-4 per voxel), in an xz stream; the
#:   total density is rescaled on reading to its stored sum, so the electron count
#:   is kept.
#:
#: The encoded files name their encoding in ``density_encoding`` and hold no
#: ``density`` array, so a reader that does not know them refuses them instead of
#: misreading them.
DENSITY_ENCODINGS = ("deflate", "lzma", "lzma-12bit")
_ROUNDED_MANTISSA_BITS = {"lzma-12bit": 12}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive, or an empty one


class DensityFileError(ValueError):
    """A density file that exists but cannot be read: truncated, malformed or of another format.

    The policy of the readers of :mod:`skecd.io`: a file that is missing, a
    directory or unreadable raises the matching ``OSError`` subclass
    (``FileNotFoundError``, ``IsADirectoryError``, ``PermissionError``); a file
    whose content is wrong raises this ``ValueError`` subclass. Both name the
    file; nothing else escapes a reader, whatever the bytes in the file.

    Parameters
    ----------
    message : str
        What is wrong; the file is added in front.
    path : str
        The file.

    Attributes
    ----------
    path : str
        The file.
    """

    def __init__(self, message, path):
        super().__init__(f"{path!r}: {message}")
        self.path = path


def _check_path(path, kind):
    """Return ``path`` as a str; raise an ``OSError`` naming it if it is not a readable file."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a directory, not a {kind} file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such {kind} file: {path!r}")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{kind} file {path!r} is not readable (permission denied)")
    return path


def read_chgcar(path, species=None) -> ChargeDensity:
    """Read a VASP CHGCAR, CHG, AECCAR or PARCHG file.

    Parsing is delegated to pymatgen's :class:`~pymatgen.io.vasp.outputs.Chgcar`
    (plain, ``.gz``, ``.bz2`` and ``.xz`` files; spin-polarised or not; with or
    without augmentation blocks). VASP stores density times cell volume; the
    returned density is in electrons per cubic Angstrom.

    Parameters
    ----------
    path : str or path-like
        The file.
    species : list of str, default=None
        Element of each atom type, in the order of the atom-count line, as the
        element line of a VASP 5 header gives them (e.g. ``["Fe", "O"]``). Needed
        for files in the VASP 4 format, whose header has no element line; if the
        file has one, it must agree.

    Returns
    -------
    ChargeDensity
        ``total`` is the charge density; ``spin`` holds the magnetisation density
        (up minus down) of a spin-polarised file, else ``None``.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        If ``path`` is not a readable file.
    DensityFileError
        A ``ValueError``: the file is truncated or malformed, or a VASP 4 file
        was given without ``species``; the message names the file.
    """
    path = _check_path(path, "CHGCAR")
    chg, false_names = _parse_chgcar(path)
    try:
        _check_first_block_complete(path, chg.dim, len(chg.structure))
        structure = _with_species(chg.structure, false_names, species, path)
        chg.structure = structure
        return from_volumetric_data(chg, source=path)
    except DensityFileError:
        raise
    except ValueError as exc:
        raise DensityFileError(f"malformed CHGCAR file: {exc}", path) from exc


def _parse_chgcar(path):
    """Parse with pymatgen; return the Chgcar and whether the header had no element names."""
    from pymatgen.io.vasp import Chgcar
    from pymatgen.io.vasp.inputs import BadPoscarWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                chg = Chgcar.from_file(path)
            except UnicodeDecodeError:
                # pymatgen decodes the header as UTF-8; the comment line of files
                # written by older tools may hold Latin-1 bytes. Parse a copy whose
                # comment line is decoded leniently.
                with _lenient_comment_copy(path) as copy:
                    chg = Chgcar.from_file(copy)
    except MemoryError as exc:
        raise DensityFileError(
            "a grid line declares more points than memory holds (damaged header?)", path
        ) from exc
    except Exception as exc:  # pymatgen raises ValueError, IndexError, ... on bad files
        reason = _diagnose_chgcar(path) or f"{type(exc).__name__}: {exc}"
        raise DensityFileError(f"could not read CHGCAR file: {reason}", path) from exc
    false_names = False
    for w in caught:
        if issubclass(w.category, BadPoscarWarning) and "cannot be determined" in str(w.message):
            false_names = True  # an error below unless the user gives species
        else:  # anything else pymatgen noticed reaches the user, naming the file
            warnings.warn(f"{path}: {w.message}", w.category, stacklevel=3)
    return chg, false_names


@contextlib.contextmanager
def _lenient_comment_copy(path):
    """Yield a temporary uncompressed copy of ``path`` with its comment line made ASCII."""
    from monty.io import zopen

    with zopen(path, mode="rb") as src, tempfile.TemporaryDirectory() as tmpdir:
        first = src.readline().decode("latin-1").encode("ascii", "replace")
        copy = os.path.join(tmpdir, "CHGCAR")
        with open(copy, "wb") as dst:
            dst.write(first)
            shutil.copyfileobj(src, dst)
        yield copy


def _diagnose_chgcar(path):
    """Return a plain reason why pymatgen could not parse ``path``, or None.

    pymatgen's own messages name neither the file nor the line ("list index out
    of range", "Expected 21952 values, got 0"); these checks look at the header
    and the grid for the usual culprits. Written by hand: no library reads a
    broken CHGCAR and says why.
    """
    from monty.io import zopen

    try:
        with zopen(path, mode="rb") as fh:
            head = []
            for raw in fh:
                line = raw.decode("latin-1")
                if not line.strip() and len(head) > 7:
                    break
                head.append(line)
            if b"***" in fh.read(1 << 26):  # the grid, up to 64 MiB
                return (
                    "the grid holds Fortran overflow markers '****' (a value too wide for "
                    "its field); the file cannot be read"
                )
    except (OSError, EOFError, ValueError) as exc:  # a damaged compressed stream
        return f"the file cannot be decompressed ({type(exc).__name__}: {exc})"
    if any("***" in line for line in head):
        return "the header holds Fortran overflow markers '****'"
    if len(head) < 8:
        return f"the header has {len(head)} lines; a VASP header has at least 8"
    counts_line = 6 if any(c.isalpha() for c in head[5]) else 5
    try:
        counts = [int(t) for t in head[counts_line].split()]
    except ValueError:
        return f"line {counts_line + 1} should hold the atom counts, got {head[counts_line]!r:.80}"
    first_coord = counts_line + 2
    if first_coord - 1 < len(head) and head[first_coord - 1].strip()[:1] in ("s", "S"):
        first_coord += 1  # selective dynamics
    n_coords = len(head) - first_coord
    if sum(counts) > n_coords:
        return (
            f"the atom counts {counts} add up to {sum(counts)} atoms but the header has "
            f"{max(n_coords, 0)} coordinate lines"
        )
    return None


def _with_species(structure, false_names, species, path):
    """Return ``structure`` with the user's element names, or refuse a header without any."""
    if species is None:
        if false_names:
            raise DensityFileError(
                "the header has no element line (VASP 4 format), so the elements are "
                "unknown; pass species=[...] (skecd predict --species) with one element per "
                "atom type, in the order of the atom-count line",
                path,
            )
        return structure
    from pymatgen.core import Element

    species = [str(e) for e in species]
    bad = [e for e in species if not Element.is_valid_symbol(e)]
    if bad:
        raise ValueError(f"species holds unknown elements {bad}")
    # pymatgen numbers the types of a header without names H, He, Li, ... (Z = 1, 2, 3 ...)
    types = list(dict.fromkeys(site.specie.symbol for site in structure))
    if not false_names:
        if types != species[: len(types)] or len(species) != len(types):
            raise ValueError(f"species={species} disagrees with the file's element line {types}")
        return structure
    type_index = [site.specie.Z - 1 for site in structure]
    if len(species) != max(type_index) + 1:
        raise ValueError(
            f"species={species} names {len(species)} atom types but the atom-count line has "
            f"{max(type_index) + 1}"
        )
    return Structure(structure.lattice, [species[i] for i in type_index], structure.frac_coords)


def _check_first_block_complete(path, dim, n_atoms):
    """Raise if the first data block holds more values than its grid line declares.

    Written by hand because pymatgen reads exactly the declared number of values
    and then skips further numeric lines (it takes them for the per-atom moment
    line), so a grid line declaring too few points would silently drop data.
    Only counts tokens; the values themselves come from pymatgen.
    """
    from monty.io import zopen

    n_declared = int(np.prod(dim))
    grid_tokens = [str(int(n)) for n in dim]
    count = 0
    with zopen(path, mode="rt", encoding="latin-1") as fh:  # a Latin-1 comment is fine
        previous_blank = False
        for line in fh:  # the header ends with a blank line, then the grid line
            tokens = line.split()
            if previous_blank and tokens == grid_tokens:
                break
            previous_blank = not tokens
        for line in fh:
            tokens = line.split()
            if not tokens or tokens[0] == "augmentation" or tokens == grid_tokens:
                break
            count += len(tokens)
    # A spin-polarised file without augmentation has one line of per-atom moments
    # right after the first block; allow for it.
    if count > n_declared + n_atoms:
        raise ValueError(
            f"the grid line declares {dim[0]} x {dim[1]} x {dim[2]} = {n_declared} points "
            f"but the first data block holds {count} values"
        )


def from_volumetric_data(data, source=None) -> ChargeDensity:
    """Convert a pymatgen :class:`~pymatgen.io.common.VolumetricData` (e.g. a ``Chgcar``).

    Parameters
    ----------
    data : pymatgen.io.common.VolumetricData
        Its ``data["total"]`` (and ``data["diff"]`` if spin-polarised) are taken
        to be density times cell volume, as in every VASP volumetric file.
    source : str, default=None
        Where the object came from, for error messages.

    Returns
    -------
    ChargeDensity
    """
    structure = data.structure
    _check_lattice(structure, f" (source: {source})" if source else "")
    if "total" not in data.data:
        raise ValueError(f"volumetric data has no 'total' block (keys: {sorted(data.data)})")
    volume = structure.volume
    total = np.asarray(data.data["total"], dtype=np.float64)
    dim = tuple(int(n) for n in getattr(data, "dim", total.shape))
    if total.shape != dim:
        raise ValueError(f"grid of shape {total.shape} does not match the declared grid {dim}")
    spin = data.data.get("diff")
    if spin is not None:
        spin = np.asarray(spin, dtype=np.float64) / volume
    return ChargeDensity(
        structure=structure.copy(),
        total=total / volume,
        spin=spin,
        source=source,
    )


def read_gpaw_npz(path) -> ChargeDensity:
    """Read a density saved as ``.npz`` by skecd's GPAW builder (the ``ecd_gpaw`` format).

    The file holds ``density`` (e/A^3 on the grid over the cell), ``lattice``
    (cell vectors as rows, Angstrom), ``frac_coords``, ``species`` and optionally
    ``spin_density``; every other array (``n_valence``, ``energy``, ``magmom``,
    ``material_id``, ...) goes to ``metadata``, 0-d arrays as Python scalars.
    Files written with a compact encoding (see :data:`DENSITY_ENCODINGS`) name it
    in ``density_encoding`` and are decoded transparently.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    ChargeDensity

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        If ``path`` is not a readable file.
    DensityFileError
        A ``ValueError``: the file is not an ``.npz`` archive, is damaged, or
        lacks or holds malformed arrays, or names an encoding this version of
        skecd does not know; the message names the file.
    """
    path = _check_path(path, "density")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic not in _ZIP_MAGIC:
        hint = " (it looks like gzip data)" if magic[:2] == b"\x1f\x8b" else ""
        raise DensityFileError(
            f"not an .npz (zip) archive{hint}; a VASP CHGCAR is read by read_chgcar "
            "whatever its name",
            path,
        )
    try:
        # our own handle: np.load leaks the one it opens when the zip is damaged
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as exc:  # zipfile, zlib and numpy raise many types on damaged files
        raise DensityFileError(
            f"could not read the density file: {type(exc).__name__}: {exc}", path
        ) from exc
    if "density_encoding" in arrays:
        arrays = _decode_grids(arrays, path)
    missing = [k for k in _NPZ_REQUIRED if k not in arrays]
    if missing:
        raise DensityFileError(f"the density file lacks the arrays {missing}", path)
    try:
        return _density_from_arrays(arrays, source=path)
    except ValueError as exc:
        raise DensityFileError(str(exc), path) from exc


def _decode_grids(arrays, path):
    """Return ``arrays`` with the encoded grids of a compact file decoded to float32."""
    encoding = arrays.pop("density_encoding")
    encoding = str(encoding.item()) if encoding.ndim == 0 else repr(encoding)
    if encoding not in DENSITY_ENCODINGS[1:]:
        raise DensityFileError(
            f"unknown density encoding {encoding!r}; this skecd reads "
            f"{list(DENSITY_ENCODINGS)} (a newer skecd may have written the file)",
            path,
        )
    for name in ("density", "spin_density"):
        if name in arrays:
            raise DensityFileError(
                f"the file names the encoding {encoding!r} but also holds a plain {name!r} array",
                path,
            )
    missing = [k for k in ("density_shape", "density_lzma") if k not in arrays]
    if encoding == "lzma-12bit" and "density_sum" not in arrays:
        missing.append("density_sum")
    if missing:
        raise DensityFileError(f"the {encoding!r} density file lacks the arrays {missing}", path)
    shape = arrays.pop("density_shape")
    if shape.shape != (3,) or shape.dtype.kind not in "iu" or (shape < 1).any():
        raise DensityFileError(f"'density_shape' must be 3 positive integers, got {shape!r}", path)
    shape = tuple(int(n) for n in shape)
    for name in ("density", "spin_density"):
        blob = arrays.pop(f"{name}_lzma", None)
        if blob is None:
            continue
        try:
            raw = lzma.decompress(blob.tobytes())
        except lzma.LZMAError as exc:
            raise DensityFileError(f"could not decompress {name!r}: {exc}", path) from exc
        if len(raw) != 4 * int(np.prod(shape)):
            raise DensityFileError(
                f"{name!r} holds {len(raw)} bytes, not the {4 * int(np.prod(shape))} of a "
                f"float32 grid of shape {shape}",
                path,
            )
        arrays[name] = np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
    total_sum = arrays.pop("density_sum", None)
    if encoding == "lzma-12bit":
        # Rounding each voxel changes the sum by ~1e-6 relative; rescaling to the
        # stored sum of the original grid keeps the electron count.
        decoded_sum = arrays["density"].sum(dtype=np.float64)
        if total_sum.ndim != 0 or total_sum.dtype.kind != "f":
            raise DensityFileError(f"'density_sum' must be one float, got {total_sum!r}", path)
        target = float(total_sum)
        if not np.isfinite(target) or decoded_sum == 0:
            raise DensityFileError(f"'density_sum' {target!r} cannot rescale the grid", path)
        arrays["density"] = (arrays["density"] * (target / decoded_sum)).astype(np.float32)
    return arrays


def _round_mantissa(values, bits):
    """Round float32 ``values`` to ``bits`` mantissa bits (to nearest, ties to even).

    Hand-written (a few integer operations on the bit pattern, as numcodecs'
    ``BitRound`` does) to avoid a dependency for one function: the zeroed low
    bits make the grid compress far better, and the relative change of each
    value is at most 2^-(bits + 1).
    """
    drop = 23 - bits
    pattern = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    half = np.uint32((1 << (drop - 1)) - 1)
    odd = (pattern >> np.uint32(drop)) & np.uint32(1)
    mask = np.uint32((0xFFFFFFFF >> drop) << drop)
    rounded = ((pattern + half + odd) & mask).view(np.float32)
    if not np.isfinite(rounded[np.isfinite(values)]).all():
        raise ValueError("a value overflowed when rounded; store it with encoding='lzma'")
    return rounded


def _encode_grids(density, encoding):
    """Return the arrays of the grids of ``density`` in a compact ``encoding``."""
    grids = {"density": density.total}
    if density.spin is not None:
        grids["spin_density"] = density.spin
    arrays = {
        "density_encoding": np.array(encoding),
        "density_shape": np.array(density.grid_shape, dtype=np.int64),
    }
    for name, grid in grids.items():
        values = np.ascontiguousarray(grid, dtype="<f4")
        if encoding in _ROUNDED_MANTISSA_BITS:
            if name == "density":
                arrays["density_sum"] = np.array(values.sum(dtype=np.float64))
            values = _round_mantissa(values, _ROUNDED_MANTISSA_BITS[encoding])
        # xz (with its CRC64 check) of LZMA2 at its strongest preset, the dictionary
        # no larger than the grid (preset 9's 64 MiB would take ~700 MiB to encode
        # and compress no better), and literal/position bits for 4-byte values
        # (lc=0, lp=2, pb=2: 2% smaller than the defaults on the bundled grids)
        lzma2 = {"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": max(4096, values.nbytes)}
        lzma2.update(lc=0, lp=2, pb=2)
        blob = lzma.compress(values.tobytes(), filters=[lzma2])
        arrays[f"{name}_lzma"] = np.frombuffer(blob, dtype=np.uint8)
    return arrays


def _density_from_arrays(arrays, source=None) -> ChargeDensity:
    species = arrays["species"]
    if species.dtype.kind not in "US" or species.ndim != 1:
        raise ValueError(
            f"'species' must be a 1D array of element symbols, got dtype {species.dtype} "
            f"and shape {species.shape}"
        )
    for name in ("lattice", "frac_coords"):
        if arrays[name].dtype.kind not in "iuf":
            raise ValueError(f"{name!r} must hold real numbers, got dtype {arrays[name].dtype}")
    try:
        structure = Structure(
            Lattice(np.asarray(arrays["lattice"], dtype=np.float64)),
            [str(s) for s in species],
            np.asarray(arrays["frac_coords"], dtype=np.float64),
        )
    except Exception as exc:  # pymatgen raises ValueError, KeyError, IndexError ...
        raise ValueError(f"Invalid structure in density {source!r}: {exc}") from exc
    metadata = {
        k: v.item() if np.ndim(v) == 0 else v for k, v in arrays.items() if k not in _NPZ_RESERVED
    }
    return ChargeDensity(
        structure=structure,
        total=arrays["density"],
        spin=arrays.get("spin_density"),
        source=source,
        metadata=metadata,
    )


_METADATA_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _leaves(value):
    """The items of a nested list or tuple."""
    for v in value:
        if isinstance(v, (list, tuple)):
            yield from _leaves(v)
        else:
            yield v


def _metadata_arrays(metadata, path):
    """Return ``metadata`` as arrays that :func:`read_gpaw_npz` reads back, or refuse it.

    Keys must be plain names other than the format's own arrays; values must be
    numbers, booleans, strings or arrays of them (``np.load(allow_pickle=False)``
    refuses object arrays, so ``None``, dicts and mixed lists cannot be stored).
    """
    arrays = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not _METADATA_KEY.fullmatch(key):
            raise ValueError(
                f"cannot write {os.fspath(path)!r}: metadata key {key!r} is not a plain name "
                "(letters, digits, '_', '.', '-')"
            )
        if key in _NPZ_RESERVED:
            raise ValueError(
                f"cannot write {os.fspath(path)!r}: metadata key {key!r} is reserved by the "
                f"format ({', '.join(_NPZ_RESERVED)})"
            )
        try:
            array = None if value is None or isinstance(value, dict) else np.asarray(value)
        except (ValueError, TypeError) as exc:  # a ragged nested list
            raise ValueError(
                f"cannot write {os.fspath(path)!r}: metadata {key!r} = {value!r:.60} is not a "
                f"rectangular array ({' '.join(str(exc).split())[:80]})"
            ) from None
        mixed = (
            array is not None
            and array.dtype.kind in "US"
            and isinstance(value, (list, tuple))
            and not all(isinstance(v, (str, bytes)) for v in _leaves(value))
        )
        if mixed:
            raise ValueError(
                f"cannot write {os.fspath(path)!r}: metadata {key!r} = {value!r:.60} mixes "
                "strings and numbers (numpy would turn them all into strings)"
            )
        if array is None or array.dtype.kind not in "biufUS":
            raise ValueError(
                f"cannot write {os.fspath(path)!r}: metadata {key!r} = {value!r:.60} "
                f"({type(value).__name__}) is not a number, bool, string or array of them"
            )
        arrays[key] = array
    return arrays


def write_gpaw_npz(density: ChargeDensity, path, dtype=np.float32, encoding="deflate") -> Path:
    """Write a :class:`ChargeDensity` in the ``.npz`` format of :func:`read_gpaw_npz`.

    The file is written to a temporary name and renamed, so that an interrupted
    write never leaves a file that looks finished. The metadata are checked
    first, so that nothing is written that :func:`read_gpaw_npz` would refuse.

    Parameters
    ----------
    density : ChargeDensity
    path : str or path-like
        Destination; ``.npz`` is appended if missing.
    dtype : numpy dtype, default=float32
        Storage type of the grids (GPAW's densities are shipped as float32);
        the compact encodings store float32 only.
    encoding : {"deflate", "lzma", "lzma-12bit"}, default="deflate"
        How the grids are stored (see :data:`DENSITY_ENCODINGS`): ``"deflate"``
        is the original format; ``"lzma"`` is lossless and 24% smaller on the
        bundled densities, 31% on larger extended cells; ``"lzma-12bit"`` rounds
        each value to 12 mantissa bits (relative change at most 1.2e-4, electron
        count kept), 4% smaller still, but the gradient-based local features
        (:class:`~skecd.preprocessing.LocalDensityFeaturizer`) of low-density
        regions change markedly (``benchmarks/results/encoding.json``).
        :func:`read_gpaw_npz` reads all of them.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If a metadata key is reserved by the format (``density``, ``lattice``,
        ``frac_coords``, ``species``, ``spin_density``, ``density_encoding``, ...)
        or not a plain name, or a value is not a number, bool, string or array of
        them (``None``, dicts); if ``encoding`` is unknown, or a compact encoding
        is asked with a ``dtype`` other than float32.
    """
    if encoding not in DENSITY_ENCODINGS:
        raise ValueError(f"encoding must be one of {DENSITY_ENCODINGS}, got {encoding!r}")
    if encoding != "deflate" and np.dtype(dtype) != np.float32:
        raise ValueError(f"encoding={encoding!r} stores float32 grids, got dtype={dtype!r}")
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    metadata = _metadata_arrays(density.metadata, path)
    s = density.structure
    if encoding == "deflate":  # the original layout, written unchanged
        arrays = {"density": np.asarray(density.total, dtype=dtype)}
    else:
        arrays = _encode_grids(density, encoding)
    arrays.update(
        {
            "lattice": np.asarray(s.lattice.matrix, dtype=np.float64),
            "frac_coords": np.asarray(s.frac_coords, dtype=np.float64),
            "species": np.array([site.specie.symbol for site in s]),
            **metadata,
        }
    )
    if encoding == "deflate" and density.spin is not None:
        arrays["spin_density"] = np.asarray(density.spin, dtype=dtype)
    with atomic_write(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path
