"""Hostile and damaged input to skecd.io: refused with a clear error, never misread."""

from __future__ import annotations

import gc
import gzip
import warnings

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from skecd.io import (
    ChargeDensity,
    DensityFileError,
    load_density,
    read_chgcar,
    read_gpaw_npz,
    write_gpaw_npz,
)


def _lines(path):
    with gzip.open(path, "rt") as fh:
        return fh.read().splitlines(keepends=True)


def _write(path, lines):
    path.write_text("".join(lines))
    return path


def _first_data_line(lines):
    blank = next(i for i, line in enumerate(lines) if i > 7 and not line.strip())
    return blank + 2


# ---------------------------------------------------------------- VASP 4 headers
def test_vasp4_chgcar_without_element_line_is_refused(chgcar_dir, tmp_path):
    lines = _lines(chgcar_dir / "Fe3O4.CHGCAR.gz")
    assert lines[5].split() == ["Fe", "O"]
    path = _write(tmp_path / "CHGCAR", lines[:5] + lines[6:])  # `sed 6d`
    with pytest.raises(DensityFileError, match=r"CHGCAR.*no element line.*species="):
        read_chgcar(path)
    with pytest.raises(ValueError, match=r"sample 3: .*no element line"):
        load_density(path, index=3)


def test_vasp4_chgcar_with_species_reads_the_right_elements(chgcar_dir, tmp_path):
    reference = read_chgcar(chgcar_dir / "Fe3O4.CHGCAR.gz")
    lines = _lines(chgcar_dir / "Fe3O4.CHGCAR.gz")
    path = _write(tmp_path / "CHGCAR", lines[:5] + lines[6:])
    rho = read_chgcar(path, species=["Fe", "O"])
    assert rho.structure.composition == reference.structure.composition
    assert [s.specie.symbol for s in rho.structure] == [
        s.specie.symbol for s in reference.structure
    ]
    np.testing.assert_array_equal(rho.total, reference.total)
    with pytest.raises(ValueError, match=r"names 1 atom types .* has 2"):
        read_chgcar(path, species=["Fe"])
    with pytest.raises(ValueError, match="unknown elements"):
        read_chgcar(path, species=["Fe", "Xx"])
    # a file with an element line: species must agree with it
    with pytest.raises(ValueError, match="disagrees with the file's element line"):
        read_chgcar(chgcar_dir / "Fe3O4.CHGCAR.gz", species=["O", "Fe"])
    same = read_chgcar(chgcar_dir / "Fe3O4.CHGCAR.gz", species=["Fe", "O"])
    assert same.structure == reference.structure


def test_vasp4_si_is_not_read_as_hydrogen(si_chgcar, tmp_path):
    lines = _lines(si_chgcar)
    path = _write(tmp_path / "CHGCAR", lines[:5] + lines[6:])
    with pytest.raises(DensityFileError, match="no element line"):
        read_chgcar(path)
    assert read_chgcar(path, species=["Si"]).formula == "Si"


# ------------------------------------------------------------ density checks
@pytest.fixture
def si(si_chgcar):
    return read_chgcar(si_chgcar)


def test_negative_density_is_refused(si, gpaw_dir):
    with pytest.raises(ValueError, match=r"mostly negative: 100%.*source: flipped"):
        ChargeDensity(si.structure, -si.total, source="flipped")
    # a difference density (half negative) is refused too
    diff = si.total - si.total.mean()
    with pytest.raises(ValueError, match="mostly negative"):
        ChargeDensity(si.structure, diff)
    # the real pseudo densities, negative near the nuclei, are accepted
    gpaw = read_gpaw_npz(gpaw_dir / "mp-2612.npz")  # the largest negative share bundled
    assert gpaw.total.min() < -1.0
    assert gpaw.n_electrons > 0


@pytest.mark.parametrize(
    "matrix, match",
    [
        (np.zeros((3, 3)), "singular"),
        (np.full((3, 3), np.nan), "non-finite"),
        ([[1, 0, 0], [2, 0, 0], [0, 0, 1]], "singular"),
        ([[np.inf, 0, 0], [0, 1, 0], [0, 0, 1]], "non-finite"),
    ],
)
def test_degenerate_lattice_is_refused(si, matrix, match):
    structure = Structure(Lattice(np.asarray(matrix, dtype=float)), ["Si"], [[0, 0, 0]])
    with pytest.raises(ValueError, match=rf"lattice .*{match}|{match}.*source: bad"):
        ChargeDensity(structure, si.total, source="bad")


def test_zero_lattice_never_reaches_spglib(si):
    """A zero lattice used to segfault spglib in the conventional-frame voxeliser."""
    from skecd.preprocessing import ChargeDensityVoxelizer

    structure = Structure(Lattice(np.zeros((3, 3))), ["Si"], [[0, 0, 0]])
    with pytest.raises(ValueError, match="singular"):
        ChargeDensityVoxelizer(grid_size=4, frame="conventional").fit_transform(
            [ChargeDensity(structure, si.total)]
        )


