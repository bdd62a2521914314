"""Scale benchmark: voxelise N CHGCAR files into the on-disk cache and train the 3D CNN from it.

For each N (default 369, 2,000 and 10,000) this

1. writes N VASP CHGCAR files with pymatgen (``ChargeDensity.to_chgcar``): the 369 bundled GPAW
   densities, repeated in order to reach N (file ``i`` holds bundled density ``i mod 369``), so
   every file is real data but the set holds only 369 distinct densities;
2. voxelises them at D^3 (default 60^3, ``frame="cell"``) with
   :func:`skecd.preprocessing.voxelize_to_cache` into one ``.npy`` cache;
3. trains :class:`skecd.models.ECD3DCNNRegressor` (the paper's widths, batch 32) for one epoch
   from the cache (a :class:`~skecd.preprocessing.VoxelArray`, read sample by sample), on K_VRH.

Steps 2 and 3 run each in a fresh child process; the parent samples, every 0.2 s with psutil, the
resident set size (RSS) summed over the child and all its descendants (joblib workers included),
and the child reports its own ``ru_maxrss``. Wall time of each step, both peaks and the disk used
by the cache file (allocated blocks) are saved, one record per N, in the JSON output; an N whose
record exists is skipped, and the CHGCAR files and the cache are resumed, so the command can be
killed and run again.

Run (hours at N = 10,000 on two cores; keep WORKDIR outside the repository)::

    nice -n 10 python benchmarks/bench_scale.py --workdir WORKDIR --n 369 2000 10000

With ``--replicated`` the N-row training input is made by copying the rows of the N = 369 cache
(row i = row ``i mod 369``, exactly what voxelising file i gives) and only step 3 is measured;
those records are keyed ``N@D-replicated``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "scale.json"


def _chgcar_paths(workdir, n):
    from skecd.datasets import get_data_dir

    sources = sorted((get_data_dir() / "ecd_gpaw").glob("mp-*.npz"))
    folder = Path(workdir) / "chgcar"
    return [folder / f"{i:05d}_{sources[i % len(sources)].stem}.vasp" for i in range(n)], sources


def prepare(workdir, n):
    """Write the first ``n`` CHGCAR files (those already there are kept)."""
    from skecd.io import read_gpaw_npz

    paths, sources = _chgcar_paths(workdir, n)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    written = 0
    for i, path in enumerate(paths):
        if path.is_file():
            continue
        written += 1
        tmp = path.with_name(path.name + ".part")
        read_gpaw_npz(sources[i % len(sources)]).to_chgcar().write_file(str(tmp))
        os.replace(tmp, path)  # a killed run leaves no half-written CHGCAR
    return paths, written


def _targets(paths):
    from skecd.datasets import load_fcc_elastic

    data = load_fcc_elastic()
    k_vrh = dict(zip(data.material_ids, data.target[:, 0]))
    return [float(k_vrh[p.stem.split("_", 1)[1]]) for p in paths]


def step_voxelize(args):
    from skecd.preprocessing import ChargeDensityVoxelizer, voxelize_to_cache

    paths, _ = _chgcar_paths(args.workdir, args.n[0])
    vox = ChargeDensityVoxelizer(grid_size=args.grid_size, n_jobs=args.n_jobs)
    cache = voxelize_to_cache(vox, paths, Path(args.workdir) / "cache", chunk_size=args.chunk_size)
    return {"cache": cache.path.name, "shape": list(cache.shape)}


def step_replicate(args):
    """Write an N-row cache whose row i is row ``i mod 369`` of the cache of the first 369 files.

    File i holds bundled density ``i mod 369``, so these rows are exactly what voxelising the N
    files gives; this makes the N-row training input without N voxelisations.
    """
    from skecd.preprocessing import ChargeDensityVoxelizer, VoxelArray, voxelize_to_cache

    paths, sources = _chgcar_paths(args.workdir, len(_chgcar_paths(args.workdir, 1)[1]))
    vox = ChargeDensityVoxelizer(grid_size=args.grid_size)
    base = voxelize_to_cache(vox, paths, Path(args.workdir) / "cache")  # the N=369 cache
    out = _replicated_path(args)
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.with_name(out.name + ".part.npy")
        shape = (args.n[0], *base.shape[1:])
        import numpy as np

        np.lib.format.open_memmap(part, mode="w+", dtype=np.float32, shape=shape)
        offset = VoxelArray(part)._offset
        with open(part, "r+b") as fh:
            fh.seek(offset)
            for i in range(args.n[0]):
                fh.write(base[i % len(base)].tobytes())
        os.replace(part, out)
    return {"cache": out.name, "shape": list(VoxelArray(out).shape), "replicated": True}


def _replicated_path(args):
    return Path(args.workdir) / "cache_replicated" / f"n{args.n[0]}_d{args.grid_size}.npy"


def step_train(args):
    import numpy as np

    from skecd.models import ECD3DCNNRegressor
    from skecd.preprocessing import ChargeDensityVoxelizer, VoxelArray, voxelize_to_cache

    paths, _ = _chgcar_paths(args.workdir, args.n[0])
    if args.replicated:
        cache = VoxelArray(_replicated_path(args))
    else:
        vox = ChargeDensityVoxelizer(grid_size=args.grid_size)
        cache = voxelize_to_cache(vox, paths, Path(args.workdir) / "cache")  # complete: opens it
    y = np.asarray(_targets(paths))
    from skorch.callbacks import Callback

    progress = Path(args.workdir) / f"progress_train_{args.n[0]}.json"

    class _Progress(Callback):
        # so that a run stopped before the end of the epoch still says how far it got
        def on_batch_end(self, net, batch=None, training=None, **kwargs):
            done = len(net.history[-1, "batches"])
            if done % 10 == 0:
                progress.write_text(
                    json.dumps({"batches_done": done, "samples_done": done * args.batch_size})
                )

    net = ECD3DCNNRegressor(
        max_epochs=1, batch_size=args.batch_size, random_state=0, callbacks=[_Progress()]
    )
    start = time.perf_counter()
    net.fit(cache, y)
    seconds = time.perf_counter() - start
    return {
        "epoch_s": seconds,
        "samples_per_s": len(y) / seconds,
        "train_loss": float(net.history_[-1, "train_loss"]),
    }


def _run_child(args, step):
    """Run one step in a child process; return its record, wall time and peak tree RSS."""
    import psutil

    cmd = [sys.executable, __file__, "--step", step, "--n", str(args.n[0])]
    for name in ("workdir", "grid_size", "n_jobs", "chunk_size", "batch_size"):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.replicated:
        cmd.append("--replicated")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak, stop = [0], threading.Event()

    def sample():
        parent = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
                rss = 0
                for p in tree:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak[0] = max(peak[0], rss)
            except psutil.Error:
                pass
            if int(time.perf_counter() - start) % 10 == 0:  # for a run stopped before its end
                record = {"peak_rss_tree_mb": peak[0] / 2**20, "s": time.perf_counter() - start}
                (Path(args.workdir) / f"peak_{step}_{args.n[0]}.json").write_text(
                    json.dumps(record)
                )
            stop.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"step {step} for N={args.n[0]} failed with exit code {proc.returncode}")
    record = json.loads(out.strip().splitlines()[-1])
    record["wall_s"] = time.perf_counter() - start
    record["peak_rss_tree_mb"] = peak[0] / 2**20
    return record


def report(results):
    """The results as a reStructuredText list-table (the one in the docs)."""
    rows = [
        "   * - N",
        "     - CHGCAR files on disk (MiB)",
        "     - voxelise: wall, with start-up (s)",
        "     - voxelise: peak RSS (MiB)",
        "     - cache on disk (MiB)",
        "     - train: one epoch (s)",
        "     - train: samples/s",
        "     - train: peak RSS (MiB)",
    ]
    for key, run in sorted(results["runs"].items(), key=lambda kv: (kv[1]["n"], kv[0])):
        vox = run["voxelize"]
        replicated = isinstance(vox, str)
        train = run["train_epoch"]
        rows += [
            f"   * - {run['n']:,}" + (" (rows copied, see below)" if replicated else ""),
            f"     - {run['chgcar_disk_mb']:.0f}" if "chgcar_disk_mb" in run else "     - ",
            "     - not run" if replicated else f"     - {vox['wall_s']:.0f}",
            "     - " if replicated else f"     - {vox['peak_rss_tree_mb']:.0f}",
            f"     - {run['cache_disk_mb']:.0f}",
            f"     - {train['epoch_s']:.0f}",
            f"     - {train['samples_per_s']:.1f}",
            f"     - {train['peak_rss_tree_mb']:.0f}",
        ]
    return "\n".join([".. list-table::", "   :header-rows: 1", "", *rows])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", required=True, help="folder for CHGCAR files and the cache")
    parser.add_argument("--n", type=int, nargs="+", default=[369, 2000, 10000])
    parser.add_argument("--grid-size", type=int, default=60)
    parser.add_argument("--n-jobs", type=int, default=2, help="voxelising workers")
    parser.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report", action="store_true", help="print the table of --out and exit")
    parser.add_argument(
        "--replicated",
        action="store_true",
        help="train only: build the N-row cache by copying the rows of the N=369 cache "
        "(the same values as voxelising the N files) instead of voxelising N files",
    )
    parser.add_argument(
        "--step", choices=["voxelize", "replicate", "train"], help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.step:  # child process: do one step, print its record as the last line
        steps = {"voxelize": step_voxelize, "replicate": step_replicate, "train": step_train}
        record = steps[args.step](args)
        record["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(record))
        return 0

    results = json.loads(args.out.read_text()) if args.out.is_file() else {"runs": {}}
    if args.report:
        print(report(results))
        return 0
    results["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    results["settings"] = {
        "grid_size": args.grid_size,
        "n_jobs": args.n_jobs,
        "chunk_size": args.chunk_size,
        "batch_size": args.batch_size,
        "data": "the 369 bundled GPAW densities, repeated to reach N, written as CHGCAR files",
    }
    for n in args.n:
        key = f"{n}@{args.grid_size}" + ("-replicated" if args.replicated else "")
        if key in results["runs"]:
            print(f"N={n}: done before, skipped", flush=True)
            continue
        sub = argparse.Namespace(**{**vars(args), "n": [n]})
        if args.replicated:
            rep = _run_child(sub, "replicate")
            train = _run_child(sub, "train")
            results["runs"][key] = {
                "n": n,
                "voxelize": "not run: rows copied from the N=369 cache (row i = row i mod 369)",
                "replicate": rep,
                "train_epoch": train,
                "cache_disk_mb": _replicated_path(sub).stat().st_blocks * 512 / 2**20,
            }
            args.out.write_text(json.dumps(results, indent=1))
            print(json.dumps(results["runs"][key]), flush=True)
            continue
        start = time.perf_counter()
        paths, written = prepare(args.workdir, n)
        prep_s = time.perf_counter() - start
        vox = _run_child(sub, "voxelize")
        cache = Path(args.workdir) / "cache" / vox["cache"]
        train = _run_child(sub, "train")
        results["runs"][key] = {
            "n": n,
            "chgcar_written": written,  # files written in this run (others were there)
            "chgcar_write_s": prep_s,
            "chgcar_disk_mb": sum(p.stat().st_blocks for p in paths) * 512 / 2**20,
            "voxelize": vox,
            "train_epoch": train,
            "cache_disk_mb": cache.stat().st_blocks * 512 / 2**20,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1))
        print(json.dumps(results["runs"][key]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
