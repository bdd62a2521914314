"""Tests of the bundled dataset loaders, on the real bundled files."""

from __future__ import annotations

import gzip
import json
import re
import time

import numpy as np
import pytest
from pymatgen.core import Structure

from skecd.datasets import (
    get_data_dir,
    get_sample_chgcar_paths,
    load_fcc_elastic,
    load_fcc_elastic_structures,
)
from skecd.io import ChargeDensity, read_chgcar, read_gpaw_npz, write_gpaw_npz

DATA_BUDGET_BYTES = 25 * 1024**2


@pytest.fixture(scope="module")
def fcc():
    return load_fcc_elastic()


@pytest.fixture(scope="module")
def manifest():
    return json.loads((get_data_dir() / "ecd_gpaw" / "MANIFEST.json").read_text())


@pytest.fixture(scope="module")
def records():
    with gzip.open(get_data_dir() / "fcc_fm3m_elastic.json.gz", "rt") as fh:
        return json.load(fh)


def test_package_data_within_budget():
    files = [p for p in get_data_dir().rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert total < DATA_BUDGET_BYTES, f"bundled data take {total / 1024**2:.1f} MB"


def test_load_fcc_elastic_returns_every_material_with_a_density(fcc, records, manifest):
    npz_ids = {p.stem for p in (get_data_dir() / "ecd_gpaw").glob("*.npz")}
    assert set(fcc.material_ids) == npz_ids
    assert len(fcc.material_ids) == manifest["counts"]["done"] == len(fcc.data)
    # every material of the labelled set is either loaded or listed as excluded
    assert set(fcc.material_ids) | set(fcc.excluded) == {r["material_id"] for r in records}
    assert set(fcc.excluded) == {f["material_id"] for f in manifest["failed"]}
    assert all(isinstance(rho, ChargeDensity) for rho in fcc.data)
    assert fcc.target.shape == (len(fcc.data), 2) and fcc.target.dtype == np.float64
    assert fcc.target_names == ["K_VRH", "G_VRH"]
    assert [p.stem for p in fcc.filenames] == fcc.material_ids


def test_load_fcc_elastic_labels_match_records(fcc, records):
    by_id = {r["material_id"]: r for r in records}
    for i, mid in enumerate(fcc.material_ids):
        assert fcc.target[i].tolist() == [by_id[mid]["K_VRH"], by_id[mid]["G_VRH"]]
        assert fcc.formulas[i] == by_id[mid]["formula"]
        assert isinstance(fcc.structures[i], Structure)
        # the density's primitive cell holds the same compound as the MP structure
        assert (
            fcc.data[i].structure.composition.reduced_composition
            == fcc.structures[i].composition.reduced_composition
        ), mid


def test_load_fcc_elastic_descr_names_provenance_settings_and_exclusions(fcc, manifest):
    for mid in fcc.excluded:
        assert mid in fcc.DESCR
    for text in ["CC BY 4.0", "de Jong", "matcalc", "PW(400 eV)", "FermiDirac(0.1 eV)"]:
        assert text in fcc.DESCR
    assert f"gpaw {manifest['code']['gpaw']}" in fcc.DESCR
    assert fcc.DESCR.startswith("Fm-3m elastic moduli")
    assert f"{len(fcc.data)} materials" in fcc.DESCR


def test_load_fcc_elastic_return_X_y(fcc):
    X, y = load_fcc_elastic(return_X_y=True)
    assert len(X) == len(fcc.data)
    np.testing.assert_array_equal(y, fcc.target)
    np.testing.assert_array_equal(X[0].total, fcc.data[0].total)


def test_load_fcc_elastic_takes_seconds():
    start = time.perf_counter()
    load_fcc_elastic()
    assert time.perf_counter() - start < 30


def test_densities_integrate_to_their_valence_count(fcc, manifest):
    nval = {e["material_id"]: e["nval"] for e in manifest["done"]}
    for mid, rho in zip(fcc.material_ids, fcc.data):
        n_valence = rho.metadata["n_valence"]
        assert abs(rho.n_electrons - n_valence) <= 0.005 * n_valence, mid
        assert n_valence == pytest.approx(nval[mid], rel=1e-9), mid
        # a whole number of valence electrons per cell
        assert abs(n_valence - round(n_valence)) < 0.005 * n_valence, mid


def _paw_valence(setup_dir, symbol):
    with gzip.open(setup_dir / f"{symbol}.PBE.gz", "rt") as fh:
        head = fh.read(2000)
    return float(re.search(r'<atom [^>]*valence="([0-9.]+)"', head).group(1))


@pytest.mark.gpaw
def test_valence_count_is_sum_of_paw_valences(fcc):
    gpaw_data = pytest.importorskip(
        "gpaw_data", reason="gpaw-data (GPAW's PAW setups) is not installed"
    )
    setup_dir = gpaw_data.datapath()
    valence = {}
    for mid, rho in zip(fcc.material_ids, fcc.data):
        expected = 0.0
        for site in rho.structure:
            symbol = site.specie.symbol
            if symbol not in valence:
                valence[symbol] = _paw_valence(setup_dir, symbol)
            expected += valence[symbol]
        assert rho.metadata["n_valence"] == pytest.approx(expected, rel=1e-4), mid


def test_bundled_densities_are_lossless_float32_and_round_trip(fcc, tmp_path):
    for mid, rho in zip(fcc.material_ids, fcc.data):
        assert rho.total.dtype == np.float32, mid
        out = read_gpaw_npz(write_gpaw_npz(rho, tmp_path / mid))
        with (
            np.load(get_data_dir() / "ecd_gpaw" / f"{mid}.npz") as original,
            np.load(tmp_path / f"{mid}.npz") as rewritten,
        ):
            assert sorted(original.files) == sorted(rewritten.files), mid
            for key in original.files:
                a, b = original[key], rewritten[key]
                assert a.dtype == b.dtype and a.shape == b.shape, (mid, key)
                assert a.tobytes() == b.tobytes(), (mid, key)
        assert out.structure == rho.structure


def test_load_fcc_elastic_structures(records):
    raw = load_fcc_elastic_structures()
    assert len(raw.structures) == len(records) == raw.target.shape[0]
    assert raw.material_ids == [r["material_id"] for r in records]
    assert len(set(raw.material_ids)) == len(raw.material_ids)
    assert raw.target[:, 0].tolist() == [r["K_VRH"] for r in records]
    assert all(s.get_space_group_info(symprec=0.1)[1] == 225 for s in raw.structures[:20])
    assert raw.filename.is_file() and "CC BY 4.0" in raw.DESCR
    structures, target = load_fcc_elastic_structures(return_X_y=True)
    assert structures[0] == raw.structures[0]
    np.testing.assert_array_equal(target, raw.target)


def test_get_sample_chgcar_paths():
    paths = get_sample_chgcar_paths()
    assert set(paths) == {
        "Fe3O4",
        "Li_bcc_nospin",
        "Li_bcc_spin",
        "Si_fcc",
        "TiIr_mp-1235",
    }
    rho = read_chgcar(paths["Si_fcc"])
    assert rho.n_electrons == pytest.approx(4.0, rel=1e-3)


def test_load_fcc_elastic_names_a_missing_density_file(tmp_path, monkeypatch):
    from skecd.datasets import _base

    data = tmp_path / "data"
    (data / "ecd_gpaw").mkdir(parents=True)
    for name in ["README.md", "fcc_fm3m_elastic.json.gz", "ecd_gpaw/MANIFEST.json"]:
        (data / name).write_bytes((get_data_dir() / name).read_bytes())
    for npz in (get_data_dir() / "ecd_gpaw").glob("*.npz"):
        if npz.stem != "mp-134":  # Al goes missing without being listed as failed
            (data / "ecd_gpaw" / npz.name).symlink_to(npz)
    monkeypatch.setattr(_base, "_DATA_DIR", data)
    with pytest.raises(FileNotFoundError, match=r"mp-134 \(Al\) is missing: .*mp-134\.npz"):
        load_fcc_elastic()
