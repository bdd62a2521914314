"""The sample layer: one check of a list of samples, one reader of structure and composition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skecd.io import (
    check_samples,
    load_density,
    read_chgcar,
    read_composition,
    read_gpaw_npz,
    read_structure,
)


def test_structure_is_the_same_from_every_kind_of_sample(gpaw_dir, si_chgcar):
    path = gpaw_dir / "mp-1138.npz"
    rho = read_gpaw_npz(path)
    for sample in (path, str(path), rho, rho.to_chgcar(), rho.structure, rho.structure.as_dict()):
        s = read_structure(sample, 0)
        assert s.composition.reduced_formula == "LiF"
        assert np.allclose(s.lattice.matrix, rho.structure.lattice.matrix)
        assert np.allclose(s.frac_coords, rho.structure.frac_coords)
    # a VASP file: from its header only, equal to the full read
    full = read_chgcar(si_chgcar).structure
    assert read_structure(si_chgcar) == full


def test_composition_from_formula_file_and_objects(gpaw_dir, si_chgcar):
    path = gpaw_dir / "mp-1138.npz"
    assert read_composition("LiF") == read_composition(path) == read_composition(load_density(path))
    assert read_composition(si_chgcar).reduced_formula == "Si"
    assert read_composition({"Na": 1, "Cl": 1}).reduced_formula == "NaCl"


def test_errors_name_the_sample(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"groups\[2\]: no such file"):
        read_structure(tmp_path / "missing.npz", where="groups[2]")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"sample 4: could not read .*bad\.npz"):
        read_composition(bad, 4)
    with pytest.raises(ValueError, match=r"sample 1: 'Na\)Cl' is neither an existing file"):
        read_composition("Na)Cl", 1)
    with pytest.raises(TypeError, match="sample 3: expected a pymatgen Structure"):
        read_structure(3.0, 3)


@pytest.mark.parametrize(
    "X, kind, error, match",
    [
        ("CHGCAR", "density", TypeError, "wrap it in a list"),
        ([], "density", ValueError, "X is empty"),
        (np.zeros((3, 2), dtype=object), "structure", ValueError, r"1D sequence .*\(3, 2\)"),
        (["a.npz", 1.5], "density", TypeError, "sample 1: expected a ChargeDensity"),
        (["NaCl", None], "composition", TypeError, "sample 1: expected a formula"),
        ([["NaCl", "KCl"]], "composition", ValueError, "row 0 has 2 entries"),
        (3, "density", TypeError, "X must be a list of densities"),
    ],
)
def test_check_samples_errors(X, kind, error, match):
    with pytest.raises(error, match=match):
        check_samples(X, kind=kind)


def test_check_samples_accepts_columns_and_series():
    expected = ["NaCl", "Si"]
    for X in (
        expected,
        tuple(expected),
        np.array(expected),
        np.array(expected)[:, None],
        pd.Series(expected),
        pd.DataFrame({"f": expected}),
        [["NaCl"], ["Si"]],
    ):
        assert [str(s) for s in check_samples(X, kind="composition")] == expected