@pytest.mark.parametrize("dtype", [bool, np.complex128, object, "U3"])
def test_non_real_grids_are_refused(si, dtype):
    grid = si.total.astype(dtype) if dtype != "U3" else si.total.astype(str).astype("U3")
    with pytest.raises(ValueError, match=r"real numbers, got dtype .*source: x"):
        ChargeDensity(si.structure, grid, source="x")
    with pytest.raises(ValueError, match="spin density must hold real numbers"):
        ChargeDensity(si.structure, si.total, spin=grid)


# ------------------------------------------------------------------ messages
def test_directory_is_named_as_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory, not a CHGCAR"):
        read_chgcar(tmp_path)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        read_gpaw_npz(tmp_path)
    with pytest.raises(IsADirectoryError, match="sample 0: .*is a directory"):
        load_density(tmp_path, index=0)


def test_latin1_comment_is_read(si_chgcar, si, tmp_path):
    raw = gzip.open(si_chgcar).read()
    path = tmp_path / "CHGCAR"
    path.write_bytes("Si café (VASP 4.6)".encode("latin-1") + raw[raw.index(b"\n") :])
    rho = read_chgcar(path)
    np.testing.assert_array_equal(rho.total, si.total)
    assert rho.structure == si.structure


def test_fortran_overflow_is_named(si_chgcar, tmp_path):
    lines = _lines(si_chgcar)
    k = _first_data_line(lines) + 1
    tokens = lines[k].split()
    tokens[1] = "*" * len(tokens[1])
    lines[k] = " " + " ".join(tokens) + "\n"
    path = _write(tmp_path / "CHGCAR", lines)
    with pytest.raises(DensityFileError, match=r"CHGCAR.*Fortran overflow markers '\*\*\*\*'"):
        read_chgcar(path)


def test_more_atoms_than_coordinate_lines(si_chgcar, tmp_path):
    lines = _lines(si_chgcar)
    assert lines[6].split() == ["1"]
    lines[6] = "   3\n"
    path = _write(tmp_path / "CHGCAR", lines)
    with pytest.raises(DensityFileError, match=r"CHGCAR.*add up to 3 atoms .* 1 coordinate"):
        read_chgcar(path)


def test_chgcar_named_npz(si_chgcar, tmp_path):
    for name, data in [("a.npz", gzip.open(si_chgcar).read()), ("b.npz", si_chgcar.read_bytes())]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DensityFileError, match=rf"{name}.*not an \.npz .*read_chgcar"):
            load_density(path)


def test_damaged_npz_leaves_no_file_open(gpaw_dir, tmp_path):
    # a zip header over junk, a cut archive and a non-zip file: refused, and the reader's
    # handle is closed (np.load left its own open when the zip could not be read)
    whole = sorted(gpaw_dir.glob("*.npz"))[0].read_bytes()
    files = {"junk.npz": b"PK\x03\x04" + b"junk" * 50, "cut.npz": whole[: len(whole) // 2]}
    files["text.npz"] = b"not a zip archive\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, data in files.items():
            (tmp_path / name).write_bytes(data)
            with pytest.raises(DensityFileError, match=name):
                read_gpaw_npz(tmp_path / name)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


# ------------------------------------------------------------- npz writing
def test_writer_refuses_metadata_its_reader_cannot_read(si, tmp_path):
    for metadata, match in [
        ({"note": None}, "'note' = None"),
        ({"params": {"a": 1}}, "'params'"),
        ({"mixed": [1, "a", None]}, "'mixed'"),
        ({"density": 1.0}, "reserved"),
        ({"species": "Si"}, "reserved"),
        ({"spin_density": 0.0}, "reserved"),
        ({"a/b": 1.0}, "not a plain name"),
        ({3: 1.0}, "not a plain name"),
    ]:
        rho = ChargeDensity(si.structure, si.total, metadata=metadata)
        path = tmp_path / "out.npz"
        with pytest.raises(ValueError, match=rf"out\.npz.*{match}"):
            write_gpaw_npz(rho, path)
        assert not path.exists()
        assert list(tmp_path.iterdir()) == []  # no temporary file either


def test_write_read_every_metadata_type(gpaw_dir, tmp_path):
    """Each metadata type skecd produces (GPAW builder floats, ids, flags) survives a round trip."""
    co = read_gpaw_npz(gpaw_dir / "mp-102.npz")
    assert set(co.metadata) == {"energy", "n_valence", "magmom"}  # what the builder writes
    metadata = {
        **co.metadata,
        "material_id": "mp-102",
        "converged": True,
        "n_iterations": 17,
        "kpts": [8, 8, 8],
        "eigenvalues": np.linspace(-1, 1, 5),
    }
    rho = ChargeDensity(co.structure, co.total, spin=co.spin, metadata=metadata)
    back = read_gpaw_npz(write_gpaw_npz(rho, tmp_path / "co"))
    assert set(back.metadata) == set(metadata)
    for key, value in metadata.items():
        np.testing.assert_array_equal(back.metadata[key], value)
        if np.ndim(value) == 0:
            assert type(back.metadata[key]) is type(value), key
    np.testing.assert_array_equal(back.total, co.total)
