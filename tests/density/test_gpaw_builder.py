"""GPAW reproducibility and builder tests (need GPAW and its PAW setups; .ci/run installs them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skecd.cli import main
from skecd.datasets import get_data_dir, load_fcc_elastic_structures
from skecd.io import read_gpaw_npz


def _gpaw_skip_reason():
    try:
        import gpaw
    except ImportError as exc:
        return f"GPAW is not installed ({exc}); pip install 'skecd[dft]' or run .ci/run"
    paths = [Path(p) for p in getattr(gpaw, "setup_paths", [])]
    if not any((p / "Al.PBE.gz").is_file() or (p / "Al.PBE").is_file() for p in paths):
        return "GPAW's PAW setups are not found (pip install gpaw-data or set GPAW_SETUP_PATH)"
    return None


_REASON = _gpaw_skip_reason()
pytestmark = [pytest.mark.gpaw, pytest.mark.skipif(_REASON is not None, reason=str(_REASON))]

GPAW_DIR = get_data_dir() / "ecd_gpaw"


@pytest.fixture(scope="module")
def raw():
    return load_fcc_elastic_structures()


def _relative_l1(a, b):
    return float(np.abs(a - b).sum() / np.abs(b).sum())


@pytest.mark.parametrize("material_id", ["mp-134", "mp-1138"])  # Al, LiF: 1-2 atoms, 14^3
def test_compute_density_reproduces_shipped_density(raw, material_id):
    from skecd.density import compute_density

    rho = compute_density(raw.structures[raw.material_ids.index(material_id)])
    shipped = read_gpaw_npz(GPAW_DIR / f"{material_id}.npz")
    assert rho.grid_shape == shipped.grid_shape
    np.testing.assert_allclose(rho.structure.lattice.matrix, shipped.structure.lattice.matrix)
    assert rho.total.dtype == np.float32
    assert _relative_l1(rho.total, shipped.total) < 0.01
    assert rho.metadata["n_valence"] == pytest.approx(shipped.metadata["n_valence"], rel=1e-4)
    assert rho.metadata["energy"] == pytest.approx(shipped.metadata["energy"], abs=1e-3)


def _write_records(path, raw, ids):
    records = [
        {"material_id": mid, "structure": raw.structures[raw.material_ids.index(mid)].as_dict()}
        for mid in ids
    ]
    path.write_text(json.dumps(records))


def test_cli_resumes_and_records_failures(raw, tmp_path, capsys):
    structures, out = tmp_path / "s.json", tmp_path / "out"
    # Al computes; TcB fails (GPAW has no Tc PAW setup) without stopping the run
    _write_records(structures, raw, ["mp-1002187", "mp-134"])
    out.mkdir()
    (out / "mp-134.npz.part").write_bytes(b"half-written")  # a killed write: not finished
    status = main(["density", str(structures), "-o", str(out), "-j", "2", "--no-progress"])
    assert status == 0
    assert "1 done, 1 failed" in capsys.readouterr().out
    rho = read_gpaw_npz(out / "mp-134.npz")
    shipped = read_gpaw_npz(GPAW_DIR / "mp-134.npz")
    assert _relative_l1(rho.total, shipped.total) < 0.01
    with np.load(out / "mp-134.npz") as stored:  # the builder writes the lossless lzma encoding
        assert str(stored["density_encoding"]) == "lzma"
    failures = json.loads((out / "failures.json").read_text())
    assert [f["material_id"] for f in failures] == ["mp-1002187"]
    assert "Tc" in failures[0]["error"]
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["counts"] == {
        "done": 1,
        "failed": 1,
        "skipped": 0,
        "elsewhere": 0,
        "missing": 0,
    }
    (entry,) = manifest["done"]
    assert entry["material_id"] == "mp-134" and entry["cpu"] > 0
    assert entry["shape"] == list(shipped.grid_shape)

    # second run: Al is skipped (its file is untouched), Tc keeps its recorded failure
    mtime = (out / "mp-134.npz").stat().st_mtime_ns
    assert main(["density", str(structures), "-o", str(out), "--no-progress"]) == 0
    assert (out / "mp-134.npz").stat().st_mtime_ns == mtime
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["counts"] == {
        "done": 1,
        "failed": 1,
        "skipped": 2,
        "elsewhere": 0,
        "missing": 0,
    }
    assert manifest["done"][0]["cpu"] == entry["cpu"]

    # --retry-failed tries Tc again; --existing skips a material found in another directory
    assert (
        main(
            [
                "density",
                str(structures),
                "-o",
                str(out),
                "--no-progress",
                "--retry-failed",
                "--existing",
                str(GPAW_DIR),
            ]
        )
        == 0
    )
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["counts"] == {
        "done": 0,
        "failed": 1,
        "skipped": 1,
        "elsewhere": 1,
        "missing": 0,
    }
    assert manifest["elsewhere"] == [{"material_id": "mp-134", "directory": str(GPAW_DIR)}]
