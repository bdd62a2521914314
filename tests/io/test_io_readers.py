"""skecd.io readers on the bundled real CHGCAR and GPAW files, and on broken copies of them."""

from __future__ import annotations

import bz2
import gzip
import lzma
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from pymatgen.io.vasp import Chgcar

from skecd.io import (
    ChargeDensity,
    from_volumetric_data,
    load_density,
    read_chgcar,
    read_gpaw_npz,
    write_gpaw_npz,
)

# file -> (grid from the data README, spin-polarised?, valence electrons in the cell, atoms)
# Electron counts: Li 2s1 (1 e); Si 3s2 3p2 (4 e); Fe3O4 as given in the data README
# (395 e); TiIr with the Materials Project PAW set Ti_pv (3p6 3d2 4s2, 10 e) + Ir (9 e).
BUNDLED = {
    "Li_bcc_nospin.CHGCAR.gz": ((32, 32, 32), False, 1.0, 1),
    "Li_bcc_spin.CHGCAR.gz": ((48, 48, 48), True, 1.0, 1),
    "Fe3O4.CHGCAR.gz": ((72, 72, 72), False, 395.0, 14),
    "Si_fcc.CHGCAR.gz": ((28, 28, 28), False, 4.0, 1),
    "TiIr_mp-1235.CHGCAR.gz": ((48, 48, 56), True, 19.0, 2),
}


def _text(path):
    with gzip.open(path, "rt") as fh:
        return fh.read()


def _grid_line_index(lines):
    """Index of the first grid-count line (three integers after the POSCAR block)."""
    blank = next(i for i, line in enumerate(lines) if i > 7 and not line.strip())
    return blank + 1


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_bundled_chgcar(chgcar_dir, name):
    grid, spin, electrons, atoms = BUNDLED[name]
    rho = read_chgcar(chgcar_dir / name)
    assert isinstance(rho, ChargeDensity)
    assert rho.grid_shape == grid
    assert (rho.spin is not None) == spin
    assert len(rho.structure) == atoms
    assert rho.n_electrons == pytest.approx(electrons, rel=0.01)
    assert rho.source.endswith(name)
    assert np.all(rho.total > -1.0)  # e/A^3: no stray volume factor (which would be ~10-1000x)


