"""One process against two (gloo, CPU) and float32 against bfloat16 autocast, through Accelerate.

Trains :class:`skecd.models.AcceleratedECD3DCNNRegressor` on the bundled densities voxelised at
D^3 (default 20^3, cached once with :func:`skecd.preprocessing.voxelize_to_cache`) to predict
K_VRH, on a fixed 80/20 split, for each seed and each configuration:

- ``1proc``: one process, batch 32;
- ``2proc``: two processes launched with ``torchrun --nproc_per_node 2`` (gloo), batch 16 per
  process, so the effective batch (32) and the number of optimiser steps are those of one process;
- ``1proc-bf16``: one process with ``Accelerator(mixed_precision="bf16")`` (bfloat16 autocast).

It reports the test R^2 and MAE and the training wall time of each run, and saves them as JSON.
The network is the paper's architecture with narrower layers (``--width``) to keep the runs short.

Run: ``python benchmarks/bench_accelerate.py`` (minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "accelerate.json"


def worker(args):
    """One training process (of one or several): fit, and on rank 0 write the test metrics."""
    import numpy as np
    import torch
    from accelerate import Accelerator
    from sklearn.metrics import mean_absolute_error, r2_score

    from skecd.models import AcceleratedECD3DCNNRegressor
    from skecd.preprocessing import VoxelArray

    torch.set_num_threads(1)  # one core per process: 2 processes = the machine's 2 cores
    accelerator = Accelerator(cpu=True, mixed_precision=args.mixed_precision)
    X = VoxelArray(args.cache)
    y = np.load(args.targets)
    train, test = np.load(args.split)["train"], np.load(args.split)["test"]
    w = args.width
    net = AcceleratedECD3DCNNRegressor(
        accelerator=accelerator,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
        module__conv1_channels=w,
        module__conv2_channels=w,
        module__dense_widths=(4 * w, 2 * w, w),
    )
    start = time.perf_counter()
    net.fit(X[train], y[train])
    fit_s = time.perf_counter() - start
    pred = net.predict(X[test])
    if accelerator.is_main_process:
        record = {
            "processes": accelerator.num_processes,
            "distributed_type": str(accelerator.distributed_type),
            "backend": torch.distributed.get_backend() if accelerator.num_processes > 1 else None,
            "mixed_precision": args.mixed_precision,
            "batch_size_per_process": args.batch_size,
            "seed": args.seed,
            "fit_s": fit_s,
            "r2": float(r2_score(y[test], pred)),
            "mae": float(mean_absolute_error(y[test], pred)),
        }
        Path(args.result).write_text(json.dumps(record))
    accelerator.wait_for_everyone()
    accelerator.end_training()  # destroy the process group before exit (no abort at teardown)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(common, processes, mixed_precision, batch_size, seed, result):
    """Run ``worker`` in ``processes`` processes (torchrun for more than one)."""
    script = [__file__, "--worker", *common, "--mixed-precision", mixed_precision]
    script += ["--batch-size", str(batch_size), "--seed", str(seed), "--result", str(result)]
    if processes == 1:
        cmd = [sys.executable, *script]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes)]
        cmd += ["--master_addr", "127.0.0.1", "--master_port", str(_free_port()), *script]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return json.loads(Path(result).read_text())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid-size", type=int, default=20)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workdir", default=None, help="cache folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("cache", "targets", "split", "result"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    parser.add_argument("--mixed-precision", default="no", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=32, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    import numpy as np
    from sklearn.model_selection import train_test_split

    from skecd.datasets import load_fcc_elastic
    from skecd.preprocessing import ChargeDensityVoxelizer, voxelize_to_cache

    data = load_fcc_elastic()
    workdir = Path(args.workdir or tempfile.mkdtemp())
    cache = voxelize_to_cache(
        ChargeDensityVoxelizer(grid_size=args.grid_size), data.filenames, workdir / "cache"
    )
    np.save(workdir / "y.npy", data.target[:, 0])
    train, test = train_test_split(np.arange(len(data.target)), test_size=0.2, random_state=0)
    np.savez(workdir / "split.npz", train=train, test=test)
    common = ["--cache", str(cache.path), "--targets", str(workdir / "y.npy")]
    common += ["--split", str(workdir / "split.npz"), "--epochs", str(args.epochs)]
    common += ["--width", str(args.width)]
    configs = {"1proc": (1, "no", 32), "2proc": (2, "no", 16), "1proc-bf16": (1, "bf16", 32)}
    runs = []
    for seed in args.seeds:
        for name, (processes, mp, batch) in configs.items():
            record = launch(common, processes, mp, batch, seed, workdir / "result.json")
            record["config"] = name
            runs.append(record)
            print(json.dumps(record), flush=True)
    summary = {}
    for name in configs:
        rows = [r for r in runs if r["config"] == name]
        summary[name] = {
            key: {
                "mean": float(np.mean([r[key] for r in rows])),
                "std": float(np.std([r[key] for r in rows])),
            }
            for key in ("r2", "mae", "fit_s")
        }
    result = {
        "settings": {
            "grid_size": args.grid_size,
            "width": args.width,
            "epochs": args.epochs,
            "seeds": args.seeds,
            "n_train": int(len(train)),
            "n_test": int(len(test)),
            "target": "K_VRH",
            "threads_per_process": 1,
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "runs": runs,
        "summary": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
