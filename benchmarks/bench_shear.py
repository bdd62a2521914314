"""The shear-modulus study: which density information and which target help G_VRH.

    OMP_NUM_THREADS=1 python benchmarks/bench_shear.py --cache FEATURES_DIR \
        --out benchmarks/results/shear [--rows NAME,...] [--protocols NAME,...]

One ablation row per idea, every row on the same materials (the pinned list
``manifests/elastic_2315.txt``), the same splits and the same seed as
``bench_recommended.py``: bundled 5-fold CV (369 Fm-3m), extended 5-fold CV (all),
transfer (Fm-3m to every other space group) and leave one crystal system out. K_VRH
and G_VRH, R^2 and log10-MAE (fold means for the CVs, pooled otherwise), and the
fitting time of each row. Features are computed once and cached in ``--cache`` (plain
``.npy``; the registry's features in the cache of ``skecd train --feature-cache``);
each split's predictions are written to ``--out/splits`` (a rerun fits only what is
missing), then ``summary.json`` and ``results.md``.

Feature groups:

- ``radial``: the radial profiles between the atoms (``RadialDensityFeaturizer``
  with ``core_radius=1``), with the 7 code-robust density descriptors: the input of
  the recommended model's network;
- ``angular``: ``AngularDensityFeaturizer`` (angular power spectra of the density
  on shells around each atom, cores left out);
- ``bonds``: ``BondCriticalPointFeaturizer`` (density, Laplacian, ellipticity at the
  bond points; reduced gradient and Laplacian between the atoms);
- ``descriptors``: all 27 ``ChargeDensityDescriptor`` columns; ``magpie``: Magpie.

Learners: ``rf`` (the registry's forest: 50 trees, raw GPa, both targets at once),
``rf_log`` (the same on log10 moduli), ``hgb_log`` (scikit-learn's histogram gradient
boosting, one per target, log10 moduli), ``net`` (the recommended model's network,
``InvariantFusionRegressor`` with the L1 loss on log10 moduli), ``late`` (``net`` on
the density groups averaged with ``rf`` on the forest groups, as the recommended
model). Targets: ``kg`` (K and G) or ``pugh`` (log10 K and log10 G/K, so that G is
learnt as K times the Pugh ratio).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.multioutput import MultiOutputRegressor

from bench_recommended import IDS, features, load, splits
from skecd.benchmark import regression_metrics
from skecd.datasets import load_fcc_elastic
from skecd.models import CODE_ROBUST_DESCRIPTORS, LateFusionRegressor
from skecd.preprocessing import (
    AngularDensityFeaturizer,
    BondCriticalPointFeaturizer,
    ChargeDensityDescriptor,
)

PROTOCOLS = ("bundled_cv", "extended_cv", "transfer", "locso")


@dataclass(frozen=True)
class Row:
    """One ablation row: the learner, its feature groups and its targets."""

    learner: str
    groups: tuple
    forest_groups: tuple = ()
    target: str = "kg"
    idea: str = ""


ROWS = {
    # the baselines
    "rf_descriptors_magpie": Row("rf", ("descriptors", "magpie"), idea="baseline RF+d+M"),
    "recommended": Row(
        "late", ("radial",), ("robust", "magpie"), idea="the recommended model (no intervals)"
    ),
    # 1. angular descriptors, 2. bonding topology: density only, forests
    "rf_radial": Row("rf", ("radial",), idea="density only: radial"),
    "rf_radial_angular": Row("rf", ("radial", "angular"), idea="1. angular spectra"),
    "rf_radial_bonds": Row("rf", ("radial", "bonds"), idea="2. bond points, s and q"),
    "rf_radial_angular_bonds": Row("rf", ("radial", "angular", "bonds"), idea="1 + 2"),
    "rf_log_radial_angular_bonds": Row(
        "rf_log", ("radial", "angular", "bonds"), idea="1 + 2, log10 targets"
    ),
    "hgb_log_radial_angular_bonds": Row(
        "hgb_log", ("radial", "angular", "bonds"), idea="1 + 2, gradient boosting"
    ),
    "hgb_log_radial": Row("hgb_log", ("radial",), idea="radial, gradient boosting"),
    # the density network with the new groups
    "net_radial": Row("net", ("radial",), idea="the recommended model's network alone"),
    "net_radial_angular_bonds": Row(
        "net", ("radial", "angular", "bonds"), idea="network, 1 + 2"
    ),
    # 4. targets: the Pugh ratio
    "hgb_log_radial_angular_bonds_pugh": Row(
        "hgb_log", ("radial", "angular", "bonds"), target="pugh", idea="4. Pugh-ratio target"
    ),
    "net_radial_angular_bonds_pugh": Row(
        "net", ("radial", "angular", "bonds"), target="pugh", idea="4. network, Pugh target"
    ),
    # with composition
    "hgb_log_all_magpie": Row(
        "hgb_log", ("radial", "angular", "bonds", "magpie"), idea="1 + 2 + Magpie, boosting"
    ),
    "late_angular_bonds": Row(
        "late",
        ("radial", "angular", "bonds"),
        ("robust", "angular", "bonds", "magpie"),
        idea="the recommended layout with 1 + 2 in both parts",
    ),
}


class PughTarget(RegressorMixin, BaseEstimator):
    """Learn ``(log10 K, log10 G/K)`` with ``regressor`` and return ``(K, G)`` in GPa.

    A research variant of this study (kept in benchmarks/ unless it wins).
    """

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        z = np.column_stack([np.log10(y[:, 0]), np.log10(y[:, 1] / y[:, 0])])
        self.regressor_ = clone(self.regressor).fit(X, 10.0**z if self._raw() else z)
        return self

    def _raw(self):  # the network learns log10 of what it is given
        return getattr(self.regressor, "log_target", False)

    def predict(self, X):
        z = np.asarray(self.regressor_.predict(X), dtype=float)
        if self._raw():
            z = np.log10(z)
        return np.column_stack([10.0 ** z[:, 0], 10.0 ** (z[:, 0] + z[:, 1])])


class Log10Target(RegressorMixin, BaseEstimator):
    """``regressor`` fitted on log10 of the moduli; predictions back in GPa."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X, y):
        self.regressor_ = clone(self.regressor).fit(X, np.log10(y))
        return self

    def predict(self, X):
        return 10.0 ** np.asarray(self.regressor_.predict(X), dtype=float)


