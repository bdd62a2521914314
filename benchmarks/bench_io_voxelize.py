"""Time reading and voxelising the bundled real charge densities, with peak memory.

Measures, on this machine:

(a) pymatgen's ``Chgcar.from_file`` against ``skecd.io.read_chgcar`` on each bundled CHGCAR
    (skecd parses with pymatgen, so the difference is skecd's unit conversion and checks);
(b) voxelising each CHGCAR density at D = 32 and 60 (``frame="cell"``, cubic splines);
(c) reading + voxelising the whole ``ecd_gpaw`` set (369 ``.npz``) at D = 32 and 60, n_jobs=1.

Times are the best of ``--repeat`` runs (a, b) or one run (c). Peak memory is the peak of
Python-traced allocations (``tracemalloc``, which numpy reports to) in a separate run of the same
work, so that tracing does not slow the timed run; the process's maximum resident set size is
given at the end. The table is printed and the results saved as JSON.

Run: ``python benchmarks/bench_io_voxelize.py`` (about a minute or two on one core).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

import skecd
from skecd.io import read_chgcar
from skecd.preprocessing import ChargeDensityVoxelizer

DATA = Path(skecd.__file__).resolve().parent / "datasets" / "data"
OUT = Path(__file__).resolve().parent / "results" / "io_voxelize.json"


def best_time(func, repeat):
    """Best wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_mib(func):
    """Peak traced memory of one call, in MiB."""
    tracemalloc.start()
    try:
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def pymatgen_read(path):
    from pymatgen.io.vasp import Chgcar

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Chgcar.from_file(path)


def bench_readers(paths, repeat):
    rows = []
    for path in paths:
        rows.append(
            {
                "file": path.name,
                "grid": list(read_chgcar(path).grid_shape),
                "pymatgen_s": best_time(lambda p=path: pymatgen_read(p), repeat),
                "skecd_s": best_time(lambda p=path: read_chgcar(p), repeat),
                "pymatgen_peak_mib": peak_mib(lambda p=path: pymatgen_read(p)),
                "skecd_peak_mib": peak_mib(lambda p=path: read_chgcar(p)),
            }
        )
    return rows


def bench_voxelize(paths, sizes, repeat):
    rows = []
    for path in paths:
        density = read_chgcar(path)
        for d in sizes:
            vox = ChargeDensityVoxelizer(grid_size=d)
            rows.append(
                {
                    "file": path.name,
                    "D": d,
                    "voxelize_s": best_time(lambda v=vox: v.transform([density]), repeat),
                    "peak_mib": peak_mib(lambda v=vox: v.transform([density])),
                }
            )
    return rows


def bench_gpaw_set(paths, sizes):
    rows = []
    for d in sizes:
        vox = ChargeDensityVoxelizer(grid_size=d, n_jobs=1)
        start = time.perf_counter()
        X = vox.transform(paths)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "n_files": len(paths),
                "D": d,
                "total_s": seconds,
                "per_file_ms": 1e3 * seconds / len(paths),
                "output_mib": X.nbytes / 2**20,
                "peak_mib": peak_mib(lambda v=vox: v.transform(paths)),
            }
        )
        del X
    return rows


def print_table(results):
    print(f"\n(a) reading the bundled CHGCARs (best of {results['repeat']})")
    print(
        f"{'file':<26}{'grid':>12}{'pymatgen s':>12}{'skecd s':>10}{'pmg MiB':>10}{'skecd MiB':>11}"
    )
    for r in results["read"]:
        grid = "x".join(map(str, r["grid"]))
        print(
            f"{r['file']:<26}{grid:>12}{r['pymatgen_s']:>12.4f}{r['skecd_s']:>10.4f}"
            f"{r['pymatgen_peak_mib']:>10.1f}{r['skecd_peak_mib']:>11.1f}"
        )
    print("\n(b) voxelising one density (frame='cell', order=3)")
    print(f"{'file':<26}{'D':>4}{'seconds':>10}{'peak MiB':>10}")
    for r in results["voxelize"]:
        print(f"{r['file']:<26}{r['D']:>4}{r['voxelize_s']:>10.4f}{r['peak_mib']:>10.1f}")
    print("\n(c) reading + voxelising the ecd_gpaw set (n_jobs=1)")
    print(f"{'files':>6}{'D':>4}{'total s':>10}{'ms/file':>9}{'output MiB':>12}{'peak MiB':>10}")
    for r in results["gpaw_set"]:
        print(
            f"{r['n_files']:>6}{r['D']:>4}{r['total_s']:>10.2f}{r['per_file_ms']:>9.1f}"
            f"{r['output_mib']:>12.1f}{r['peak_mib']:>10.1f}"
        )
    print(f"\nprocess max RSS: {results['max_rss_mib']:.0f} MiB")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 60])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="use only the first LIMIT files of ecd_gpaw (default: all)",
    )
    parser.add_argument("--output", type=Path, default=OUT)
    args = parser.parse_args(argv)

    chgcars = sorted((DATA / "chgcar").glob("*.CHGCAR.gz"))
    npz = sorted((DATA / "ecd_gpaw").glob("*.npz"))[: args.limit]
    import pymatgen.core
    import scipy

    results = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pymatgen": pymatgen.core.__version__,
            "skecd": skecd.__version__,
        },
        "repeat": args.repeat,
        "read": bench_readers(chgcars, args.repeat),
        "voxelize": bench_voxelize(chgcars, args.sizes, args.repeat),
        "gpaw_set": bench_gpaw_set(npz, args.sizes),
    }
    results["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
