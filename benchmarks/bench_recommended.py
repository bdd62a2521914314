"""The recommended model against the baselines on every protocol, with its intervals.

    OMP_NUM_THREADS=1 python benchmarks/bench_recommended.py --cache FEATURES_DIR \
        --out benchmarks/results/recommended

Materials: the pinned list ``benchmarks/manifests/elastic_2315.txt`` (every material
with a density in the source tree when the shipped models were trained; refused if
one is missing). Protocols (R^2 and log10-MAE per target; ``cv`` figures are means
over the folds, as in ``skecd benchmark``, the others pooled over the test materials):

- ``bundled_cv``: 5-fold CV on the 369 Fm-3m materials;
- ``extended_cv``: 5-fold CV on all of them;
- ``transfer``: trained on Fm-3m, tested on every other space group;
- ``locso``: leave one crystal system out (systems of >= 19 materials), pooled.

Every model is wrapped in :class:`skecd.models.ConformalIntervalRegressor`
(``--inner-cv``-fold out-of-fold calibration inside each training set), so each split
also gives the coverage and width of the 68% and 90% intervals on its test materials.
Features are computed once and cached in ``--cache`` as ``.npy`` (no pickle, the cache of
``skecd train --feature-cache``); results are written per split to ``--out/splits``
(resumable: a rerun fits only what is missing), then ``summary.json`` and ``results.md``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold

from skecd.benchmark import DEFAULT_SETTINGS, MODELS, regression_metrics
from skecd.benchmark._models import cached_feature, combine_features, feature_names
from skecd.datasets import load_elastic, load_fcc_elastic
from skecd.models import ConformalIntervalRegressor

HERE = Path(__file__).resolve().parent
IDS = HERE / "manifests" / "elastic_2315.txt"
MODEL_NAMES = (
    "interstitial_late_fusion",
    "radial_late_fusion",
    "rf_descriptors_magpie",
    "rf_magpie",
)
PROTOCOLS = ("bundled_cv", "extended_cv", "transfer", "locso")
CONFIDENCES = (0.68, 0.9)
MIN_SYSTEM = 19  # as skecd benchmark's locso


def load(ids_file):
    ids = [line.strip() for line in Path(ids_file).read_text().splitlines() if line.strip()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_elastic(missing="ignore")
    index = {m: i for i, m in enumerate(data.material_ids)}
    lost = [m for m in ids if m not in index]
    if lost:
        raise SystemExit(f"{len(lost)} pinned materials have no density here, e.g. {lost[:3]}")
    rows = [index[m] for m in ids]
    return data, rows, ids


def features(name, data, rows, ids, cache):
    """Feature ``name`` of the pinned materials, from the cache or computed and cached
    (the cache of ``skecd train --feature-cache``: the same files serve both)."""
    start = time.perf_counter()
    X = cached_feature(name, [data.data[i] for i in rows], ids, DEFAULT_SETTINGS, cache)
    print(f"feature {name}: {np.shape(X)} in {time.perf_counter() - start:.0f} s", flush=True)
    return np.asarray(X, dtype=np.float64)


def splits(protocol, space_groups, systems, seed, fcc_order):
    """``(split name, train indices, test indices)`` of a protocol.

    ``fcc_order``: the rows of the bundled Fm-3m materials in the order of
    ``load_fcc_elastic()``, so that ``bundled_cv`` has the folds of ``skecd benchmark``.
    """
    n = len(space_groups)
    fcc = np.asarray(fcc_order)
    if protocol == "bundled_cv":
        for k, (tr, te) in enumerate(KFold(5, shuffle=True, random_state=seed).split(fcc)):
            yield f"fold{k}", fcc[tr], fcc[te]
    elif protocol == "extended_cv":
        for k, (tr, te) in enumerate(KFold(5, shuffle=True, random_state=seed).split(np.arange(n))):
            yield f"fold{k}", tr, te
    elif protocol == "transfer":
        yield "fm-3m", fcc, np.flatnonzero(space_groups != 225)
    elif protocol == "locso":
        names, counts = np.unique(systems, return_counts=True)
        for name in names[counts >= MIN_SYSTEM]:
            yield name, np.flatnonzero(systems != name), np.flatnonzero(systems == name)
    else:
        raise SystemExit(f"unknown protocol {protocol!r}; known: {PROTOCOLS}")


def fit_split(spec, arrays, y, train, test, seed, inner_cv, names=None):
    settings = {**DEFAULT_SETTINGS, "seed": seed}
    X_train = combine_features(spec, arrays, train, names)
    X_test = combine_features(spec, arrays, test, names)
    start = time.perf_counter()
    if spec.joint_targets:
        parts = [(slice(None), y)]
    else:  # one model per target, as skecd benchmark fits them
        parts = [(slice(j, j + 1), y[:, j]) for j in range(y.shape[1])]
    pred = np.empty((len(test), y.shape[1]))
    bounds = {c: (np.empty_like(pred), np.empty_like(pred)) for c in CONFIDENCES}
    for cols, target in parts:
        model = ConformalIntervalRegressor(
            clone(spec.make_estimator(settings)), cv=inner_cv, random_state=seed
        ).fit(X_train, target[train])
        pred[:, cols] = model.predict(X_test).reshape(len(test), -1)
        for c in CONFIDENCES:
            lo, hi = model.predict_interval(X_test, confidence=c)
            bounds[c][0][:, cols] = lo.reshape(len(test), -1)
            bounds[c][1][:, cols] = hi.reshape(len(test), -1)
    return {
        "seconds": time.perf_counter() - start,
        "test": test.tolist(),
        "pred": pred.tolist(),
        "intervals": {str(c): [b[0].tolist(), b[1].tolist()] for c, b in bounds.items()},
    }


def scores(records, y, names, protocol):
    """Metrics and interval figures of one model under one protocol."""
    out = {}
    for j, t in enumerate(names):
        per = []
        tests, preds = [], []
        cover = {str(c): [] for c in CONFIDENCES}
        for r in records:
            test, pred = np.array(r["test"]), np.array(r["pred"])[:, j]
            per.append(regression_metrics(y[test, j], pred))
            tests.append(test)
            preds.append(pred)
            for c in cover:
                lo, hi = (np.array(b)[:, j] for b in r["intervals"][c])
                cover[c].append((y[test, j], lo, hi, pred))
        if protocol.endswith("_cv"):
            metrics = {k: float(np.mean([p[k] for p in per])) for k in ("r2", "log10_mae")}
        else:
            test, pred = np.concatenate(tests), np.concatenate(preds)
            full = regression_metrics(y[test, j], pred)
            metrics = {k: float(full[k]) for k in ("r2", "log10_mae")}
        for c, parts in cover.items():
            truth, lo, hi, pred = (np.concatenate(p) for p in zip(*parts, strict=True))
            metrics[f"coverage_{c}"] = float(np.mean((lo <= truth) & (truth <= hi)))
            metrics[f"width_{c}_gpa"] = float(np.mean(hi - lo))
            metrics[f"relative_width_{c}"] = float(np.median((hi - lo) / pred))
        out[t] = metrics
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True, help="feature cache directory (.npy)")
    parser.add_argument("--out", required=True, help="results directory")
    parser.add_argument("--ids", default=str(IDS), help="pinned material ids, one a line")
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--inner-cv",
        type=int,
        default=5,
        help="folds of the out-of-fold calibration inside each training set (5, as the "
        "shipped models; fewer is quicker)",
    )
    args = parser.parse_args(argv)
    data, rows, ids = load(args.ids)
    y = data.target[rows]
    space_groups = np.asarray(data.space_groups)[rows]
    systems = np.asarray(data.crystal_systems)[rows]
    position = {m: i for i, m in enumerate(ids)}
    fcc_order = [position[str(m)] for m in load_fcc_elastic().material_ids]
    out = Path(args.out)
    (out / "splits").mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    summary.update(
        materials=len(ids), ids=str(Path(args.ids).name), seed=args.seed, inner_cv=args.inner_cv
    )
    for name in args.models.split(","):
        spec = MODELS[name]
        arrays = [features(f, data, rows, ids, args.cache) for f in spec.features]
        names = feature_names(spec, DEFAULT_SETTINGS, [data.data[rows[0]]])
        for protocol in args.protocols.split(","):
            records = []
            for split, train, test in splits(protocol, space_groups, systems, args.seed, fcc_order):
                tag = f"seed{args.seed}-inner{args.inner_cv}"
                path = out / "splits" / f"{name}-{protocol}-{split}-{tag}.json"
                if not path.is_file():
                    record = fit_split(
                        spec, arrays, y, train, test, args.seed, args.inner_cv, names
                    )
                    path.write_text(json.dumps(record) + "\n")
                    print(f"{name} {protocol} {split}: {record['seconds']:.0f} s", flush=True)
                records.append(json.loads(path.read_text()))
            result = scores(records, y, list(data.target_names), protocol)
            result["fit_seconds"] = float(sum(r["seconds"] for r in records))
            # merged into the file as it is now: runs of other protocols may write beside
            if summary_path.is_file():
                summary = {
                    **json.loads(summary_path.read_text()),
                    **{k: summary[k] for k in ("materials", "ids", "seed", "inner_cv")},
                }
            summary.setdefault(protocol, {})[name] = result
            summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    (out / "results.md").write_text(report(summary, args) + "\n")
    (out / "results.rst").write_text(report_rst(summary) + "\n")
    print(report(summary, args))


def report(summary, args):
    lines = [
        "# The recommended model on every protocol",
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/bench_recommended.py --cache CACHE "
        f"--out OUT`; {summary['materials']} materials (`{summary['ids']}`), "
        f"seed {summary['seed']}, {summary['inner_cv']}-fold calibration in each training set. "
        "R^2 / log10-MAE (cv: mean over folds; others pooled).",
        "",
        "| protocol | model | K_VRH | G_VRH | fit s |",
        "|---|---|---|---|---|",
    ]
    for protocol in PROTOCOLS:
        for name, r in summary.get(protocol, {}).items():
            k, g = r["K_VRH"], r["G_VRH"]
            lines.append(
                f"| {protocol} | {name} | {k['r2']:.3f} / {k['log10_mae']:.3f} "
                f"| {g['r2']:.3f} / {g['log10_mae']:.3f} | {r['fit_seconds']:.0f} |"
            )
    lines += [
        "",
        "Conformal intervals: coverage of the test materials / median width relative to "
        "the prediction.",
        "",
        "| protocol | model | K 68% | K 90% | G 68% | G 90% |",
        "|---|---|---|---|---|---|",
    ]
    for protocol in PROTOCOLS:
        for name, r in summary.get(protocol, {}).items():
            cells = [
                f"{r[t][f'coverage_{c}']:.2f} / {r[t][f'relative_width_{c}']:.2f}"
                for t in ("K_VRH", "G_VRH")
                for c in CONFIDENCES
            ]
            lines.append(f"| {protocol} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


LABELS = {
    "interstitial_late_fusion": "**recommended** (interstitial_late_fusion)",
    "radial_late_fusion": "radial_late_fusion",
    "rf_descriptors_magpie": "RF+descriptors+Magpie",
    "rf_magpie": "RF+Magpie",
}
PROTOCOL_NAMES = {
    "bundled_cv": "bundled 5-fold CV (369 Fm-3m)",
    "extended_cv": "extended 5-fold CV",
    "transfer": "transfer (Fm-3m to other space groups)",
    "locso": "leave one crystal system out",
}


def _list_table(header, rows):
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines)


def report_rst(summary):
    """The two tables of ``results.md`` as reStructuredText (included by the docs)."""
    metric_rows, interval_rows = [], []
    for protocol in PROTOCOLS:
        for name, r in summary.get(protocol, {}).items():
            k, g = r["K_VRH"], r["G_VRH"]
            label = LABELS.get(name, name)
            metric_rows.append(
                [
                    PROTOCOL_NAMES[protocol],
                    label,
                    f"{k['r2']:.3f} / {k['log10_mae']:.3f}",
                    f"{g['r2']:.3f} / {g['log10_mae']:.3f}",
                ]
            )
            interval_rows.append(
                [PROTOCOL_NAMES[protocol], label]
                + [
                    f"{r[t][f'coverage_{c}']:.2f} / {r[t][f'relative_width_{c}']:.2f}"
                    for t in ("K_VRH", "G_VRH")
                    for c in CONFIDENCES
                ]
            )
    return (
        _list_table(
            ["protocol", "model", "K_VRH R² / log10-MAE", "G_VRH R² / log10-MAE"], metric_rows
        )
        + "\n\n"
        + _list_table(["protocol", "model", "K 68%", "K 90%", "G 68%", "G 90%"], interval_rows)
    )


if __name__ == "__main__":
    main()
