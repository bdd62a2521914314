"""Size and fidelity of the storage encodings of GPAW densities (``skecd.io.DENSITY_ENCODINGS``).

For each density (the bundled Fm-3m set and the first ``--n-extended`` files, by name, of the
extended set of a source checkout) and each encoding, the density is written with
``write_gpaw_npz(..., encoding=...)`` to a scratch directory and read back with
``read_gpaw_npz``. Measured:

- bytes per density: the file size, mean over the densities (and the files as stored);
- whether the grids read back are bitwise those written (the lossless encodings);
- the change of the model inputs: voxels (``ChargeDensityVoxelizer()`` at its defaults),
  ``ChargeDensityDescriptor()`` and ``LocalDensityFeaturizer()`` features, computed on the
  original and the decoded densities. For voxels, per density: the largest change over the
  density's largest voxel, and the relative L2 change; for features, per entry: the change over
  the entry's own value (entries of magnitude above 1e-12) and over the feature's range across
  the densities. Encodings whose grids are bitwise equal are not featurised again (the
  featurisers are deterministic: the change is exactly zero). The local features cost about
  a CPU second per density, so they are computed on ``--n-local`` densities evenly spaced
  over the list (the others on all);
- the change of the electron count (``ChargeDensity.n_electrons``) and, for spin-polarised
  densities, of the magnetisation (integral of the spin density).

Run (one core): ``OMP_NUM_THREADS=1 python benchmarks/bench_encoding.py``; writes
``benchmarks/results/encoding.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import skecd
from skecd.datasets import get_data_dir
from skecd.io import DENSITY_ENCODINGS, read_gpaw_npz, write_gpaw_npz
from skecd.preprocessing import (
    ChargeDensityDescriptor,
    ChargeDensityVoxelizer,
    LocalDensityFeaturizer,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "results" / "encoding.json"


def _files(n_extended, extended_dir):
    bundled = sorted((get_data_dir() / "ecd_gpaw").glob("*.npz"))
    extended = sorted(Path(extended_dir).glob("*.npz"))[:n_extended]
    return {"bundled": bundled, "extended": extended}


def _magnetisation(density):
    if density.spin is None:
        return None
    return float(np.mean(density.spin, dtype=np.float64) * density.volume)


def _stats(values):
    values = np.asarray(values, dtype=np.float64)
    return {"max": float(values.max()), "mean": float(values.mean())}


def _voxel_change(before, after):
    over_peak, l2 = [], []
    for a, b in zip(before, after):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        over_peak.append(np.abs(b - a).max() / np.abs(a).max())
        l2.append(np.linalg.norm(b - a) / np.linalg.norm(a))
    return {"change_over_peak": _stats(over_peak), "relative_l2": _stats(l2)}


def _feature_change(before, after):
    a = np.asarray(before, np.float64).reshape(len(before), -1)
    b = np.asarray(after, np.float64).reshape(len(after), -1)
    diff = np.abs(b - a)
    nonzero = np.abs(a) > 1e-12
    span = a.max(axis=0) - a.min(axis=0)
    varying = np.broadcast_to(span > 0, a.shape)
    over_range = diff[varying] / np.broadcast_to(span, a.shape)[varying]
    return {
        "relative": _stats(diff[nonzero] / np.abs(a[nonzero])),
        "over_feature_range": _stats(over_range),
        "max_abs": float(diff.max()),
        "n_entries": int(a.size),
    }


def _featurisers():
    return {
        "voxels": ChargeDensityVoxelizer(),
        "descriptor": ChargeDensityDescriptor(),
        "local_density": LocalDensityFeaturizer(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-extended", type=int, default=200)
    parser.add_argument("--extended-dir", default=ROOT / "data" / "ecd_gpaw_extended")
    parser.add_argument("--out", default=OUT)
    parser.add_argument(
        "--n-local", type=int, default=60, help="densities the local features are compared on"
    )
    args = parser.parse_args(argv)

    files = _files(args.n_extended, args.extended_dir)
    paths = [p for group in files.values() for p in group]
    print(f"{len(files['bundled'])} bundled + {len(files['extended'])} extended densities")
    originals = [read_gpaw_npz(p) for p in paths]
    stored = np.array([p.stat().st_size for p in paths])
    result = {
        "n_densities": {k: len(v) for k, v in files.items()},
        "grid_points": _stats([d.total.size for d in originals]),
        "n_spin_polarised": sum(d.spin is not None for d in originals),
        "encodings": {},
        "featurisers": {name: repr(f) for name, f in _featurisers().items()},
        "skecd_version": skecd.__version__,
        "python": sys.version.split()[0],
        "machine": platform.platform(),
    }
    n_bundled = len(files["bundled"])
    result["stored_files_bytes_per_density"] = {
        "bundled": float(stored[:n_bundled].mean()),
        "extended": float(stored[n_bundled:].mean()) if len(stored) > n_bundled else None,
        "all": float(stored.mean()),
    }
    n_local = min(args.n_local, len(originals))
    rows = {name: np.arange(len(originals)) for name in _featurisers()}
    rows["local_density"] = np.unique(np.linspace(0, len(originals) - 1, n_local).round())
    rows["local_density"] = rows["local_density"].astype(int)
    result["n_densities_featurised"] = {name: len(r) for name, r in rows.items()}
    reference = {}
    for name, featuriser in _featurisers().items():
        start = time.perf_counter()
        reference[name] = featuriser.fit_transform([originals[i] for i in rows[name]])
        print(f"features {name} of the originals: {time.perf_counter() - start:.0f} s")
    with tempfile.TemporaryDirectory() as scratch:
        for encoding in DENSITY_ENCODINGS:
            sizes, decoded, write_s, read_s = [], [], 0.0, 0.0
            for i, density in enumerate(originals):
                start = time.perf_counter()
                path = write_gpaw_npz(density, Path(scratch) / f"{encoding}-{i}", encoding=encoding)
                write_s += time.perf_counter() - start
                sizes.append(path.stat().st_size)
                start = time.perf_counter()
                decoded.append(read_gpaw_npz(path))
                read_s += time.perf_counter() - start
            sizes = np.array(sizes)
            bitwise = all(
                np.array_equal(a.total, b.total)
                and (a.spin is None or np.array_equal(a.spin, b.spin))
                for a, b in zip(originals, decoded)
            )
            electrons = [(a.n_electrons, b.n_electrons) for a, b in zip(originals, decoded)]
            magnet = [
                (_magnetisation(a), _magnetisation(b))
                for a, b in zip(originals, decoded)
                if a.spin is not None
            ]
            entry = {
                "bytes_per_density": {
                    "bundled": float(sizes[:n_bundled].mean()),
                    "extended": float(sizes[n_bundled:].mean()) if len(sizes) > n_bundled else None,
                    "all": float(sizes.mean()),
                },
                "ratio_to_deflate": None,
                "write_seconds_per_density": write_s / len(originals),
                "read_seconds_per_density": read_s / len(originals),
                "bitwise_identical_grids": bitwise,
                "electron_count_change": {
                    "relative": _stats([abs(b - a) / a for a, b in electrons]),
                    "absolute_max": float(max(abs(b - a) for a, b in electrons)),
                },
                "magnetisation_change_absolute": (
                    _stats([abs(b - a) for a, b in magnet]) if magnet else None
                ),
            }
            if bitwise:
                entry["model_inputs"] = "unchanged (bitwise identical grids)"
            else:
                entry["model_inputs"] = {}
                for name, featuriser in _featurisers().items():
                    after = featuriser.fit_transform([decoded[i] for i in rows[name]])
                    change = (_voxel_change if name == "voxels" else _feature_change)(
                        reference[name], after
                    )
                    entry["model_inputs"][name] = change
            result["encodings"][encoding] = entry
            print(encoding, json.dumps(entry["bytes_per_density"]), "bitwise:", bitwise)
    base = result["encodings"]["deflate"]["bytes_per_density"]["all"]
    for entry in result["encodings"].values():
        entry["ratio_to_deflate"] = entry["bytes_per_density"]["all"] / base
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result["encodings"], indent=1))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