def make_learner(name, seed, n_density=None):
    """A fresh estimator of learner ``name`` (columns of the late fusion split at
    ``n_density``: the network's groups first, then the forest's)."""
    if name == "rf":
        return RandomForestRegressor(50, random_state=seed)
    if name == "rf_log":
        return Log10Target(RandomForestRegressor(50, random_state=seed))
    if name == "hgb_log":
        hgb = HistGradientBoostingRegressor(max_iter=500, learning_rate=0.05, random_state=seed)
        return Log10Target(MultiOutputRegressor(hgb))
    if name == "net":
        import torch

        from skecd.models import InvariantFusionRegressor

        return InvariantFusionRegressor(
            criterion=torch.nn.L1Loss,
            module__point_channels=0,
            module__n_points=0,
            random_state=seed,
        )
    if name == "late":
        from sklearn.compose import ColumnTransformer
        from sklearn.pipeline import Pipeline

        def cols(index):
            return ColumnTransformer([("x", "passthrough", index)])

        net = Pipeline([("x", cols(slice(0, n_density))), ("net", make_learner("net", seed))])
        rf = Pipeline([("x", cols(slice(n_density, None))), ("rf", make_learner("rf", seed))])
        return LateFusionRegressor([("network", net), ("forest", rf)])
    raise SystemExit(f"unknown learner {name!r}")


def new_feature(name, data, rows, ids, cache):
    """The study's new feature groups, cached as ``<cache>/<name>-<key>.npy``."""
    featurizer = {"angular": AngularDensityFeaturizer, "bonds": BondCriticalPointFeaturizer}[
        name
    ]()
    text = json.dumps([list(ids), type(featurizer).__name__, featurizer.get_params()])
    path = Path(cache) / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    start = time.perf_counter()
    X = featurizer.fit_transform([data.data[i] for i in rows])
    np.save(path, X, allow_pickle=False)
    print(f"feature {name}: {X.shape} in {time.perf_counter() - start:.0f} s", flush=True)
    return X


def groups(data, rows, ids, cache):
    """Every feature group of the study, by name (arrays over the pinned materials)."""
    descriptors = features("descriptors", data, rows, ids, cache)
    names = list(ChargeDensityDescriptor().get_feature_names_out())
    robust = descriptors[:, [names.index(c) for c in CODE_ROBUST_DESCRIPTORS]]
    radial = features("radial_interstitial", data, rows, ids, cache)
    return {
        "radial": np.hstack([radial, robust]),
        "robust": robust,
        "descriptors": descriptors,
        "magpie": features("magpie", data, rows, ids, cache),
        "angular": new_feature("angular", data, rows, ids, cache),
        "bonds": new_feature("bonds", data, rows, ids, cache),
    }


