"""Train the models shipped in ``skecd/pretrained/`` (one command; rerun to refresh them).

    python benchmarks/train_pretrained.py [--data extended|bundled] [--models NAME,...] \
        [--feature-cache DIR]

Each model is trained by ``skecd train`` on all the data (default ``extended``: every labelled
material whose density is in this source tree, :func:`skecd.datasets.load_elastic`; the
manifest lists their ids) with 5-fold cross-validation
(``KFold(5, shuffle=True, random_state=0)``, the benchmark's protocol) recorded in its
manifest, then fitted on every material; the out-of-fold predictions calibrate its
prediction intervals (:class:`skecd.models.ConformalIntervalRegressor`). Networks
are one network of both targets:

- the invariant networks (``interstitial_late_fusion``'s, ``invariant_ecd``: any
  ``InvariantECDRegressor``) keep their class's own recipe (``skecd train --epochs own``:
  its ``max_epochs`` (300) and cosine schedule) and float32 weights (about half a million:
  a few MB);
- the other networks are trained for 12 epochs (the benchmark's full run) and stored with
  float16 weights, so that the shipped files stay small (the 3D CNN of the paper has 3.7
  million weights).

Run it with ``OMP_NUM_THREADS=1`` on a shared machine. Pass the name of any model of
``skecd.benchmark.MODELS`` to ship it instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skecd.benchmark import MODELS, make_model
from skecd.cli import main as skecd_main
from skecd.inference._train import _networks
from skecd.models import InvariantECDRegressor

OUT = Path(__file__).resolve().parents[1] / "skecd" / "pretrained"
IDS = Path(__file__).resolve().parent / "manifests" / "elastic_2315.txt"
DEFAULT = "interstitial_late_fusion,rf_descriptors_magpie"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default="extended",
        help="extended, bundled or a table of your own (as skecd train --data)",
    )
    parser.add_argument("--models", default=DEFAULT)
    parser.add_argument("--output-dir", default=str(OUT))
    parser.add_argument(
        "--feature-cache",
        default=None,
        help="keep the features between runs (skecd train --feature-cache)",
    )
    parser.add_argument(
        "--report-dir",
        default="pretrained_reports",
        help="where the reports and parity plots go (not shipped)",
    )
    parser.add_argument(
        "--ids",
        default=str(IDS),
        help="pinned material ids of --data extended, one a line: the run refuses to start when "
        "the densities of the source tree are other materials ('none': no check)",
    )
    args = parser.parse_args(argv)
    if args.data == "extended" and args.ids != "none":
        _check_pinned(args.ids)
    for name in args.models.split(","):
        if name not in MODELS:
            parser.error(f"unknown model {name!r}; known: {sorted(MODELS)}")
        out = Path(args.output_dir) / f"{name}.skecd"
        command = [
            "train",
            "--model",
            name,
            "--data",
            args.data,
            "--cv",
            "5",
            "--seed",
            "0",
            "--output",
            str(out),
            "--report-dir",
            args.report_dir,
        ]
        if args.feature_cache:
            command += ["--feature-cache", args.feature_cache]
        command += _network_options(make_model(name))
        print("skecd " + " ".join(command), flush=True)
        status = skecd_main(command)
        if status:
            return status
    return 0


def _check_pinned(path):
    """Refuse to train unless ``load_elastic()`` gives exactly the pinned materials."""
    import warnings

    from skecd.datasets import load_elastic

    pinned = [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        here = [str(m) for m in load_elastic(missing="ignore").material_ids]
    if here != pinned:
        extra, lost = len(set(here) - set(pinned)), len(set(pinned) - set(here))
        raise SystemExit(
            f"the source tree holds {len(here)} densities, {path} pins {len(pinned)} "
            f"({extra} not pinned, {lost} pinned but absent): write the new list to a new "
            "manifest and pass it with --ids to train on it"
        )


def _network_options(model):
    """``skecd train`` options of the networks of ``model`` (none for a forest)."""
    nets = [model.get_params(deep=True)[path] for path in _networks(model)]
    if not nets:
        return []
    if all(isinstance(net, InvariantECDRegressor) for net in nets):
        # Their own max_epochs and schedule: the recipe they were
        # benchmarked with (benchmarks/bench_invariant.py).
        return ["--epochs", "own"]
    # 12 epochs: the setting of the benchmark's full run (docs/benchmark.rst).
    return ["--weights-dtype", "float16", "--epochs", "12"]


if __name__ == "__main__":
    sys.exit(main())
