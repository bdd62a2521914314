"""Gaussian cube files: a bundled density written with ASE reads back in skecd's units."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from ase.io.cube import write_cube
from ase.units import Bohr
from pymatgen.io.ase import AseAtomsAdaptor

from skecd.datasets import get_sample_chgcar_paths, load_fcc_elastic
from skecd.io import read_chgcar, read_cube


def _write(density, path):
    atoms = AseAtomsAdaptor.get_atoms(density.structure)
    with open(path, "w") as fh:  # cube files hold e/Bohr^3
        write_cube(fh, atoms, data=density.total * Bohr**3)
    return path


@pytest.mark.parametrize("which", ["Si_fcc", "gpaw"])
def test_cube_round_trip_converts_units(which, tmp_path):
    if which == "gpaw":
        density = load_fcc_elastic().data[0]
    else:
        density = read_chgcar(get_sample_chgcar_paths()[which])
    path = _write(density, tmp_path / "rho.cube")
    got = read_cube(path)
    assert got.grid_shape == density.grid_shape
    np.testing.assert_allclose(
        got.structure.lattice.matrix, density.structure.lattice.matrix, atol=1e-5
    )
    # ASE writes five significant digits
    np.testing.assert_allclose(got.total, density.total, rtol=1e-4, atol=1e-8)
    assert got.n_electrons == pytest.approx(density.n_electrons, rel=1e-4)
    assert got.structure.composition == density.structure.composition
    # e/Bohr^3 read as e/A^3 would be 6.7 times too small
    raw = read_cube(path, units="angstrom")
    assert raw.n_electrons == pytest.approx(density.n_electrons * Bohr**3, rel=1e-4)


def test_compressed_cube(tmp_path):
    density = read_chgcar(get_sample_chgcar_paths()["Si_fcc"])
    plain = _write(density, tmp_path / "rho.cube")
    with open(plain, "rb") as src, gzip.open(tmp_path / "rho.cube.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    np.testing.assert_array_equal(read_cube(tmp_path / "rho.cube.gz").total, read_cube(plain).total)


def test_bad_cube_names_the_file(tmp_path):
    bad = tmp_path / "bad.cube"
    bad.write_text("comment\ncomment\nnot a number\n")
    with pytest.raises(ValueError, match="bad.cube"):
        read_cube(bad)
    with pytest.raises(FileNotFoundError, match="missing.cube"):
        read_cube(tmp_path / "missing.cube")