def fit_split(row, table, y, train, test, seed):
    X = np.hstack([table[g] for g in row.groups + row.forest_groups])
    n_density = sum(table[g].shape[1] for g in row.groups)
    model = make_learner(row.learner, seed, n_density)
    if row.target == "pugh":
        model = PughTarget(model)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the networks' clipping notes
        model.fit(X[train], y[train])
        pred = np.asarray(model.predict(X[test]), dtype=float).reshape(len(test), -1)
    return {"seconds": time.perf_counter() - start, "test": test.tolist(), "pred": pred.tolist()}


def scores(records, y, names, protocol):
    out = {}
    for j, target in enumerate(names):
        per = [
            regression_metrics(y[r["test"], j], np.array(r["pred"])[:, j]) for r in records
        ]
        if protocol.endswith("_cv"):
            out[target] = {k: float(np.mean([p[k] for p in per])) for k in ("r2", "log10_mae")}
        else:
            test = np.concatenate([r["test"] for r in records])
            pred = np.concatenate([np.array(r["pred"])[:, j] for r in records])
            full = regression_metrics(y[test, j], pred)
            out[target] = {k: float(full[k]) for k in ("r2", "log10_mae")}
    out["fit_seconds"] = float(sum(r["seconds"] for r in records))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True, help="feature cache directory (.npy)")
    parser.add_argument("--out", required=True, help="results directory")
    parser.add_argument("--ids", default=str(IDS), help="pinned material ids, one a line")
    parser.add_argument("--rows", default=",".join(ROWS), help="ablation rows to run")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    data, rows, ids = load(args.ids)
    y = data.target[rows]
    space_groups = np.asarray(data.space_groups)[rows]
    systems = np.asarray(data.crystal_systems)[rows]
    position = {m: i for i, m in enumerate(ids)}
    fcc_order = [position[str(m)] for m in load_fcc_elastic().material_ids]
    table = groups(data, rows, ids, args.cache)
    out = Path(args.out)
    (out / "splits").mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary.json"
    for name in args.rows.split(","):
        if name not in ROWS:
            raise SystemExit(f"unknown row {name!r}; known: {', '.join(ROWS)}")
        row = ROWS[name]
        for protocol in args.protocols.split(","):
            records = []
            for split, train, test in splits(protocol, space_groups, systems, args.seed, fcc_order):
                path = out / "splits" / f"{name}-{protocol}-{split}-seed{args.seed}.json"
                if not path.is_file():
                    record = fit_split(row, table, y, train, test, args.seed)
                    path.write_text(json.dumps(record) + "\n")
                    print(f"{name} {protocol} {split}: {record['seconds']:.0f} s", flush=True)
                records.append(json.loads(path.read_text()))
            # merged into the file as it is now: runs of other rows may write beside
            summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
            summary.update(materials=len(ids), ids=Path(args.ids).name, seed=args.seed)
            summary.setdefault(protocol, {})[name] = scores(
                records, y, list(data.target_names), protocol
            )
            summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    summary = json.loads(summary_path.read_text())
    (out / "results.md").write_text(report(summary) + "\n")
    print(report(summary))


def report(summary):
    lines = [
        f"# The shear-modulus study ({summary['materials']} materials, `{summary['ids']}`, "
        f"seed {summary['seed']})",
        "",
        "Command: `OMP_NUM_THREADS=1 python benchmarks/bench_shear.py --cache FEATURES_DIR "
        "--out benchmarks/results/shear`. R^2 / log10-MAE; CV figures are fold means, the "
        "others pooled over the test materials; seconds: fitting time of the row over all "
        "splits of the protocol (one core).",
    ]
    for protocol in PROTOCOLS:
        if protocol not in summary:
            continue
        lines += [
            "",
            f"## {protocol}",
            "",
            "| row | idea | K_VRH R2 | K_VRH log10-MAE | G_VRH R2 | G_VRH log10-MAE | seconds |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, r in summary[protocol].items():
            k, g = r["K_VRH"], r["G_VRH"]
            idea = ROWS[name].idea if name in ROWS else ""
            lines.append(
                f"| {name} | {idea} | {k['r2']:.3f} | {k['log10_mae']:.3f} | {g['r2']:.3f} | "
                f"{g['log10_mae']:.3f} | {r['fit_seconds']:.0f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
