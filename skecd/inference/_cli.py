"""``skecd train`` and ``skecd predict``.

Usage errors (unknown model, unreadable table, bad option) print one line on
standard error and exit with status 2; ``skecd predict`` exits with 1 when some
inputs failed (each named on its own line) and the others were predicted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from pathlib import Path

from .._atomic import atomic_write
from .._settings import DATA_SETS, OWN_EPOCHS, SETTINGS, add_setting_options, data_set_name
from ..cli import command_help

__all__ = ["add_predict_parser", "add_train_parser", "predict_main", "train_main"]


class _UsageError(Exception):
    """An error of the user's command: one line on stderr, exit status 2."""


def _fail(prog, message):
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


# --------------------------------------------------------------------- train
def add_train_parser(subparsers):
    """Register ``skecd train``."""
    p = subparsers.add_parser(
        "train",
        help=command_help("train"),
        description=(
            "Fit a model of skecd.benchmark.MODELS on the bundled data, the extended data or a "
            "table of your own, and write a model file (skecd.load_model reads it), a JSON "
            "report of the validation or cross-validation metrics and a parity plot."
        ),
    )
    _add_train_io_options(p)
    _add_train_protocol_options(p)
    _add_train_settings_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=train_main)
    return p


def _add_train_io_options(p):
    """The model, its data and targets, and where the file and report go."""
    from ._train import DEFAULT_MODEL

    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"registry name (skecd benchmark --list-models); default {DEFAULT_MODEL}",
    )
    p.add_argument(
        "--data",
        default="bundled",
        type=lambda name: data_set_name(name, "skecd train"),
        help="; ".join(f"{k}: {v}" for k, v in DATA_SETS.items())
        + "; or a CSV/JSON table with a 'path' or 'structure' column and the target columns "
        "(default bundled)",
    )
    p.add_argument(
        "--targets",
        default="K_VRH,G_VRH",
        help="comma-separated target columns (default K_VRH,G_VRH)",
    )
    p.add_argument("--output", "-o", required=True, help="model file to write (*.skecd)")
    p.add_argument(
        "--report-dir",
        default=None,
        help="folder of the report (JSON) and parity plot (default: --output's)",
    )
    p.add_argument(
        "--feature-cache",
        default=None,
        metavar="DIR",
        help="keep the data set's features in DIR (.npy) and reuse them in later runs",
    )


def _add_train_protocol_options(p):
    """Validation (CV or hold-out), early stopping, joint or separate targets, weights."""
    p.add_argument(
        "--cv",
        type=_cv,
        default=0,
        help="k-fold CV (KFold(k, shuffle=True, random_state=seed)) then a fit on all "
        "data; 0 (default): a hold-out validation split",
    )
    p.add_argument(
        "--valid-fraction",
        type=float,
        default=0.2,
        help="hold-out fraction, and the fraction early stopping monitors (0.2)",
    )
    p.add_argument(
        "--separate",
        action="store_true",
        help="one model per target even for networks (default: one network of all "
        "targets; forests always one per target)",
    )
    p.add_argument(
        "--weights-dtype",
        choices=("float32", "float16"),
        default="float32",
        help="storage of network weights (float16 halves the file, rounds weights)",
    )


def _add_train_settings_options(p):
    """The settings of :data:`skecd.benchmark.DEFAULT_SETTINGS` (as skecd benchmark)."""
    add_setting_options(p)


def _cv(text):
    """``--cv``: 0 (a hold-out split) or a number of folds >= 2."""
    try:
        cv = int(text)
    except ValueError:
        cv = -1
    if cv != 0 and cv < 2:
        raise argparse.ArgumentTypeError(
            f"expected 0 (a hold-out split) or a number of folds >= 2, got {text!r}"
        )
    return cv


def _bound_n_jobs(prog, n_jobs):
    """``n_jobs`` bounded by the CPU count (joblib's negative values count back from it)."""
    import os

    cpus = os.cpu_count() or 1
    if n_jobs > cpus:
        print(f"{prog}: note: --n-jobs {n_jobs} reduced to {cpus}, the CPU count", file=sys.stderr)
        return cpus
    return n_jobs