@pytest.mark.parametrize("name", ["Li_bcc_spin.CHGCAR.gz", "Si_fcc.CHGCAR.gz"])
def test_units_are_pymatgen_data_over_volume(chgcar_dir, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chg = Chgcar.from_file(chgcar_dir / name)
    rho = read_chgcar(chgcar_dir / name)
    assert_allclose(rho.total * rho.volume, chg.data["total"], rtol=1e-12)
    if "diff" in chg.data:
        assert_allclose(rho.spin * rho.volume, chg.data["diff"], rtol=1e-12)
    via_object = from_volumetric_data(chg)
    assert_array_equal(via_object.total, rho.total)
    assert_array_equal(load_density(chg, index=3).total, rho.total)


def test_spin_density_integrates_to_a_small_moment(chgcar_dir):
    rho = read_chgcar(chgcar_dir / "Li_bcc_spin.CHGCAR.gz")
    moment = float(np.mean(rho.spin) * rho.volume)
    assert abs(moment) < rho.n_electrons  # a moment, not a second copy of the total density
    assert not np.allclose(rho.spin, rho.total)


@pytest.mark.parametrize(
    "suffix, opener", [("", open), (".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)]
)
def test_compressed_variants(chgcar_dir, tmp_path, suffix, opener):
    text = _text(chgcar_dir / "Li_bcc_spin.CHGCAR.gz")
    path = tmp_path / f"CHGCAR{suffix}"
    with opener(path, "wt") as fh:
        fh.write(text)
    rho = load_density(path)
    reference = read_chgcar(chgcar_dir / "Li_bcc_spin.CHGCAR.gz")
    assert_array_equal(rho.total, reference.total)
    assert_array_equal(rho.spin, reference.spin)


@pytest.mark.parametrize("name", ["CHGCAR", "CHG", "AECCAR0", "AECCAR2", "PARCHG", "CHGCAR_sum"])
def test_vasp_file_names(chgcar_dir, tmp_path, name):
    (tmp_path / name).write_text(_text(chgcar_dir / "Si_fcc.CHGCAR.gz"))
    rho = load_density(tmp_path / name)
    assert rho.grid_shape == (28, 28, 28)
    assert rho.n_electrons == pytest.approx(4.0, rel=0.01)
    assert rho.source == str(tmp_path / name)


def test_gpaw_npz_reader(gpaw_paths):
    for path in gpaw_paths:
        rho = read_gpaw_npz(path)
        assert rho.n_electrons == pytest.approx(rho.metadata["n_valence"], rel=0.01)
        assert rho.source == str(path)
    co = read_gpaw_npz(gpaw_paths[-1])
    assert co.spin is not None and co.spin.shape == co.total.shape
    assert "magmom" in co.metadata


def test_npz_roundtrip(gpaw_dir, tmp_path):
    rho = read_gpaw_npz(gpaw_dir / "mp-102.npz")
    path = write_gpaw_npz(rho, tmp_path / "copy", dtype=np.float64)
    assert path.name == "copy.npz"
    back = read_gpaw_npz(path)
    assert_array_equal(back.total, rho.total)
    assert_array_equal(back.spin, rho.spin)
    assert_allclose(back.structure.lattice.matrix, rho.structure.lattice.matrix)
    assert back.metadata["n_valence"] == rho.metadata["n_valence"]


def test_chgcar_roundtrip_through_to_chgcar(gpaw_dir, tmp_path):
    rho = read_gpaw_npz(gpaw_dir / "mp-102.npz")
    rho.to_chgcar().write_file(tmp_path / "CHGCAR")
    back = read_chgcar(tmp_path / "CHGCAR")
    assert_allclose(back.total, rho.total, rtol=1e-6, atol=1e-9)
    assert_allclose(back.spin, rho.spin, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- bad input


@pytest.fixture
def si_lines(si_chgcar):
    return _text(si_chgcar).splitlines(keepends=True)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_truncated_chgcar(tmp_path, si_lines):
    path = _write(tmp_path, "truncated_CHGCAR", "".join(si_lines[: len(si_lines) // 2]))
    with pytest.raises(ValueError, match=r"truncated_CHGCAR.*Expected 21952 values"):
        read_chgcar(path)
    with pytest.raises(ValueError, match=r"sample 4: .*truncated_CHGCAR"):
        load_density(path, index=4)


def test_wrong_grid_count_line(tmp_path, si_lines):
    g = _grid_line_index(si_lines)
    assert si_lines[g].split() == ["28", "28", "28"]
    too_many = si_lines[:g] + ["   28   28   30\n"] + si_lines[g + 1 :]
    path = _write(tmp_path, "bad_grid_CHGCAR", "".join(too_many))
    with pytest.raises(ValueError, match=r"bad_grid_CHGCAR.*Expected 23520 values"):
        read_chgcar(path)
    two_numbers = si_lines[:g] + ["   28   28\n"] + si_lines[g + 1 :]
    path = _write(tmp_path, "two_numbers_CHGCAR", "".join(two_numbers))
    with pytest.raises(ValueError, match="two_numbers_CHGCAR"):
        read_chgcar(path)


def test_grid_line_declaring_too_few_points(tmp_path, si_lines):
    # pymatgen alone would read 27*28*28 values and skip the rest without a word
    g = _grid_line_index(si_lines)
    too_few = si_lines[:g] + ["   27   28   28\n"] + si_lines[g + 1 :]
    path = _write(tmp_path, "few_points_CHGCAR", "".join(too_few))
    with pytest.raises(ValueError, match=r"few_points_CHGCAR.*21168 points.*21952 values"):
        read_chgcar(path)


def test_header_only_and_empty_files(tmp_path, si_lines):
    g = _grid_line_index(si_lines)
    for name, text in [
        ("header_CHGCAR", "".join(si_lines[:g])),
        ("header_grid_CHGCAR", "".join(si_lines[: g + 1])),
        ("empty_CHGCAR", ""),
    ]:
        path = _write(tmp_path, name, text)
        with pytest.raises(ValueError, match=name):
            read_chgcar(path)


def test_non_existent_path(tmp_path):
    for name in ("missing_CHGCAR", "missing.npz"):
        with pytest.raises(FileNotFoundError, match=name):
            load_density(tmp_path / name)
        with pytest.raises(FileNotFoundError, match=rf"sample 2: .*{name}"):
            load_density(str(tmp_path / name), index=2)


def test_npz_with_nan_in_grid(gpaw_dir, tmp_path):
    arrays = dict(np.load(gpaw_dir / "mp-1138.npz"))
    arrays["density"][1, 2, 3] = np.nan
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(ValueError, match=r"1 non-finite .*nan\.npz"):
        read_gpaw_npz(tmp_path / "nan.npz")
    with pytest.raises(ValueError, match=r"sample 0: .*nan\.npz"):
        load_density(tmp_path / "nan.npz", index=0)


def test_npz_missing_arrays_or_not_an_npz(gpaw_dir, tmp_path):
    arrays = dict(np.load(gpaw_dir / "mp-1138.npz"))
    del arrays["lattice"], arrays["species"]
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(ValueError, match=r"partial\.npz.*\['lattice', 'species'\]"):
        read_gpaw_npz(tmp_path / "partial.npz")
    (tmp_path / "garbage.npz").write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match=r"garbage\.npz"):
        read_gpaw_npz(tmp_path / "garbage.npz")


def test_npz_with_wrong_grid_rank(gpaw_dir, tmp_path):
    arrays = dict(np.load(gpaw_dir / "mp-1138.npz"))
    arrays["density"] = arrays["density"][0]
    np.savez(tmp_path / "flat.npz", **arrays)
    with pytest.raises(ValueError, match=r"3D grid.*flat\.npz"):
        read_gpaw_npz(tmp_path / "flat.npz")


@pytest.mark.parametrize("obj", [3.0, np.ones((4, 4, 4)), {"total": 1}, None])
def test_wrong_object_type(obj):
    with pytest.raises(TypeError, match=r"sample 5: expected a ChargeDensity"):
        load_density(obj, index=5)
