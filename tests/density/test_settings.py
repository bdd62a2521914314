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
        (
            {"material_id": "b", "structure": {"x": 1}},
            r"record 1 \(b\): not a pymatgen Structure dict",
        ),
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


def test_estimated_cost_follows_the_recorded_cpu_time(manifest):
    """On real builds (the bundled manifest's CPU seconds) the estimate ranks the cost."""
    from skecd.density import estimated_cost

    raw = load_fcc_elastic_structures()
    cpu = {e["material_id"]: e["cpu"] for e in manifest["done"]}
    pairs = [(s, cpu[i]) for s, i in zip(raw.structures, raw.material_ids) if i in cpu][:40]
    estimate = np.log([estimated_cost(s) for s, _ in pairs])
    seconds = np.log([c for _, c in pairs])
    assert np.corrcoef(estimate, seconds)[0, 1] > 0.6  # 0.85 measured on the first 60


def test_estimated_cost_charges_spin_and_size():
    from skecd.density import estimated_cost
    from skecd.density._settings import SPIN_COST_FACTOR

    fcc = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    cu = Structure(Lattice.cubic(3.6), ["Cu"] * 4, fcc)
    ni = Structure(Lattice.cubic(3.6), ["Ni"] * 4, fcc)  # same cell, spin-polarised
    assert estimated_cost(ni) == pytest.approx(SPIN_COST_FACTOR * estimated_cost(cu))
    # a supercell is the same crystal: its primitive standard cell, the same cost
    assert estimated_cost(cu * (2, 1, 1)) == pytest.approx(estimated_cost(cu))
    # a low-symmetry cell of more atoms costs more
    tri = Structure(
        Lattice.from_parameters(4.1, 4.6, 5.2, 80, 95, 103),
        ["Cu", "Cu", "Al"],
        [[0, 0, 0], [0.31, 0.42, 0.13], [0.62, 0.17, 0.71]],
    )
    assert estimated_cost(tri) > 5 * estimated_cost(cu)


@pytest.mark.parametrize("order", ["file", "cost"])
def test_build_order_gives_the_cheapest_first_on_request(tmp_path, monkeypatch, order):
    from skecd.density import _builder, estimated_cost

    fcc = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    records = [
        {"material_id": "ni", "structure": Structure(Lattice.cubic(3.5), ["Ni"] * 4, fcc)},
        {
            "material_id": "tri",
            "structure": Structure(
                Lattice.from_parameters(4.1, 4.6, 5.2, 80, 95, 103),
                ["Cu", "Cu", "Al"],
                [[0, 0, 0], [0.31, 0.42, 0.13], [0.62, 0.17, 0.71]],
            ),
        },
        {"material_id": "al", "structure": Structure(Lattice.cubic(4.04), ["Al"] * 4, fcc)},
    ]
    seen = []

    def not_computed(material_id, structure, outdir, log_dir):
        seen.append(material_id)
        return {"material_id": material_id, "formula": "X", "error": "RuntimeError: test"}

    monkeypatch.setattr(_builder, "import_gpaw", lambda: None)
    monkeypatch.setattr(_builder, "_compute_and_write", not_computed)
    manifest = build_densities(records, tmp_path, n_jobs=1, progress=False, order=order)
    by_cost = sorted(records, key=lambda r: estimated_cost(r["structure"]))
    expected = records if order == "file" else by_cost
    assert seen == [r["material_id"] for r in expected]
    assert [r["material_id"] for r in by_cost] == ["al", "ni", "tri"]
    assert manifest["counts"]["failed"] == 3  # every material accounted for


def test_cost_order_puts_an_unanalysable_structure_last(tmp_path, monkeypatch):
    from skecd.density import _builder

    fcc = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    records = [
        {"material_id": m, "structure": Structure(Lattice.cubic(a), ["Al"] * 4, fcc)}
        for m, a in (("bad", 4.0), ("big", 5.0), ("small", 4.04))
    ]
    real = _builder.estimated_cost

    def cost(structure):
        if structure is records[0]["structure"]:
            raise RuntimeError("spglib failed")
        return real(structure)

    seen = []
    monkeypatch.setattr(_builder, "estimated_cost", cost)
    monkeypatch.setattr(_builder, "import_gpaw", lambda: None)
    monkeypatch.setattr(
        _builder,
        "_compute_and_write",
        lambda mid, *a: seen.append(mid) or {"material_id": mid, "formula": "Al", "error": "E: x"},
    )
    build_densities(records, tmp_path, n_jobs=1, progress=False, order="cost")
    assert seen == ["small", "big", "bad"]


def test_build_order_must_be_known(tmp_path):
    with pytest.raises(ValueError, match="order must be 'file' or 'cost', got 'size'"):
        build_densities([], tmp_path, order="size")


def test_cli_order_option(capsys):
    args = build_parser().parse_args(["density", "s.json", "-o", "out", "--order", "cost"])
    assert args.order == "cost"
    assert build_parser().parse_args(["density", "s.json", "-o", "out"]).order == "file"
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["density", "s.json", "-o", "out", "--order", "size"])
    assert exc.value.code == 2
    assert "invalid choice: 'size'" in capsys.readouterr().err
