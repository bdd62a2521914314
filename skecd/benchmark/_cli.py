"""``skecd benchmark``: the paper's experiments on the bundled data set."""

from __future__ import annotations

import argparse
import sys
import time

from ._models import DEFAULT_SETTINGS, MODELS
from ._runner import DEFAULT_LOEO_MIN_COUNT, PROTOCOLS, TARGETS, machine_description

__all__ = ["QUICK_SETTINGS", "add_parser", "main"]

#: What ``--quick`` changes (explicit options still win): a 24^3 grid, 3 folds of
#: cross-validation only, few epochs, and the models marked ``quick`` in the registry.
QUICK_SETTINGS = {"grid": 24, "epochs": 8, "n_splits": 3, "protocols": ("cv",)}


def _csv(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def add_parser(subparsers):
    """Register the ``benchmark`` subcommand on ``subparsers`` (an argparse object)."""
    p = subparsers.add_parser(
        "benchmark",
        help="run the paper's benchmark (cross-validation, leave-one-element-out) on bundled data",
        description=(
            "Fit every model on the bundled 369 Fm-3m materials (GPAW charge densities, "
            "Materials Project moduli) under 5-fold cross-validation (the paper's Table 2) "
            "and leave-one-element-out (Table 3); print the tables and write JSON, Markdown "
            "and parity plots to the results directory. Finished splits are cached there, "
            "so an interrupted run resumes where it stopped."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    d = DEFAULT_SETTINGS
    p.add_argument("--quick", action="store_true",
                   help=f"reduced run, a few minutes on 2 CPU cores: {QUICK_SETTINGS}")
    p.add_argument("--models", type=_csv, default=None,
                   help="comma-separated model names, or 'all' (every available model); "
                        "see --list-models (default: all, or the quick ones with --quick)")
    p.add_argument("--protocol", type=_csv, default=None,
                   help="comma-separated protocols among cv, loeo (default: cv,loeo)")
    p.add_argument("--targets", type=_csv, default=list(TARGETS), help="K_VRH, G_VRH or both")
    p.add_argument("--grid", type=int, default=None,
                   help=f"density cube edge (default {d['grid']})")
    p.add_argument("--frame", default=d["frame"], choices=["cell", "conventional"],
                   help="voxeliser frame")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"max epochs of the networks (default {d['epochs']})")
    p.add_argument("--batch-size", type=int, default=d["batch_size"])
    p.add_argument("--n-estimators", type=int, default=d["n_estimators"],
                   help="random-forest trees")
    p.add_argument("--n-splits", type=int, default=None,
                   help="folds of the cv protocol (default 5)")
    p.add_argument("--min-count", type=int, default=DEFAULT_LOEO_MIN_COUNT,
                   help="loeo holds out each element present in at least this many materials")
    p.add_argument("--max-samples", type=int, default=None,
                   help="use a seeded random subset of this many materials")
    p.add_argument("--device", default=d["device"], help="torch device of the networks")
    p.add_argument("--n-jobs", type=int, default=d["n_jobs"],
                   help="parallel jobs of featurisers and forests, and torch threads")
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--results-dir", default="skecd_results", help="where results are cached")
    p.add_argument("--report-only", action="store_true",
                   help="fit nothing: report the results already in --results-dir")
    p.add_argument("--list-models", action="store_true", help="list the models and exit")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=main)
    return p


def _list_models():
    for name, spec in MODELS.items():
        quick = " (quick)" if spec.quick else ""
        print(f"{name:24s} {spec.label:22s} {spec.description}{quick}")
    return 0


def _choose_models(args):
    if args.models is None or args.models == ["all"]:
        if args.models is None and args.quick:
            return [m for m, spec in MODELS.items() if spec.quick]
        return list(MODELS)
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        raise SystemExit(f"skecd benchmark: unknown models {unknown}; known: {list(MODELS)}")
    return args.models


def main(args):
    """Run the benchmark from parsed arguments; return the exit status."""
    from ._report import write_report
    from ._runner import run_benchmark

    if args.list_models:
        return _list_models()
    quick = QUICK_SETTINGS if args.quick else {}
    protocols = args.protocol or list(quick.get("protocols", PROTOCOLS))
    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad:
        raise SystemExit(f"skecd benchmark: unknown protocol {bad}; known: {list(PROTOCOLS)}")
    bad = [t for t in args.targets if t not in TARGETS]
    if bad:
        raise SystemExit(f"skecd benchmark: unknown target {bad}; known: {list(TARGETS)}")
    settings = {
        "grid": args.grid or quick.get("grid", DEFAULT_SETTINGS["grid"]),
        "frame": args.frame,
        "epochs": args.epochs or quick.get("epochs", DEFAULT_SETTINGS["epochs"]),
        "batch_size": args.batch_size,
        "n_estimators": args.n_estimators,
        "device": args.device,
        "n_jobs": args.n_jobs,
        "seed": args.seed,
    }
    n_splits = args.n_splits or quick.get("n_splits", 5)
    models = _choose_models(args)
    if args.n_jobs and args.n_jobs > 0:
        import torch

        torch.set_num_threads(args.n_jobs)
    start = time.perf_counter()
    run = run_benchmark(
        models=models,
        protocols=protocols,
        targets=args.targets,
        results_dir=args.results_dir,
        settings=settings,
        n_splits=n_splits,
        min_count=args.min_count,
        max_samples=args.max_samples,
        fit=not args.report_only,
        progress=not args.no_progress,
    )
    wall = time.perf_counter() - start
    extra = [
        f"Command: `skecd {' '.join(sys.argv[1:])}`" if sys.argv[0].endswith("skecd") else "",
        f"Materials: {len(run.data.material_ids)}; models: {', '.join(models)}; "
        f"protocols: {', '.join(protocols)} (cv: {n_splits} folds; loeo: elements in >= "
        f"{args.min_count} materials); targets: {', '.join(args.targets)}",
        f"Settings: {settings}",
        f"Machine: {machine_description()}",
        f"This invocation: {wall:.0f} s wall, {run.n_fitted} splits fitted, "
        f"{run.n_cached} reused from the cache.",
    ]
    if run.missing:
        done = sorted({f"{p}/{m}" for p, m, _, _ in run.missing})
        extra.append(f"Not computed yet ({len(run.missing)} splits, --report-only): "
                     + ", ".join(done))
    text = write_report(run, args.results_dir, extra_lines=[e for e in extra if e])
    print(text)
    print(f"Results in {args.results_dir}/ (results.md, summary.json, results/, plots/)")
    return 0
