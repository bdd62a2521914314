"""``skecd benchmark``: the paper's experiments on the bundled or the extended data set."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .._settings import DATA_SETS, OWN_EPOCHS, add_setting_options, data_set_name, integer
from ..cli import command_help
from ._models import DEFAULT_SETTINGS, GROUPS, MODELS
from ._runner import (
    DEFAULT_LOEO_MIN_COUNT,
    PROTOCOLS,
    TARGETS,
    TRANSFER_SPACE_GROUP,
    machine_description,
)

__all__ = ["QUICK_SETTINGS", "add_parser", "main"]

#: What ``--quick`` changes (explicit options still win): a 24^3 grid, 3 folds of
#: cross-validation only, few epochs, and the models marked ``quick`` in the registry.
QUICK_SETTINGS = {"grid": 24, "epochs": 8, "n_splits": 3, "protocols": ("cv",)}


def _csv(text):
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return items


def _one_line_error(parser):
    """Make ``parser`` report a bad option in one line on stderr, with exit status 2.

    argparse's default prints the whole usage first; a one-line message naming the
    option and the allowed values is what the rest of the command line prints.
    """

    def error(message):
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)

    parser.error = error


class _DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: X)" only where the help does not say it and X means something."""

    def _get_help_string(self, action):
        text = action.help or ""
        # by identity: a default of 0 (--seed) is shown, although 0 == False
        hidden = any(action.default is v for v in (None, False, argparse.SUPPRESS))
        if "default" in text or hidden:
            return text
        return super()._get_help_string(action)


def add_parser(subparsers):
    """Register the ``benchmark`` subcommand on ``subparsers`` (an argparse object)."""
    p = subparsers.add_parser(
        "benchmark",
        help=command_help("benchmark"),
        description=(
            "Fit every model on the bundled 369 Fm-3m materials (GPAW charge densities, "
            "Materials Project moduli) under 5-fold cross-validation (the paper's Table 2) "
            "and leave-one-element-out (Table 3); print the tables and write JSON, Markdown "
            "and parity plots to the results directory. Finished splits are cached there, "
            "so an interrupted run resumes where it stopped. With --data extended, every "
            "material of all seven crystal systems whose density is built is used, and the "
            "transfer (Fm-3m to the other space groups) and locso (leave one crystal system "
            "out) protocols apply."
        ),
        formatter_class=_DefaultsHelpFormatter,
    )
    _add_selection_options(p)
    _add_settings_options(p)
    _add_protocol_options(p)
    _add_output_options(p)
    p.set_defaults(func=main)
    _one_line_error(p)
    return p


def _add_selection_options(p):
    """What to run: ``--quick``, ``--models``, ``--protocol``, ``--targets``."""
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"reduced run, a few minutes on 2 CPU cores: {QUICK_SETTINGS}",
    )
    p.add_argument(
        "--models",
        type=_csv,
        default=None,
        help="comma-separated model names, or 'all' (every available model); "
        "see --list-models (default: all, or the quick ones with --quick)",
    )
    p.add_argument(
        "--protocol",
        type=_csv,
        default=None,
        help="comma-separated protocols among cv, loeo, transfer (train on Fm-3m, test on the "
        "other space groups), locso (leave one crystal system out); transfer and locso need "
        "--data extended (default: cv,loeo; all four with --data extended)",
    )
    p.add_argument(
        "--data",
        default="bundled",
        type=lambda name: data_set_name(name, "skecd benchmark"),
        choices=list(DATA_SETS),
        help="; ".join(f"{k}: {v}" for k, v in DATA_SETS.items()),
    )
    p.add_argument(
        "--targets",
        type=_csv,
        default=list(TARGETS),
        help="K_VRH, G_VRH or both; "
        "one model per target, but the networks of the invariant recipe learn those named "
        "jointly (see --list-models) (default: K_VRH,G_VRH)",
    )


def _add_settings_options(p):
    """The settings of :data:`DEFAULT_SETTINGS` (skecd._settings.SETTINGS, as skecd train)."""
    add_setting_options(p)


def _add_protocol_options(p):
    """The splits: ``--n-splits``, ``--min-count``, ``--max-samples``."""
    p.add_argument(
        "--n-splits",
        type=integer(2),
        default=None,
        help="folds of the cv protocol (default 5)",
    )
    p.add_argument(
        "--min-count",
        type=integer(1),
        default=DEFAULT_LOEO_MIN_COUNT,
        help="loeo holds out each element, locso each crystal system, present in at least "
        "this many materials",
    )
    p.add_argument(
        "--max-samples",
        type=integer(2),
        default=None,
        help="use a seeded random subset of this many materials",
    )


