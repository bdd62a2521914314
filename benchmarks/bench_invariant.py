"""The invariant density network and its fusion: 5-fold CV, transfer, leave-one-element-out.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_invariant.py [--protocols cv transfer loeo]``;
writes ``benchmarks/results/invariant.json`` and the tables of the docs,
``benchmarks/results/invariant.rst`` (``--report-only`` rebuilds them from the JSON).

- ``cv``: the folds of ``skecd benchmark`` (``KFold(5, shuffle=True, random_state=0)`` over
  the 369 bundled Fm-3m materials), K_VRH and G_VRH learnt jointly by one model; R^2 is the
  mean over folds as in the benchmark tables, log10-MAE pooled (likewise in ``cv_ext``).
- ``transfer``: trained on all 369 Fm-3m materials, tested on the cubic materials of other
  space groups whose densities are in the extended set (:func:`skecd.datasets.load_elastic`).
- ``loeo``: the benchmark's leave-one-element-out splits (elements in at least 19 materials).
- ``cv_ext``: the folds of ``cv``, with every material of the extended set that is not Fm-3m
  (all crystal systems, the densities built so far) added to each training fold; the test
  folds are the same Fm-3m materials, so this measures what more, unlike data brings.

Protocols run separately (for example two processes side by side) are merged into the one
results file.

The models are the classes' defaults with ``random_state=0``:
``InvariantECDRegressor`` on :class:`~skecd.preprocessing.LocalDensityFeaturizer`, and
``InvariantFusionRegressor`` on the same descriptors (flattened) joined to
:class:`~skecd.preprocessing.ChargeDensityDescriptor` and
:class:`~skecd.preprocessing.MagpieFeaturizer`, or (``radial_*``) on
:class:`~skecd.preprocessing.RadialDensityFeaturizer` alone or joined to the density
descriptors; ``radial_l1_net``, the registry's ``radial_ecd``, trains with the L1 loss.
``radial_ensemble`` is :func:`~skecd.models.make_radial_ensemble` (the mean of
``radial_only_net`` and of a network on the profiles and descriptors learning the square
root of the moduli). The random forests of the benchmark (50 trees, seed 0, one per
target) are run on the same splits for comparison. Only the feature blocks the chosen
``--models`` need are computed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import KFold

from skecd.benchmark import log10_mae
from skecd.benchmark._runner import make_splits
from skecd.datasets import load_elastic, load_fcc_elastic
from skecd.models import (
    InvariantECDRegressor,
    InvariantFusionRegressor,
    feature_columns,
    make_radial_ensemble,
)
from skecd.preprocessing import (
    ChargeDensityDescriptor,
    LocalDensityFeaturizer,
    MagpieFeaturizer,
    RadialDensityFeaturizer,
)

RESULTS = Path(__file__).resolve().parent / "results" / "invariant.json"
TABLES = RESULTS.with_suffix(".rst")
TARGETS = ("K_VRH", "G_VRH")
MAGPIE_WIDTH = 132  # columns of MagpieFeaturizer, the last of the table
LABELS = {
    "invariant_ecd": "Invariant ECD net",
    "invariant_ecd_descriptors": "Invariant ECD net + density descriptors",
    "invariant_fusion": "Invariant fusion",
    "late_fusion": "Late fusion (invariant fusion + RF+descriptors+Magpie)",
    "radial_net": "Radial-profile density net + density descriptors",
    "radial_only_net": "Radial-profile density net",
    "radial_l1_net": "Radial-profile density net + density descriptors, L1 loss",
    "radial_ensemble": "Radial-profile density nets, log + sqrt targets (mean)",
    "rf_magpie": "RF+Magpie",
    "rf_descriptors_magpie": "RF+descriptors+Magpie",
}
DENSITY_NETS = tuple(m for m in LABELS if not m.startswith("rf_"))  # every model but forests
# LateFusionRegressor (make_late_fusion) predicts the mean of its parts, each fitted as here
# (tested in tests/models/test_late.py): the benchmark averages the fusion network's
# predictions with those of one forest of both targets on the table, instead of fitting the
# network a second time.
LATE_PARTS = ("invariant_fusion", "late_forest")
PROTOCOLS = ("cv", "transfer", "loeo", "cv_ext")


#: The computed feature blocks each model's input is made of.
NEEDS = {
    "invariant_ecd": ("local",),
    "invariant_ecd_descriptors": ("local", "table"),
    "invariant_fusion": ("local", "table"),
    "late_fusion": ("local", "table"),
    "late_forest": ("table",),
    "radial_net": ("radial", "table"),
    "radial_only_net": ("radial",),
    "radial_l1_net": ("radial", "table"),
    "radial_ensemble": ("radial", "table"),
    "rf_magpie": ("table",),
    "rf_descriptors_magpie": ("table",),
}


def _blocks(models):
    return {block for m in models for block in NEEDS[m]}


def _features(densities, cache=None, models=tuple(NEEDS)):
    """The inputs of ``models``; ``cache``: an .npz file that keeps them between runs.

    Only the feature blocks these models need are computed (the local descriptors of
    large cells take minutes); a cache holds whichever blocks were computed so far.
    """
    saved = {}
    if cache is not None and cache.is_file():
        with np.load(cache) as npz:
            saved = dict(npz)
    makers = {
        "local": lambda: LocalDensityFeaturizer().fit_transform(densities),
        "table": lambda: np.hstack(
            [
                ChargeDensityDescriptor().fit_transform(densities),
                MagpieFeaturizer().fit_transform(densities),
            ]
        ),
        "radial": lambda: RadialDensityFeaturizer().fit_transform(densities),
    }
    missing = sorted(_blocks(models) - set(saved))
    for block in missing:
        saved[block] = makers[block]()
    if missing and cache is not None:
        np.savez(cache, **saved)
    for block, values in saved.items():
        if len(values) != len(densities):
            raise ValueError(
                f"{cache}: {block} holds {len(values)} materials, not {len(densities)}"
            )
    out = {}
    if "local" in saved:
        local = saved["local"]
        flat = local.reshape(len(local), -1)
        out["invariant_ecd"] = local
    if "local" in saved and "table" in saved:
        table = saved["table"]
        out["invariant_ecd_descriptors"] = np.hstack([flat, table[:, :-MAGPIE_WIDTH]]).astype(
            np.float32
        )
        out["invariant_fusion"] = np.hstack([flat, table]).astype(np.float32)
    if "table" in saved:
        table = saved["table"]
        out["rf_magpie"] = table[:, -MAGPIE_WIDTH:]
        out["rf_descriptors_magpie"] = out["late_forest"] = table
    if "radial" in saved:
        radial = saved["radial"]
        # make_invariant_fusion(table=("radial",))
        out["radial_only_net"] = radial.astype(np.float32)
        if "table" in saved:
            # the column order of make_invariant_fusion(table=("radial", "descriptors"))
            out["radial_net"] = np.hstack([radial, saved["table"][:, :-MAGPIE_WIDTH]]).astype(
                np.float32
            )
            out["radial_l1_net"] = out["radial_net"]
            out["radial_ensemble"] = out["radial_net"]  # the column order of its FeatureUnion
    return out


def _predict(memo, split, name, feats, train, test, extra=None):
    """Predictions of model ``name`` on ``test``, fitted on ``train`` (+ ``extra``).

    ``memo`` keeps every model's predictions of a ``split`` for the late fusion.
    """
    if name == "late_fusion":
        parts = [_predict(memo, split, part, feats, train, test, extra) for part in LATE_PARTS]
        return np.mean(parts, axis=0)
    if (split, name) not in memo:
        X_train, y_train = feats[0][name][train], feats[1][train]
        if extra is not None:
            X_train = np.concatenate([X_train, extra[0][name]])
            y_train = np.concatenate([y_train, extra[1]])
        memo[split, name] = _fit_predict(name, X_train, y_train, feats[0][name][test])
    return memo[split, name]


def _merge(old, new):
    """``old`` results updated by ``new``, model by model within each protocol.

    A model's figures of one protocol are replaced only when ``new`` ran them, so the
    models of a table may come from separate runs on the same splits. A protocol whose
    test set changed (another ``n_test`` or ``n_extra``) is replaced whole.
    """
    merged = {**old, **{k: v for k, v in new.items() if k not in PROTOCOLS}}
    merged["models"] = sorted(
        set(old.get("models", [])) | set(new["models"]),
        key=lambda m: list(LABELS).index(m) if m in LABELS else len(LABELS),
    )
    merged["seconds"] = {**old.get("seconds", {}), **new["seconds"]}
    for protocol in PROTOCOLS:
        if protocol not in new:
            continue
        before = old.get(protocol, {})
        size = [k for k in ("n_test", "n_extra") if k in new[protocol]]
        if any(before.get(k) != new[protocol][k] for k in size):
            merged[protocol] = new[protocol]
        elif protocol == "loeo":
            merged[protocol] = {
                element: {**before.get(element, {}), **scores}
                for element, scores in new[protocol].items()
            }
        else:
            merged[protocol] = {**before, **new[protocol]}
    return merged


def _columns(*names):
    return {name: feature_columns(name) for name in names}


def _fit_predict(name, X_train, y_train, X_test):
    if name == "invariant_ecd":
        return InvariantECDRegressor(random_state=0).fit(X_train, y_train).predict(X_test)
    if name in ("invariant_fusion", "invariant_ecd_descriptors"):
        return InvariantFusionRegressor(random_state=0).fit(X_train, y_train).predict(X_test)
    if name == "radial_ensemble":  # make_radial_ensemble without its featurisers
        groups = {"radial": RadialDensityFeaturizer(), "descriptors": ChargeDensityDescriptor()}
        names = [f"{g}__{n}" for g, f in groups.items() for n in f.get_feature_names_out()]
        late = make_radial_ensemble(random_state=0, columns=_columns(*groups))
        X_train, X_test = (pd.DataFrame(X, columns=names) for X in (X_train, X_test))
        return late.fit(X_train, y_train).predict(X_test)
    if name.startswith("radial_"):  # a table only: make_invariant_fusion(..., points=False)
        # radial_l1_net is the registry's radial_ecd: the L1 loss on the log targets
        criterion = torch.nn.L1Loss if name == "radial_l1_net" else torch.nn.SmoothL1Loss
        net = InvariantFusionRegressor(
            random_state=0, criterion=criterion, module__point_channels=0, module__n_points=0
        )
        return net.fit(X_train, y_train).predict(X_test)
    if name == "late_forest":  # one forest of both targets, as in make_late_fusion
        forest = RandomForestRegressor(n_estimators=50, random_state=0)
        return forest.fit(X_train, y_train).predict(X_test)
    forest = RandomForestRegressor(n_estimators=50, random_state=0)
    return np.column_stack(
        [forest.fit(X_train, y_train[:, j]).predict(X_test) for j in range(y_train.shape[1])]
    )


def _scores(y, pred):
    return {
        t: {
            "r2": float(r2_score(y[:, j], pred[:, j])),
            "mae": float(mean_absolute_error(y[:, j], pred[:, j])),
            "log10_mae": float(log10_mae(y[:, j], pred[:, j])),
        }
        for j, t in enumerate(TARGETS)
    }


def _fold_and_pooled(folds, y, pred):
    """R^2 averaged over the folds (as ``skecd benchmark`` reports it) and pooled scores."""
    return {
        t: {"r2": float(np.mean([f[t]["r2"] for f in folds])), "pooled": _scores(y, pred)[t]}
        for t in TARGETS
    }


def _table(title, header, rows):
    """An rst list-table."""
    lines = [f".. list-table:: {title}", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines += [f"   * - {row[0]}"] + [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines) + "\n"


def _cell(score):
    return f"{score['r2']:.3f} / {score['log10_mae']:.3f}"


def _cv_cell(score):
    """R^2 averaged over the folds / pooled log10-MAE (older results: pooled R^2)."""
    if "pooled" not in score:
        return _cell(score)
    return f"{score['r2']:.3f} / {score['pooled']['log10_mae']:.3f}"


def write_tables(out, path=TABLES):
    """The rst tables of the docs from the results ``out`` (R^2 / log10-MAE)."""
    header = ["model"] + [f"{t} R² / log10-MAE" for t in TARGETS]
    parts = []

    def ran(protocol):  # the models of out["models"] that this protocol's run holds
        if protocol == "loeo":
            return [m for m in out["models"] if all(m in s for s in out["loeo"].values())]
        return [m for m in out["models"] if m in out[protocol]]

    if "cv" in out:
        models = ran("cv")
        rows = [[LABELS.get(m, m)] + [_cv_cell(out["cv"][m][t]) for t in TARGETS] for m in models]
        title = "5-fold CV: R² averaged over the folds / log10-MAE of the pooled predictions"
        parts.append(_table(title, header, rows))
    if "transfer" in out:
        models = ran("transfer")
        rows = [
            [LABELS.get(m, m)] + [_cell(out["transfer"][m][t]) for t in TARGETS] for m in models
        ]
        title = f"Trained on Fm-3m, tested on {out['transfer']['n_test']} other cubic materials"
        parts.append(_table(title, header, rows))
    if "cv_ext" in out:
        models = ran("cv_ext")
        rows = [
            [LABELS.get(m, m)] + [_cv_cell(out["cv_ext"][m][t]) for t in TARGETS] for m in models
        ]
        title = (
            f"5-fold CV on Fm-3m, {out['cv_ext']['n_extra']} materials of other space groups "
            "added to every training fold (R² averaged over the folds / log10-MAE)"
        )
        parts.append(_table(title, header, rows))
    if "loeo" in out:
        models = ran("loeo")
        rows, wins = [], dict.fromkeys(models, 0)
        for element, scores in out["loeo"].items():
            for t in TARGETS:
                best = max(models, key=lambda m: scores[m][t]["r2"])
                wins[best] += 1
                cells = [
                    (f"**{scores[m][t]['r2']:.3f}**" if m == best else f"{scores[m][t]['r2']:.3f}")
                    for m in models
                ]
                rows.append([f"{element} {t}"] + cells)
        rows.append(["wins"] + [str(wins[m]) for m in models])
        # the late fusion holds a forest on Magpie: the wins again without it
        others = [m for m in models if m != "late_fusion"]
        wins_alone = dict.fromkeys(others, 0)
        for scores in out["loeo"].values():
            for t in TARGETS:
                wins_alone[max(others, key=lambda m: scores[m][t]["r2"])] += 1
        rows.append(["wins without the late fusion"] + [str(wins_alone.get(m, "")) for m in models])
        title = "Leave-one-element-out, R² on the held-out element's materials"
        parts.append(_table(title, ["task"] + [LABELS.get(m, m) for m in models], rows))
        out["loeo_wins"] = wins
        out["loeo_density_net_wins"] = sum(wins[m] for m in DENSITY_NETS if m in wins)
        out["loeo_wins_without_late_fusion"] = wins_alone
        out["loeo_density_net_wins_without_late_fusion"] = sum(
            wins_alone[m] for m in DENSITY_NETS if m in wins_alone
        )
    path.write_text("\n".join(parts))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--protocols",
        nargs="+",
        default=["cv", "transfer", "loeo", "cv_ext"],
        choices=["cv", "transfer", "loeo", "cv_ext"],
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(LABELS),
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="folder keeping the computed features between runs (delete it when data change)",
    )
    parser.add_argument("--report-only", action="store_true", help="rebuild the tables")
    args = parser.parse_args(argv)
    if args.report_only:
        out = json.loads(RESULTS.read_text())
        write_tables(out)
        RESULTS.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {TABLES.name}")
        return
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    data = load_fcc_elastic()
    y = data.target
    cache = None
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)
        cache = args.cache.joinpath
    feats = _features(data.data, cache and cache("fm3m.npz"), args.models)
    out = {"n_fcc": len(y), "models": args.models}
    memo = {}
    start = time.time()
    if "cv" in args.protocols:
        out["cv"] = {}
        for name in args.models:
            pred, folds = np.zeros_like(y), []
            for k, (train, test) in enumerate(KFold(5, shuffle=True, random_state=0).split(y)):
                pred[test] = _predict(memo, ("cv", k), name, (feats, y), train, test)
                folds.append(_scores(y[test], pred[test]))
            out["cv"][name] = _fold_and_pooled(folds, y, pred)
            print(name, "cv", out["cv"][name], round(time.time() - start), flush=True)
    if "transfer" in args.protocols:
        other = load_elastic(crystal_systems="cubic", missing="ignore")
        keep = [i for i, sg in enumerate(other.space_groups) if sg != 225]
        dens = [other.data[i] for i in keep]
        y_other = other.target[keep]
        feats_other = _features(dens, cache and cache("transfer.npz"), args.models)
        out["transfer"] = {
            "n_test": len(keep),
            "space_groups": sorted({int(other.space_groups[i]) for i in keep}),
        }
        both = {m: np.concatenate([feats[m], feats_other[m]]) for m in feats if m in feats_other}
        train, test = np.arange(len(y)), np.arange(len(y), len(y) + len(keep))
        y_both = np.concatenate([y, y_other])
        for name in args.models:
            pred = _predict(memo, "transfer", name, (both, y_both), train, test)
            out["transfer"][name] = _scores(y_other, pred)
            print(name, "transfer", out["transfer"][name], flush=True)
    if "cv_ext" in args.protocols:
        extra = load_elastic(missing="ignore")
        keep = [i for i, sg in enumerate(extra.space_groups) if sg != 225]
        feats_extra = _features(
            [extra.data[i] for i in keep], cache and cache("extra.npz"), args.models
        )
        y_extra = extra.target[keep]
        out["cv_ext"] = {"n_extra": len(keep)}
        for name in args.models:
            pred, folds = np.zeros_like(y), []
            for k, (train, test) in enumerate(KFold(5, shuffle=True, random_state=0).split(y)):
                extra_set = (feats_extra, y_extra)
                pred[test] = _predict(memo, ("cv_ext", k), name, (feats, y), train, test, extra_set)
                folds.append(_scores(y[test], pred[test]))
            out["cv_ext"][name] = _fold_and_pooled(folds, y, pred)
            print(name, "cv_ext", out["cv_ext"][name], round(time.time() - start), flush=True)
    if "loeo" in args.protocols:
        out["loeo"] = {}
        for element, train, test in make_splits("loeo", data.formulas):
            out["loeo"][element] = {}
            for name in args.models:
                pred = _predict(memo, ("loeo", element), name, (feats, y), train, test)
                out["loeo"][element][name] = _scores(y[test], pred)
            print(element, out["loeo"][element], flush=True)
    out["seconds"] = {"+".join(args.protocols): round(time.time() - start)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if RESULTS.is_file():  # merge with the protocols and models of other runs
        out = _merge(json.loads(RESULTS.read_text()), out)
    write_tables(out)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {RESULTS.name} and {TABLES.name}")


if __name__ == "__main__":
    main()