def _writable_file(option, path):
    """Why ``path`` cannot be written as a file, or None (checked before any work)."""
    import os

    path = Path(path)
    if path.is_dir():
        return f"{option} {str(path)!r} is a directory, not a file"
    folder = path.parent
    if not folder.is_dir():
        return f"the folder of {option} {str(path)!r} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{option} {str(path)!r} cannot be written (permission denied)"
    return None


def _check_device(device):
    """Why the torch ``device`` cannot be used here, or None."""
    if device is None or str(device) == "cpu":
        return None
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        return f"--device {device!r}: {exc}"
    if dev.type == "cuda" and not torch.cuda.is_available():
        return f"--device {device!r}: no CUDA GPU is available here (use --device cpu)"
    if dev.type == "mps" and not torch.backends.mps.is_available():
        return f"--device {device!r}: MPS is not available here (use --device cpu)"
    return None


def _parity_plot(predictions, targets, path, title):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..benchmark._report import _parity

    fig, axes = plt.subplots(1, len(targets), figsize=(4 * len(targets), 4), squeeze=False)
    for j, t in enumerate(targets):
        _parity(
            axes[0, j], predictions["y_true"][:, j], predictions["y_pred"][:, j], f"{title}, {t}"
        )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _summary_lines(metadata):
    lines = []
    metrics = metadata["metrics"]
    if "cv" in metrics:
        n = metadata["training"]["n_splits"]
        for t, m in metrics["cv"].items():
            lines.append(
                f"{t}: {n}-fold CV R2 {m['r2']['mean']:.3f} ± {m['r2']['std']:.3f}, "
                f"MAE {m['mae']['mean']:.1f} GPa, log10-MAE {m['log10_mae']['mean']:.3f}"
            )
    else:
        for t, m in metrics["validation"].items():
            lines.append(
                f"{t}: validation (n={m['n']}) R2 {m['r2']:.3f}, MAE {m['mae']:.1f} GPa, "
                f"log10-MAE {m['log10_mae']:.3f}"
            )
    return lines


def train_main(args):
    """Run ``skecd train``; return the exit status."""
    from ..persistence import save_model
    from ._train import train_model

    prog = "skecd train"
    shared = [s.name for s in SETTINGS if s.name != "patience"]  # patience: an argument
    settings = {k: getattr(args, k) for k in shared if getattr(args, k) is not None}
    if settings.get("epochs") == OWN_EPOCHS:
        settings["epochs"] = None  # DEFAULT_SETTINGS' way to say "the class's own"
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not targets:
        return _fail(prog, f"--targets {args.targets!r} names no column")
    if len(set(targets)) < len(targets):
        return _fail(prog, f"--targets {args.targets!r} names a column twice")
    output = Path(args.output)
    stem = output.name.removesuffix(".skecd")
    report_dir = Path(args.report_dir) if args.report_dir else output.parent
    problem = _writable_file("--output", output) or _check_device(settings.get("device"))
    if problem is None and report_dir.exists():
        for name in (f"{stem}.report.json", f"{stem}.parity.png"):
            problem = problem or _writable_file("--report-dir", report_dir / name)
    if problem is None and not report_dir.exists() and not report_dir.parent.is_dir():
        problem = f"the folder above --report-dir {str(report_dir)!r} does not exist"
    if problem:
        return _fail(prog, problem)
    if "n_jobs" in settings:
        settings["n_jobs"] = _bound_n_jobs(prog, settings["n_jobs"])
    try:
        estimator, metadata, predictions = train_model(
            args.model,
            args.data,
            targets=targets,
            cv=args.cv,
            valid_fraction=args.valid_fraction,
            patience=args.patience or 0,
            joint=False if args.separate else None,
            settings=settings,
            feature_cache=args.feature_cache,
            progress=not args.no_progress,
        )
    except (ValueError, FileNotFoundError, ImportError) as exc:
        return _fail(prog, exc)
    report = report_dir / f"{stem}.report.json"
    plot = report_dir / f"{stem}.parity.png"
    try:
        save_model(estimator, output, metadata=metadata, weights_dtype=args.weights_dtype)
        report_dir.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(metadata, indent=1, default=str) + "\n", encoding="utf-8")
        _parity_plot(
            predictions,
            metadata["targets"],
            plot,
            f"{metadata['label']} ({metadata['training']['protocol']})",
        )
    except OSError as exc:
        print(f"{prog}: error: could not write the model or its report: {exc}", file=sys.stderr)
        return 1
    for line in _summary_lines(metadata):
        print(line)
    size = output.stat().st_size / 1e6
    print(f"wrote {output} ({size:.2f} MB), {report}, {plot}")
    return 0