def _add_output_options(p):
    """Where results go and what is shown."""
    p.add_argument("--results-dir", default="skecd_results", help="where results are cached")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="fit nothing: report the results already in --results-dir",
    )
    p.add_argument("--list-models", action="store_true", help="list the models and exit")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _list_models():
    """Print the registry by group (recommended first) as aligned columns."""
    name_width = max(len(name) for name in MODELS)
    label_width = max(len(spec.label) for spec in MODELS.values())
    for group, meaning in GROUPS.items():
        print(f"{group} ({meaning}):")
        for name, spec in MODELS.items():
            if spec.group != group:
                continue
            notes = [
                n for n, on in (("joint K+G", spec.joint_targets), ("quick", spec.quick)) if on
            ]
            notes = f" [{', '.join(notes)}]" if notes else ""
            print(f"  {name:{name_width}s}  {spec.label:{label_width}s}  {spec.description}{notes}")
    return 0


class _UsageError(ValueError):
    """A bad option or combination of options: one line on stderr, exit status 2."""


def _choose_models(args):
    if args.models is None or args.models == ["all"]:
        if args.models is None and args.quick:
            return [m for m, spec in MODELS.items() if spec.quick]
        return list(MODELS)
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        raise _UsageError(f"argument --models: unknown models {unknown}; known: {list(MODELS)}")
    return args.models


def _options(args):
    """Return (models, protocols, settings, n_splits) from the parsed, checked options."""
    quick = QUICK_SETTINGS if args.quick else {}
    default = ("cv", "loeo") if args.data == "bundled" else PROTOCOLS
    protocols = args.protocol or list(quick.get("protocols", default))
    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad:
        raise _UsageError(f"argument --protocol: unknown {bad}; known: {list(PROTOCOLS)}")
    bad = [t for t in args.targets if t not in TARGETS]
    if bad:
        raise _UsageError(f"argument --targets: unknown {bad}; known: {list(TARGETS)}")
    given = {k: getattr(args, k) for k in DEFAULT_SETTINGS if getattr(args, k) is not None}
    settings = {
        **DEFAULT_SETTINGS,
        **{k: v for k, v in quick.items() if k in DEFAULT_SETTINGS},
        **given,
    }
    if settings["epochs"] == OWN_EPOCHS:
        settings["epochs"] = None  # each network class's own max_epochs
    if not settings["patience"]:
        settings["patience"] = None  # 0: off, as unset
    n_splits = args.n_splits if args.n_splits is not None else quick.get("n_splits", 5)
    models = _choose_models(args)
    _check_grid(models, settings)
    _check_device(settings["device"])
    return models, protocols, settings, n_splits


def _check_grid(models, settings):
    """Refuse a grid too small for a chosen network before any density is voxelised.

    Each grid network's module is built on torch's ``meta`` device (shapes only,
    no memory), which runs the module's own size check.
    """
    import torch

    from ..models import SkecdNetRegressor

    for name in models:
        if "grid" not in MODELS[name].settings:
            continue
        estimator = MODELS[name].make_estimator(settings)
        nets = [estimator, *estimator.get_params(deep=True).values()]
        for net in nets:
            if not isinstance(net, SkecdNetRegressor) or net._input_size_param != "grid_size":
                continue
            params = {**net.get_params_for("module"), "grid_size": settings["grid"], "n_outputs": 1}
            try:
                with torch.device("meta"):
                    net.module(**params)
            except ValueError as exc:
                raise _UsageError(
                    f"argument --grid: {settings['grid']} is too small for {name}: {exc}"
                ) from None


def _check_device(device):
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise _UsageError(f"argument --device: unknown torch device {device!r}") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise _UsageError(f"argument --device: {device!r} but CUDA is not available; use cpu")


def _writable(directory):
    return os.access(directory, os.W_OK | os.X_OK)


