"""The density builder on a dask.distributed LocalCluster, and structures from CIF/POSCAR files.

The builder tests need GPAW and its PAW setups (marked ``gpaw``, like test_gpaw_builder.py).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from skecd.cli import main
from skecd.datasets import load_fcc_elastic_structures
from skecd.density import build_densities, read_structures
from skecd.io import read_gpaw_npz

distributed = pytest.importorskip("distributed")


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

# Al, LiF, SiC: 1-2 atoms, seconds each
IDS = ["mp-134", "mp-1138", "mp-1002206"]


@pytest.fixture(scope="module")
def raw():
    return load_fcc_elastic_structures()


def _records(raw, ids):
    return [{"material_id": m, "structure": raw.structures[raw.material_ids.index(m)]} for m in ids]


def test_read_structures_from_cif_poscar_and_folders(raw, tmp_path):
    folder = tmp_path / "cifs"
    folder.mkdir()
    for m in IDS[:2]:
        raw.structures[raw.material_ids.index(m)].to(filename=str(folder / f"{m}.cif"))
    poscar_dir = tmp_path / IDS[2]
    poscar_dir.mkdir()
    raw.structures[raw.material_ids.index(IDS[2])].to(filename=str(poscar_dir / "POSCAR"))
    records = read_structures(folder)
    assert [r["material_id"] for r in records] == sorted(IDS[:2])
    for r in records:
        expected = raw.structures[raw.material_ids.index(r["material_id"])]
        assert r["structure"].matches(expected)
        assert len(r["structure"]) == len(expected)
    (single,) = read_structures(poscar_dir / "POSCAR")
    assert single["material_id"] == IDS[2]
    (from_cif,) = read_structures(folder / f"{IDS[0]}.cif")
    assert from_cif["material_id"] == IDS[0]
    (folder / "notes.txt").write_text("not a structure")
    with pytest.raises(ValueError, match="notes.txt"):
        read_structures(folder)
    (folder / "bad.cif").write_text("data_x\n")
    # pymatgen's CIF parser warns about the empty file before skecd's error names it: the
    # error is what is tested, pymatgen's own warnings are expected here
    with pytest.raises(ValueError, match="bad.cif"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="pymatgen.io.cif")
        read_structures(folder / "bad.cif")
    with pytest.raises(FileNotFoundError, match="nope"):
        read_structures(tmp_path / "nope")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.gpaw
@pytest.mark.skipif(_REASON is not None, reason=str(_REASON))
def test_dask_builder_equals_serial_survives_a_killed_worker_and_resumes(
    raw, client, tmp_path, monkeypatch
):
    serial_dir, dask_dir = tmp_path / "serial", tmp_path / "dask"
    build_densities(_records(raw, IDS[:2]), serial_dir, progress=False)

    # The workers compute: the builder's own process must never run GPAW.
    import skecd.density._builder as builder

    def refuse(*args, **kwargs):
        raise AssertionError("computed in the client process, not on a dask worker")

    monkeypatch.setattr(builder, "compute_density", refuse)
    worker_pids = list(client.run(os.getpid).values())
    outcome = {}

    def run():
        try:
            outcome["manifest"] = build_densities(
                _records(raw, IDS), dask_dir, progress=False, scheduler=client
            )
        except Exception as exc:  # a KilledWorker may end the run: the rerun below resumes
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 600
    while not list(dask_dir.glob("*.npz")) and time.monotonic() < deadline:
        time.sleep(0.2)
    (first,) = list(dask_dir.glob("*.npz"))[:1]
    first_mtime = first.stat().st_mtime_ns
    os.kill(worker_pids[0], signal.SIGKILL)  # one worker dies mid-run
    thread.join(900)
    assert not thread.is_alive()
    assert first.stat().st_mtime_ns == first_mtime  # the finished material was kept
    assert worker_pids[0] not in client.run(os.getpid).values()  # the worker did die

    # A rerun resumes: finished files are not computed again.
    mtimes = {p.name: p.stat().st_mtime_ns for p in dask_dir.glob("*.npz")}
    for m in IDS:  # the rerun reads a folder of CIF files, through the CLI
        folder = tmp_path / "cifs"
        folder.mkdir(exist_ok=True)
        raw.structures[raw.material_ids.index(m)].to(filename=str(folder / f"{m}.cif"))
    address = client.scheduler.address
    assert main(["density", str(folder), "-o", str(dask_dir), "--scheduler", address]) == 0
    manifest = json.loads((dask_dir / "MANIFEST.json").read_text())
    assert manifest["counts"]["done"] == 3 and manifest["counts"]["missing"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in dask_dir.glob("*.npz")}.items() >= mtimes.items()
    assert sorted(e["material_id"] for e in manifest["done"]) == sorted(IDS)

    for m in IDS[:2]:  # identical to the serial run
        a, b = read_gpaw_npz(serial_dir / f"{m}.npz"), read_gpaw_npz(dask_dir / f"{m}.npz")
        np.testing.assert_array_equal(a.total, b.total)
        np.testing.assert_array_equal(a.structure.lattice.matrix, b.structure.lattice.matrix)
