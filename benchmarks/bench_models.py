"""Training throughput and peak memory of skecd's networks on this CPU.

For each network (3D CNN, SE-projected CNN, Magpie CNN, fusion head) and grid
size D in {60, 32}, times forward + backward + Adam/SGD step on random batches
of 32 samples (the speed of a training step does not depend on the values) and
records the process's peak resident memory growth (``ru_maxrss``) measured in
a fresh subprocess per case. Writes ``benchmarks/results/models.json``.

Run: ``python benchmarks/bench_models.py [--threads N] [--steps N]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "models.json"


def _case(name, grid_size):
    import torch

    from skecd.models import ECD3DCNN, FusionHead, MagpieCNN, SEProjectedCNN

    if name == "ECD3DCNN":
        return ECD3DCNN(grid_size=grid_size), (1, grid_size, grid_size, grid_size), torch.optim.Adam
    if name == "SEProjectedCNN":
        shape = (3, grid_size, grid_size, grid_size)
        return SEProjectedCNN(grid_size=grid_size), shape, torch.optim.SGD
    if name == "MagpieCNN":
        return MagpieCNN(n_features=132), (132,), torch.optim.Adam
    if name == "FusionHead":
        return FusionHead(n_features=64), (64,), torch.optim.Adam
    raise ValueError(name)


def _run(name, grid_size, batch_size, steps, threads, queue):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    net, shape, opt_cls = _case(name, grid_size)
    opt = opt_cls(net.parameters(), lr=1e-3)
    x = torch.rand(batch_size, *shape)
    y = torch.rand(batch_size, 1)
    loss_fn = torch.nn.L1Loss()

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put(
        {
            "network": name,
            "grid_size": grid_size if name in ("ECD3DCNN", "SEProjectedCNN") else None,
            "batch_size": batch_size,
            "steps": steps,
            "threads": threads,
            "n_parameters": sum(p.numel() for p in net.parameters()),
            "samples_per_s": batch_size * steps / elapsed,
            "peak_rss_mib": rss1 / 1024,
            "peak_rss_growth_mib": (rss1 - rss0) / 1024,
        }
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    cases = [
        ("ECD3DCNN", 60),
        ("ECD3DCNN", 32),
        ("SEProjectedCNN", 60),
        ("SEProjectedCNN", 32),
        ("MagpieCNN", None),
        ("FusionHead", None),
    ]
    ctx = mp.get_context("spawn")
    rows = []
    for name, d in cases:
        queue = ctx.Queue()
        run_args = (name, d, args.batch_size, args.steps, args.threads, queue)
        proc = ctx.Process(target=_run, args=run_args)
        proc.start()
        rows.append(queue.get())
        proc.join()
    print(f"{'network':<16}{'D':>4}{'params':>12}{'samples/s':>12}{'peak RSS MiB':>14}")
    for r in rows:
        d = "-" if r["grid_size"] is None else r["grid_size"]
        print(
            f"{r['network']:<16}{d:>4}{r['n_parameters']:>12,}{r['samples_per_s']:>12.1f}"
            f"{r['peak_rss_mib']:>14.0f}"
        )
    import torch

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {
                    "processor": platform.processor() or platform.machine(),
                    "cpu_count": mp.cpu_count(),
                    "torch": torch.__version__,
                    "load_average_1min": os.getloadavg()[0],
                },
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