# ------------------------------------------------------------------- predict
def add_predict_parser(subparsers):
    """Register ``skecd predict``."""
    p = subparsers.add_parser(
        "predict",
        help=command_help("predict"),
        description=(
            "Predict the elastic moduli of each input: CHGCAR/CHG files (any compression), skecd "
            ".npz densities, Gaussian cube files, or structure files (CIF, POSCAR); folders are "
            "searched for them. A structure gets its density from GPAW with the training "
            "settings when the model reads densities (pip install 'skecd[dft]'). One row per "
            "input: id, formula, each modulus and its spread, and applicability warnings."
        ),
    )
    p.add_argument("inputs", nargs="+", help="files or folders")
    p.add_argument(
        "--model",
        default=None,
        help="a model file (skecd train) or the name of a shipped model "
        "(skecd.pretrained.available_models()); default: the recommended "
        "interstitial_late_fusion",
    )
    p.add_argument(
        "--interval",
        type=_confidence,
        default=None,
        metavar="CONFIDENCE",
        help="add calibrated prediction intervals of this confidence, e.g. 0.9 "
        "(columns K_VRH_lower_GPa, K_VRH_upper_GPa, ...)",
    )
    p.add_argument("--output", "-o", default=None, help="file to write (default: standard output)")
    p.add_argument(
        "--format",
        choices=("csv", "json"),
        default=None,
        help="output format (default: from --output's suffix, else csv)",
    )
    p.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="inputs processed in parallel (1; at most the CPU count)",
    )
    p.add_argument(
        "--species",
        default=None,
        help="comma-separated elements of the atom types of VASP 4 files, whose header "
        "names none (e.g. Fe,O)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=predict_main)
    return p


def _resolve_model(name):
    from .. import pretrained
    from ..persistence import ModelFileError, ModelVersionWarning, load_model

    if name is None:
        name = pretrained.DEFAULT_PRETRAINED
    path = Path(name)
    if path.is_file() and name in pretrained.available_models():
        raise _UsageError(  # a bare name: a local file must not silently replace a shipped model
            f"--model {name!r} names both a shipped model and the file {str(path.resolve())!r}: "
            f"pass {str(pretrained.get_model_path(name))!r} for the shipped one, "
            f"or ./{name} for the file"
        )
    if not path.is_file():
        if name in pretrained.available_models():
            path = pretrained.get_model_path(name)
        else:
            raise _UsageError(
                f"--model {name!r} is neither a file nor a shipped model "
                f"({', '.join(pretrained.available_models()) or 'none shipped'})"
            )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ModelVersionWarning)
            loaded = load_model(path, return_manifest=True)
    except ModelFileError as exc:
        raise _UsageError(str(exc)) from exc
    for w in caught:  # the version note in one line; any other warning as Python shows it
        if issubclass(w.category, ModelVersionWarning):
            print(f"skecd predict: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return loaded


def _confidence(text):
    """``--interval``: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a confidence in (0, 1), such as 0.9, got {text!r}"
        )
    return value


# Targets whose unit is known: their output columns say it (K_VRH_GPa, K_VRH_std_GPa).
_UNITS = {"K_VRH": "GPa", "G_VRH": "GPa"}


def _write_rows(rows, targets, fmt, stream, interval=None):
    columns = {"id": "id", "formula": "formula"}  # key of a row -> output column
    for t in targets:
        unit = f"_{_UNITS[t]}" if t in _UNITS else ""
        columns[t] = f"{t}{unit}"
        columns[f"{t}_std"] = f"{t}_std{unit}"
        if interval is not None:
            columns[f"{t}_lower"] = f"{t}_lower{unit}"
            columns[f"{t}_upper"] = f"{t}_upper{unit}"
    columns.update(density_source="density_source", warnings="warnings", seconds="seconds")

    def value(v):  # no spread: null in JSON, an empty cell in CSV
        return None if isinstance(v, float) and v != v else v

    if fmt == "json":
        data = [{name: value(r.get(key)) for key, name in columns.items()} for r in rows]
        stream.write(json.dumps(data, indent=1) + "\n")
        return
    import csv

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns.values())
    for r in rows:
        writer.writerow(
            f"{v:.6g}" if isinstance(v, float) else ("" if v is None else v)
            for v in (value(r.get(key)) for key in columns)
        )


def predict_main(args):
    """Run ``skecd predict``; return the exit status (1 if some inputs failed)."""
    from ._data import expand_inputs
    from ._predict import predict_files

    prog = "skecd predict"
    if args.n_jobs == 0:
        return _fail(prog, "--n-jobs must not be 0")
    species = None
    if args.species is not None:
        species = [e.strip() for e in args.species.split(",") if e.strip()]
        if not species:
            return _fail(prog, f"--species {args.species!r} names no element")
    fmt = args.format or ("json" if args.output and args.output.endswith(".json") else "csv")
    if args.output:
        problem = _writable_file("--output", args.output)
        if problem:  # before any work: a prediction run must not be lost at the end
            return _fail(prog, problem)
    try:
        estimator, manifest = _resolve_model(args.model)
    except _UsageError as exc:
        return _fail(prog, exc)
    n_jobs = _bound_n_jobs(prog, args.n_jobs)
    missing = [p for p in args.inputs if not Path(p).exists()]
    skipped = []
    paths = expand_inputs([p for p in args.inputs if Path(p).exists()], skipped=skipped)
    for p in missing:
        print(f"{prog}: error: {p}: no such file or folder", file=sys.stderr)
    for p, why in skipped:
        print(f"{prog}: skipped {p}: {why}", file=sys.stderr)
    if not paths and not missing:
        return _fail(prog, f"no density or structure files in {' '.join(args.inputs)}")
    if args.interval is not None and not hasattr(estimator, "interval"):
        return _fail(
            prog,
            f"--interval: model {args.model or 'default'} has no calibrated intervals "
            "(train it with skecd train --cv 5)",
        )
    rows, errors = predict_files(
        estimator,
        manifest,
        paths,
        interval=args.interval,
        n_jobs=n_jobs,
        progress=not args.no_progress,
        species=species,
    )
    for line in errors:
        print(f"{prog}: error: {line}", file=sys.stderr)
    targets = (manifest.get("metadata") or {}).get("targets") or ["K_VRH", "G_VRH"]
    if args.output and not rows:
        print(f"{prog}: no input was predicted: {args.output} not written", file=sys.stderr)
    elif args.output:
        out = Path(args.output)
        # a regular file is replaced whole, never left half-written; a device or pipe is written
        regular = out.is_file() or not out.exists()
        opener = atomic_write if regular else open
        try:
            with contextlib.ExitStack() as stack:
                fh = stack.enter_context(opener(out, "w", encoding="utf-8", newline=""))
                _write_rows(rows, targets, fmt, fh, args.interval)
        except OSError as exc:
            print(f"{prog}: error: could not write {args.output}: {exc}", file=sys.stderr)
            # the predictions are not lost
            _write_rows(rows, targets, fmt, sys.stdout, args.interval)
            return 1
    else:
        _write_rows(rows, targets, fmt, sys.stdout, args.interval)
    return 1 if (errors or missing or not rows) else 0
