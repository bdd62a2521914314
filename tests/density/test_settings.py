"""Tests of the density settings, spin logic, records reader and CLI that need no GPAW."""

from __future__ import annotations

import gzip
import json
import sys

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from skecd.cli import build_parser
from skecd.datasets import get_data_dir, load_fcc_elastic_structures
from skecd.density import (
    GPAW_SETTINGS,
    build_densities,
    compute_density,
    describe_settings,
    initial_magnetic_moments,
    primitive_standard_cell,
    read_structure_records,
)
from skecd.io import read_gpaw_npz

GPAW_DIR = get_data_dir() / "ecd_gpaw"


@pytest.fixture(scope="module")
def manifest():
    return json.loads((GPAW_DIR / "MANIFEST.json").read_text())


def test_settings_are_those_recorded_in_the_data_manifest(manifest):
    assert describe_settings() == manifest["settings"]


def test_describe_settings_follows_the_settings():
    changed = {**GPAW_SETTINGS, "ecut": 500.0, "initial_magmoms": {"Fe": 5.0}}
    text = describe_settings(changed)
    assert text["mode"] == "PW(500 eV)"
    assert "initial moments Fe 5 (" in text["spin"]


def test_spin_polarised_exactly_when_a_magnetic_element_is_present(manifest):
    n_spin = 0
    for entry in manifest["done"]:
        rho = read_gpaw_npz(GPAW_DIR / f"{entry['material_id']}.npz")
        moments = initial_magnetic_moments(rho.structure)
        assert (moments is not None) == entry["spin"] == (rho.spin is not None), entry
        n_spin += entry["spin"]
    assert 0 < n_spin < len(manifest["done"])


def test_initial_magnetic_moments_per_site():
    s = Structure(Lattice.cubic(4.2), ["Mn", "O", "V"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0]])
    np.testing.assert_array_equal(initial_magnetic_moments(s), [4.0, 0.0, 2.0])
    assert initial_magnetic_moments(Structure(Lattice.cubic(5), ["Na"], [[0, 0, 0]])) is None


def test_primitive_standard_cell_is_the_cell_of_the_shipped_densities():
    raw = load_fcc_elastic_structures()
    # a sample (the symmetry analysis of all 371 takes tens of seconds)
    ids = ["mp-134", "mp-30", "mp-1138", "mp-102", "mp-1000", "mp-12608", "mp-1002206"]
    for mid in ids:
        cell = primitive_standard_cell(raw.structures[raw.material_ids.index(mid)])
        shipped = read_gpaw_npz(GPAW_DIR / f"{mid}.npz").structure
        np.testing.assert_allclose(cell.lattice.matrix, shipped.lattice.matrix, atol=1e-8)
        assert [s.symbol for s in cell.species] == [s.symbol for s in shipped.species], mid
        diff = cell.frac_coords - shipped.frac_coords
        np.testing.assert_allclose(diff - np.round(diff), 0.0, atol=1e-8)  # same sites mod 1


def test_primitive_standard_cell_rejects_non_structures():
    with pytest.raises(TypeError, match="pymatgen Structure"):
        primitive_standard_cell("Al")


def test_missing_gpaw_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "gpaw", None)  # makes `import gpaw` fail
    al = Structure(Lattice.cubic(4.04), ["Al"], [[0, 0, 0]])
    with pytest.raises(ImportError, match=r"pip install 'skecd\[dft\]'"):
        compute_density(al)
    with pytest.raises(ImportError, match="GPAW_CONFIG"):
        build_densities([], "unused")


def _write_records(path, records):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt") as fh:
        json.dump(records, fh)


def test_read_structure_records_plain_and_gzipped(tmp_path):
    al = Structure(Lattice.cubic(4.04), ["Al"], [[0, 0, 0]])
    recs = [{"material_id": "al", "structure": al.as_dict(), "K_VRH": 1.0}]
    for name in ["s.json", "s.json.gz"]:
        _write_records(tmp_path / name, recs)
        out = read_structure_records(tmp_path / name)
        assert [r["material_id"] for r in out] == ["al"]
        assert out[0]["structure"] == al
    bundled = read_structure_records(get_data_dir() / "fcc_fm3m_elastic.json.gz")
    assert len(bundled) == 371


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"structure": {}}, r"record 1: needs the keys"),
        ({"material_id": "../x", "structure": {}}, r"record 1: material_id '../x' cannot name"),
        ({"material_id": "al", "structure": {}}, r"record 1: material_id 'al' appears twice"),
        ({"material_id": "b", "structure": {"x": 1}}, r"record 1 \(b\): invalid structure"),
    ],
)
def test_read_structure_records_names_the_bad_record(tmp_path, bad, match):
    al = Structure(Lattice.cubic(4.04), ["Al"], [[0, 0, 0]])
    path = tmp_path / "s.json"
    _write_records(path, [{"material_id": "al", "structure": al.as_dict()}, bad])
    with pytest.raises(ValueError, match=match) as info:
        read_structure_records(path)
    assert str(path) in str(info.value)


def test_read_structure_records_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        read_structure_records(tmp_path / "nope.json")


def test_density_subcommand_is_registered():
    args = build_parser().parse_args(["density", "s.json", "-o", "out", "--n-jobs", "3"])
    assert (args.structures, args.outdir, args.n_jobs) == ("s.json", "out", 3)
    assert callable(args.func)
