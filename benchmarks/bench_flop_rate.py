"""Share of this CPU's fp32 matrix-multiply rate reached by a training step of each network.

For each network and batch size (32 and 256 by default), one training step
(forward, backward, optimiser step with torch's fused Adam or AdamW, as the skecd
regressors train) is timed, and its floating-point operations are counted with
``torch.utils.flop_counter.FlopCounterMode``; their ratio is the step's rate in
GFLOP/s. In the same process, with the same number of threads, a large
``torch.matmul`` (2048 x 2048) gives the machine's reference fp32 rate. The
paper's 3D CNN is timed twice: with its kernel = stride convolutions as
``nn.Conv3d`` and as :class:`skecd.models.PatchConv3d` (what skecd uses: one GEMM
per layer on patches gathered once, with torch's public ``addmm``), after checking that
both give the same outputs.

Run: ``python benchmarks/bench_flop_rate.py [--threads 1] [--steps 5] [--min-seconds 2]``; writes
``benchmarks/results/flop_rate.json`` (or ``--output``). Rates depend on the load of the machine:
the load average is recorded with the results.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from skecd.models import ECD3DCNN, InvariantECDNet, SEProjectedCNN

RESULTS = Path(__file__).resolve().parent / "results" / "flop_rate.json"


def _matmul_rate(n=2048, repeats=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t0) / 1e9


def _plain_conv(net):
    """A copy of ``net`` whose PatchConv3d layers are plain nn.Conv3d (same weights)."""
    import copy

    from skecd.models import PatchConv3d

    net = copy.deepcopy(net)
    for name, child in list(net.features.named_children()):
        if isinstance(child, PatchConv3d):
            plain = nn.Conv3d(
                child.in_channels, child.out_channels, child.kernel_size, stride=child.stride
            )
            plain.load_state_dict(child.state_dict())
            net.features._modules[name] = plain
    return net


def _cases(grid):
    torch.manual_seed(0)
    ecd = ECD3DCNN(grid_size=grid)
    yield "ECD3DCNN (PatchConv3d)", ecd, (1, grid, grid, grid), torch.optim.Adam
    yield "ECD3DCNN (nn.Conv3d)", _plain_conv(ecd), (1, grid, grid, grid), torch.optim.Adam
    yield "SEProjectedCNN", SEProjectedCNN(grid_size=grid), (3, grid, grid, grid), torch.optim.Adam
    yield (
        "InvariantECDNet",
        InvariantECDNet(n_features=24, n_outputs=2),
        (24, 4096),
        torch.optim.AdamW,
    )


def _step_rate(net, shape, opt_cls, batch, steps, min_seconds=2.0):
    net.train()
    opt = opt_cls(net.parameters(), lr=1e-4, fused=True)  # as the skecd regressors use it
    x = torch.rand(batch, *shape)
    loss_fn = nn.SmoothL1Loss()

    def step():
        opt.zero_grad()
        out = net(x)
        loss = loss_fn(out, torch.zeros_like(out))
        loss.backward()
        opt.step()

    step()  # warm-up
    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    # at least ``steps`` steps and ``min_seconds``: a 20 ms step timed 5 times is noise
    done, t0 = 0, time.perf_counter()
    while done < steps or time.perf_counter() - t0 < min_seconds:
        step()
        done += 1
    seconds = (time.perf_counter() - t0) / done
    return flops, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5, help="fewest timed steps")
    parser.add_argument(
        "--min-seconds", type=float, default=2.0, help="shortest timing of each case"
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--grids", type=int, nargs="+", default=[60, 32])
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="JSON file to write (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    # the two 3D CNN variants must agree before their speeds are compared
    net = ECD3DCNN(grid_size=32)
    x = torch.rand(4, 1, 32, 32, 32)
    diff = (net(x) - _plain_conv(net)(x)).abs().max().item()
    assert diff < 1e-4, diff

    rows = []
    for grid, batch in itertools.product(args.grids, args.batch_sizes):
        for name, net, shape, opt_cls in _cases(grid):
            if name == "InvariantECDNet" and grid != args.grids[0]:
                continue  # its input does not depend on the grid
            ref = _matmul_rate()
            flops, seconds = _step_rate(net, shape, opt_cls, batch, args.steps, args.min_seconds)
            ref = (ref + _matmul_rate()) / 2  # before and after: the load may change
            rate = flops / seconds / 1e9
            rows.append(
                {
                    "network": name,
                    "grid_size": grid if "Invariant" not in name else None,
                    "batch_size": batch,
                    "gflop_per_step": flops / 1e9,
                    "seconds_per_step": seconds,
                    "gflops": rate,
                    "matmul_gflops": ref,
                    "share_of_matmul": rate / ref,
                }
            )
            r = rows[-1]
            print(
                f"{name:<24} D={str(r['grid_size']):>4} batch {batch:>3}  "
                f"{r['gflop_per_step']:8.1f} GFLOP/step  "
                f"{seconds:7.3f} s  {rate:6.1f} GFLOP/s  matmul {ref:6.1f}  "
                f"{100 * r['share_of_matmul']:5.1f}%",
                flush=True,
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "machine": {
                    "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(),
                    "torch": torch.__version__,
                    "threads": args.threads,
                    "steps": args.steps,
                    "min_seconds": args.min_seconds,
                    "load_average_1min": os.getloadavg()[0],
                },
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