def _check_results_dir(path):
    """Refuse a results directory that is a file; return whether it can be written."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise _UsageError(f"argument --results-dir: {str(path)!r} is a file, not a directory")
    existing = next(p for p in (path, *path.parents) if p.exists())
    return _writable(existing)


def _fail(message):
    print(f"skecd benchmark: error: {message}", file=sys.stderr)
    return 2


def main(args):
    """Run the benchmark from parsed arguments; return the exit status."""
    from ._runner import _plan_benchmark

    if args.list_models:
        return _list_models()
    try:
        models, protocols, settings, n_splits = _options(args)
        writable = _check_results_dir(args.results_dir)
        plan = _plan_benchmark(
            models,
            protocols,
            args.targets,
            settings=settings,
            n_splits=n_splits,
            min_count=args.min_count,
            max_samples=args.max_samples,
            data=args.data,
        )
    except ValueError as exc:  # _UsageError, or the runner's checks of the arguments
        message = str(exc).replace("(data='extended')", "(--data extended)")
        for name in ("max_samples", "n_splits", "min_count"):  # the runner's names -> options
            message = message.replace(f"{name} ", f"--{name.replace('_', '-')} ")
            message = message.replace(f"{name}=", f"--{name.replace('_', '-')}=")
        return _fail(message)
    if settings["n_jobs"] > 0:
        import torch

        torch.set_num_threads(settings["n_jobs"])
    return _run_and_report(args, plan, n_splits, writable)


def _run_and_report(args, plan, n_splits, writable):
    """Fit what is missing (if the results directory can be written), then print the tables."""
    from ._report import write_report
    from ._runner import _run_plan

    start = time.perf_counter()
    fit = not args.report_only and writable
    run = _run_plan(plan, args.results_dir, fit=fit, progress=not args.no_progress)
    if run.missing and not args.report_only:  # only when the directory is read-only
        return _fail(
            f"argument --results-dir: {args.results_dir!r} is not writable and "
            f"{len(run.missing)} splits are not computed yet; choose a writable "
            "directory, or add --report-only"
        )
    wall = time.perf_counter() - start
    extra = _report_lines(args, plan, run, n_splits, wall)
    if writable:
        text = write_report(run, args.results_dir, extra_lines=extra)
        where = f"Results in {args.results_dir}/ (results.md, summary.json, results/, plots/)"
    else:  # a read-only cache: print the tables, save nothing
        with tempfile.TemporaryDirectory() as scratch:
            text = write_report(run, scratch, extra_lines=extra)
        where = f"{args.results_dir}/ is read-only: the report above was not saved"
    print(text)
    print(where)
    return 0


def _machine_line(run):
    """Where the results were fitted: this machine, or (nothing fitted now) their records'."""
    if run.n_fitted or not run.results:
        return f"Machine: {machine_description()}"
    counts = Counter(r.get("machine") or "not recorded" for r in run.results)
    return "Machines of the results (nothing fitted by this invocation): " + "; ".join(
        f"{machine} ({n} results)" for machine, n in counts.most_common()
    )


def _report_lines(args, plan, run, n_splits, wall):
    models, protocols = plan.models, plan.protocols
    data = run.data
    what = {
        "cv": f"cv: {n_splits} folds",
        "loeo": f"loeo: elements in >= {args.min_count} materials",
        "transfer": f"transfer: train on space group {TRANSFER_SPACE_GROUP} (Fm-3m)",
        "locso": f"locso: crystal systems of >= {args.min_count} materials",
    }
    extra = [
        f"Command: `skecd {' '.join(sys.argv[1:])}`" if sys.argv[0].endswith("skecd") else "",
        f"Data: {data.name}, {data.n_available} materials with densities"
        + (
            f" ({data.n_missing} labelled materials without density yet, "
            f"{data.n_excluded} excluded as failed by the builder)"
            if data.name == "extended"
            else ""
        )
        + (f"; a seeded subset of {len(data.material_ids)} used" if args.max_samples else ""),
        f"Materials: {len(data.material_ids)}; models: {', '.join(models)}; "
        f"protocols: {', '.join(protocols)} ({'; '.join(what[p] for p in protocols)}); "
        f"targets: {', '.join(args.targets)}",
        f"Settings: {plan.settings}",
        _machine_line(run),
        f"This invocation: {wall:.0f} s wall, {run.n_fitted} splits fitted, "
        f"{run.n_cached} reused from the cache.",
    ]
    if args.quick:
        extra += [
            "What this is: a quick check that skecd trains and scores here (--quick: "
            f"{QUICK_SETTINGS}, the registry's quick models), not the benchmark. Its 3D CNN "
            f"(the paper's method) trains {plan.settings.get('epochs')} epochs on a "
            f"{plan.settings.get('grid')}^3 grid against the paper's 60^3, so it comes last here.",
            "Full results of every model (5-fold CV, leave-one-element-out, transfer) and the "
            "recommended model: the benchmark page of the documentation (docs/benchmark.rst); "
            "`skecd predict` uses the recommended shipped model by default.",
        ]
    if run.missing:
        done = sorted({f"{p}/{m}" for p, m, _, _ in run.missing})
        extra.append(
            f"Not computed yet ({len(run.missing)} splits, --report-only): " + ", ".join(done)
        )
    return [e for e in extra if e]
