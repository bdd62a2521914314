"""The shear-modulus study: which density information and which target help G_VRH.

    OMP_NUM_THREADS=1 python benchmarks/bench_shear.py --cache FEATURES_DIR \
        --out benchmarks/results/shear [--rows NAME,...] [--protocols NAME,...]

One ablation row per idea, every row on the same materials (the pinned list
``manifests/elastic_2315.txt``), the same splits and the same seed as
``bench_recommended.py``: bundled 5-fold CV (369 Fm-3m), the same folds with every
other material added to each training set (``bundled_cv_plus``: what more data of
other structure types does to held-out Fm-3m materials), extended 5-fold CV (all),
transfer (Fm-3m to every other space group) and leave one crystal system out. K_VRH
and G_VRH, R^2 and log10-MAE (fold means for the CVs, pooled otherwise), and the
fitting time of each row. Features are computed once and cached in ``--cache`` (plain
``.npy``; the registry's features in the cache of ``skecd train --feature-cache``);
each part's and each row's predictions per split are written to ``--out/parts`` and
``--out/splits`` (a rerun fits only what is missing; a part shared by rows is fitted
once), then ``summary.json`` and ``results.md``.

Feature groups:

- ``radial``: the radial profiles between the atoms (``RadialDensityFeaturizer``
  with ``core_radius=1``), with the 7 code-robust density descriptors: the input of
  the recommended model's network;
- ``angular``: ``AngularDensityFeaturizer`` (angular power spectra of the density
  on shells around each atom, cores left out);
- ``bonds``: ``BondCriticalPointFeaturizer`` (density, Laplacian, ellipticity at the
  bond points; reduced gradient and Laplacian between the atoms);
- ``descriptors``: all 27 ``ChargeDensityDescriptor`` columns; ``magpie``: Magpie.

Learners: ``rf`` (the registry's forest: 50 trees, raw GPa, one per target),
``hgb_log`` (scikit-learn's histogram gradient boosting, 500 iterations at rate 0.05,
one per target, on log10 moduli), ``net`` (the recommended model's network,
``InvariantFusionRegressor`` with the L1 loss on log10 moduli), ``qnet`` (the same after
scikit-learn's ``QuantileTransformer`` to normal scores); a row of several parts
averages their predictions in GPa (as ``LateFusionRegressor``), each part reading its own
groups. Targets: ``kg`` (K and G) or ``pugh`` (K and the Pugh ratio G/K, so that G is
learnt as K times it), for every part.
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
from bench_recommended import IDS, features, load, splits
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.multioutput import MultiOutputRegressor

from skecd.benchmark import regression_metrics
from skecd.datasets import load_fcc_elastic
from skecd.models import CODE_ROBUST_DESCRIPTORS
from skecd.preprocessing import (
    AngularDensityFeaturizer,
    BondCriticalPointFeaturizer,
    ChargeDensityDescriptor,
)

PROTOCOLS = ("bundled_cv", "bundled_cv_plus", "extended_cv", "transfer", "locso")


@dataclass(frozen=True)
class Row:
    """One ablation row: the mean of ``parts`` (each a learner and its feature groups, and
    optionally its own target instead of the row's)."""

    parts: tuple
    target: str = "kg"
    idea: str = ""


RADIAL = ("radial",)
DENSITY = ("radial", "descriptors", "angular", "bonds")  # every density-only group
ROWS = {
    # the baselines
    "rf_descriptors_magpie": Row((("rf", ("descriptors", "magpie")),), idea="baseline RF+d+M"),
    "hgb_descriptors_magpie": Row(
        (("hgb_log", ("descriptors", "magpie")),), idea="baseline, gradient boosting"
    ),
    # density only, gradient boosting: 1. angular spectra, 2. bonding topology
    "hgb_radial": Row((("hgb_log", RADIAL),), idea="density only: radial profiles"),
    "hgb_radial_angular": Row((("hgb_log", ("radial", "angular")),), idea="1. angular spectra"),
    "hgb_radial_bonds": Row((("hgb_log", ("radial", "bonds")),), idea="2. bond points, s, q"),
    "hgb_radial_angular_bonds": Row((("hgb_log", ("radial", "angular", "bonds")),), idea="1 + 2"),
    "hgb_density": Row((("hgb_log", DENSITY),), idea="1 + 2 + all 27 density descriptors"),
    "rf_density": Row((("rf", DENSITY),), idea="the same, the registry's forest"),
    # 4. targets: the Pugh ratio
    "hgb_density_pugh": Row(
        (("hgb_log", DENSITY),), target="pugh", idea="4. log K and log G/K as targets"
    ),
    # 3'. the density network (the recommended model's) on the new groups
    "net_radial": Row((("net", RADIAL),), idea="the recommended model's network"),
    "net_density": Row((("net", DENSITY),), idea="that network on 1 + 2 + descriptors"),
    "net_density_pugh": Row((("net", DENSITY),), target="pugh", idea="4. network, Pugh"),
    "net_hgb_density": Row(
        (("net", DENSITY), ("hgb_log", DENSITY)), idea="density only: network + boosting"
    ),
    "net_hgb_density_pugh": Row(
        (("net", DENSITY), ("hgb_log", DENSITY)), target="pugh", idea="the same, Pugh targets"
    ),
    "qnet_density": Row(
        (("qnet", DENSITY),),
        idea="the network on quantile-normalised inputs (bounded far from the data)",
    ),
    "qnet_hgb_density": Row(
        (("qnet", DENSITY), ("hgb_log", DENSITY)), idea="density only: that + boosting"
    ),
    "net_hgb_density_kg_pugh": Row(
        (
            ("net", DENSITY, "kg"),
            ("hgb_log", DENSITY, "kg"),
            ("net", DENSITY, "pugh"),
            ("hgb_log", DENSITY, "pugh"),
        ),
        idea="density only: network and boosting, each on both targets, averaged",
    ),
    # with composition
    "hgb_density_magpie": Row(
        (("hgb_log", DENSITY + ("magpie",)),), idea="density + Magpie, boosting"
    ),
    "net_rf_density_magpie": Row(
        (("net", DENSITY), ("rf", DENSITY + ("magpie",))),
        idea="network on density + the registry's forest on density and Magpie",
    ),
    "qnet_hgb_density_magpie": Row(
        (("qnet", DENSITY), ("hgb_log", DENSITY + ("magpie",))),
        idea="quantile network on density + boosting on density and Magpie",
    ),
    "net_hgb_density_magpie": Row(
        (("net", DENSITY), ("hgb_log", DENSITY + ("magpie",))),
        idea="network on density + boosting on density and Magpie",
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

    def _raw(self):  # a model that takes moduli (it learns their log10 itself)
        return _takes_moduli(self.regressor)

    def predict(self, X):
        z = np.asarray(self.regressor_.predict(X), dtype=float)
        if self._raw():
            z = np.log10(z)
        return np.column_stack([10.0 ** z[:, 0], 10.0 ** (z[:, 0] + z[:, 1])])


def _takes_moduli(model):
    """Whether ``model`` expects positive moduli (it learns their log10 itself)."""
    if hasattr(model, "steps"):
        model = model.steps[-1][1]
    return isinstance(model, TransformedTargetRegressor) or getattr(model, "log_target", False)


def _exp10(z):
    return 10.0**z


def log10_target(regressor):
    """``regressor`` fitted on log10 of the moduli, predicting GPa (scikit-learn's
    ``TransformedTargetRegressor``)."""
    return TransformedTargetRegressor(regressor, func=np.log10, inverse_func=_exp10)


def make_learner(name, seed):
    """A fresh estimator of learner ``name``."""
    if name == "rf":  # one forest per target, as the registry's forests are fitted
        return MultiOutputRegressor(RandomForestRegressor(50, random_state=seed))
    if name == "hgb_log":
        hgb = HistGradientBoostingRegressor(max_iter=500, learning_rate=0.05, random_state=seed)
        return log10_target(MultiOutputRegressor(hgb))
    if name == "net":
        import torch

        from skecd.models import InvariantFusionRegressor

        return InvariantFusionRegressor(
            criterion=torch.nn.L1Loss,
            module__point_channels=0,
            module__n_points=0,
            random_state=seed,
        )
    if name == "qnet":  # inputs mapped to normal scores first: bounded out of the data
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import QuantileTransformer

        q = QuantileTransformer(n_quantiles=200, output_distribution="normal")
        return Pipeline([("quantiles", q), ("net", make_learner("net", seed))])
    raise SystemExit(f"unknown learner {name!r}")


def new_feature(name, data, rows, ids, cache):
    """The study's new feature groups, cached as ``<cache>/<name>-<key>.npy``."""
    featurizer = {"angular": AngularDensityFeaturizer, "bonds": BondCriticalPointFeaturizer}[name]()
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


def protocol_splits(protocol, space_groups, systems, seed, fcc_order):
    """``bench_recommended``'s splits, and ``bundled_cv_plus``: its bundled folds with
    every material outside the bundled set added to each training set."""
    if protocol != "bundled_cv_plus":
        yield from splits(protocol, space_groups, systems, seed, fcc_order)
        return
    others = np.setdiff1d(np.arange(len(space_groups)), fcc_order)
    for split, train, test in splits("bundled_cv", space_groups, systems, seed, fcc_order):
        yield split, np.concatenate([train, others]), test


def fit_part(learner, groups, target, table, y, train, test, seed):
    """One part of a row fitted on a split: its test predictions (GPa) and seconds."""
    X = np.hstack([table[g] for g in groups])
    model = make_learner(learner, seed)
    if target == "pugh":
        model = PughTarget(model)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the networks' clipping notes
        model.fit(X[train], y[train])
        pred = np.asarray(model.predict(X[test]), dtype=float).reshape(len(test), -1)
    return {"seconds": time.perf_counter() - start, "test": test.tolist(), "pred": _rounded(pred)}


def _rounded(pred):
    """Predictions in GPa to 1e-4 GPa (far below any error), to keep the records small."""
    return np.round(np.asarray(pred, dtype=float), 4).tolist()


def fit_split(row, table, y, train, test, seed, path_of):
    """A row on a split: the mean of its parts' predictions (``LateFusionRegressor``'s
    equal-weight mean; each part is fitted on its own, so a part shared by several rows
    is fitted once and its record, at ``path_of(part name)``, reused)."""
    records = []
    for learner, groups, *own in row.parts:  # a part may name its own target
        target = own[0] if own else row.target
        path = path_of("-".join([learner, *groups, target]))
        if not path.is_file():
            record = fit_part(learner, groups, target, table, y, train, test, seed)
            path.write_text(json.dumps(record) + "\n")
        records.append(json.loads(path.read_text()))
    pred = np.mean([np.array(r["pred"]) for r in records], axis=0)
    seconds = float(sum(r["seconds"] for r in records))
    return {"seconds": seconds, "test": test.tolist(), "pred": _rounded(pred)}


def scores(records, y, names, protocol):
    out = {}
    for j, target in enumerate(names):
        per = [regression_metrics(y[r["test"], j], np.array(r["pred"])[:, j]) for r in records]
        if protocol.endswith("_cv"):
            out[target] = {k: float(np.mean([p[k] for p in per])) for k in ("r2", "log10_mae")}
        else:
            test = np.concatenate([r["test"] for r in records])
            pred = np.concatenate([np.array(r["pred"])[:, j] for r in records])
            full = regression_metrics(y[test, j], pred)
            out[target] = {k: float(full[k]) for k in ("r2", "log10_mae")}
    out["fit_seconds"] = float(sum(r["seconds"] for r in records))
    # isotropic elastic stability: Poisson's ratio in (-1, 1/2), i.e. 0 < G < 1.5 K
    pred = np.concatenate([np.array(r["pred"]) for r in records])
    k, g = pred[:, names.index("K_VRH")], pred[:, names.index("G_VRH")]
    out["unstable"] = int(np.sum((g <= 0) | (k <= 0) | (g >= 1.5 * k)))
    out["n_test"] = len(pred)
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
    (out / "parts").mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary.json"
    for name in args.rows.split(","):
        if name not in ROWS:
            raise SystemExit(f"unknown row {name!r}; known: {', '.join(ROWS)}")
        row = ROWS[name]
        for protocol in args.protocols.split(","):
            records = []
            for split, train, test in protocol_splits(
                protocol, space_groups, systems, args.seed, fcc_order
            ):
                tag = f"{protocol}-{split}-seed{args.seed}"
                path = out / "splits" / f"{name}-{tag}.json"
                if not path.is_file():

                    def path_of(part, tag=tag):
                        return out / "parts" / f"{part}-{tag}.json"

                    record = fit_split(row, table, y, train, test, args.seed, path_of)
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
    (out / "results.rst").write_text(report_rst(summary) + "\n")
    print(report(summary))


def report(summary):
    lines = [
        f"# The shear-modulus study ({summary['materials']} materials, `{summary['ids']}`, "
        f"seed {summary['seed']})",
        "",
        "Command: `OMP_NUM_THREADS=1 python benchmarks/bench_shear.py --cache FEATURES_DIR "
        "--out benchmarks/results/shear`. R^2 / log10-MAE; CV figures are fold means, the "
        "others pooled over the test materials; seconds: fitting time of the row over all "
        "splits of the protocol (one core, shared with other jobs); G >= 1.5 K: test "
        "predictions that break isotropic elastic stability (Poisson's ratio <= -1).",
    ]
    for protocol in PROTOCOLS:
        if protocol not in summary:
            continue
        lines += [
            "",
            f"## {protocol}",
            "",
            "| row | idea | K_VRH R2 | K_VRH log10-MAE | G_VRH R2 | G_VRH log10-MAE | seconds "
            "| G >= 1.5 K |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, r in summary[protocol].items():
            k, g = r["K_VRH"], r["G_VRH"]
            idea = ROWS[name].idea if name in ROWS else ""
            lines.append(
                f"| {name} | {idea} | {k['r2']:.3f} | {k['log10_mae']:.3f} | {g['r2']:.3f} | "
                f"{g['log10_mae']:.3f} | {r['fit_seconds']:.0f} | {r.get('unstable', '')} |"
            )
    return "\n".join(lines)


def report_rst(summary):
    """The tables of ``report`` as reStructuredText list-tables (included by the docs)."""
    lines = []
    for protocol in PROTOCOLS:
        if protocol not in summary:
            continue
        lines += [
            f".. list-table:: {protocol} (R\\ :sup:`2` / log10-MAE)",
            "   :header-rows: 1",
            "",
            "   * - row",
            "     - idea",
            "     - K_VRH",
            "     - G_VRH",
            "     - seconds",
        ]
        for name, r in summary[protocol].items():
            k, g = r["K_VRH"], r["G_VRH"]
            lines += [
                f"   * - ``{name}``",
                f"     - {ROWS[name].idea if name in ROWS else ''}",
                f"     - {k['r2']:.3f} / {k['log10_mae']:.3f}",
                f"     - {g['r2']:.3f} / {g['log10_mae']:.3f}",
                f"     - {r['fit_seconds']:.0f}",
            ]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
