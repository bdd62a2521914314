"""Tables (the paper's Table 2 and Table 3 layouts) and parity plots of benchmark results."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from .._atomic import atomic_write
from ..datasets import CRYSTAL_SYSTEMS, TARGET_NAMES
from ._metrics import regression_metrics
from ._models import MODELS
from ._paper import PAPER, PAPER_TABLE2
from ._runner import write_json

__all__ = [
    "cv_table",
    "loeo_table",
    "markdown_table",
    "parity_plots",
    "rst_table",
    "system_table",
    "write_report",
]

_TARGET_LABEL = {"K_VRH": "K_VRH (bulk)", "G_VRH": "G_VRH (shear)"}
_METRICS = (
    ("r2", "R^2", "{:.3f}"),
    ("rmse", "RMSE", "{:.1f}"),
    ("mae", "MAE", "{:.1f}"),
    ("log10_mae", "log10-MAE", "{:.3f}"),
)


def _model_order(names):
    order = list(MODELS)
    return sorted(set(names), key=lambda n: order.index(n) if n in order else len(order))


def _by(results, protocol):
    groups = defaultdict(list)
    for r in results:
        if r["protocol"] == protocol:
            groups[(r["model"], r["target"])].append(r)
    return groups


def _pooled(folds):
    """The out-of-fold truths and predictions of ``folds``, concatenated."""
    y_true = np.concatenate([f["y_true"] for f in folds])
    y_pred = np.concatenate([f["y_pred"] for f in folds])
    return y_true, y_pred


def cv_table(results):
    """Rows of the cross-validation table (the paper's Table 2).

    Parameters
    ----------
    results : list of dict
        Result records of :func:`skecd.benchmark.run_benchmark`.

    Returns
    -------
    list of dict
        One row per (model, target): the mean and standard deviation over folds
        of each metric (``r2``, ``r2_std``, ``rmse``, ...), the same metrics on the
        pooled out-of-fold predictions (``pooled``), ``n_folds`` and the summed
        ``fit_seconds``.
    """
    rows = []
    groups = _by(results, "cv")
    for model in _model_order(m for m, _ in groups):
        for target in TARGET_NAMES:
            folds = groups.get((model, target))
            if not folds:
                continue
            row = {
                "model": model,
                "label": folds[0]["label"],
                "target": target,
                "n_folds": len(folds),
                "fit_seconds": sum(f["fit_seconds"] for f in folds),
            }
            for key, _, _ in _METRICS:
                values = np.array([f["metrics"][key] for f in folds])
                row[key] = float(values.mean())
                row[f"{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            row["pooled"] = regression_metrics(*_pooled(folds))
            rows.append(row)
    return rows


def loeo_table(results):
    """Rows of the leave-one-element-out table (the paper's Table 3) and the wins.

    Parameters
    ----------
    results : list of dict

    Returns
    -------
    rows : list of dict
        One row per held-out element: ``element``, ``n_test`` and, for each
        target, ``{model: (r2, rmse)}``.
    wins : dict
        ``{model: number of tasks won}``, a task being one (element, target) and
        its winner the model with the highest R^2 there (ties share the win);
        None for a model whose tasks are not all done (it does not compete).
    models : list of str
    """
    per = defaultdict(dict)
    n_test = {}
    models = _model_order(r["model"] for r in results if r["protocol"] == "loeo")
    for r in results:
        if r["protocol"] != "loeo":
            continue
        per[(r["split"], r["target"])][r["model"]] = (r["metrics"]["r2"], r["metrics"]["rmse"])
        n_test[r["split"]] = r["metrics"]["n"]
    elements = sorted(n_test, key=lambda e: (-n_test[e], e))
    targets = sorted({t for _, t in per}, key=TARGET_NAMES.index)
    # only models with every (element, target) task done compete for wins
    complete = [
        m for m in models if all(m in per.get((e, t), {}) for e in elements for t in targets)
    ]
    rows, wins = [], {m: (0 if m in complete else None) for m in models}
    for element in elements:
        row = {"element": element, "n_test": n_test[element]}
        for target in TARGET_NAMES:
            cell = per.get((element, target), {})
            row[target] = cell
            if complete and all(m in cell for m in complete):
                best = max(cell[m][0] for m in complete)
                for m in complete:
                    wins[m] += int(cell[m][0] == best)
        rows.append(row)
    return rows, wins, models


def markdown_table(header, rows):
    """Return a GitHub-flavoured Markdown table (a list of lines)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def rst_table(header, rows):
    """Return a reStructuredText ``list-table`` (a list of lines) for the docs."""

    def cell(c):
        c = str(c)
        return "n/a" if c in ("", "-") else c

    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        cells = [cell(c) for c in row]
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {c}" for c in cells[1:]]
    return lines + [""]


def system_table(results, protocol):
    """Rows of the ``transfer`` or ``locso`` table: metrics per crystal system and overall.

    The test predictions of every split of ``protocol`` are pooled per (model,
    target) and scored on the materials of each crystal system, then on all of
    them (``crystal_system`` ``"all"``). For ``locso`` each system's materials
    are exactly those of the split that held it out.

    Parameters
    ----------
    results : list of dict
        Result records of :func:`skecd.benchmark.run_benchmark` (those of other
        protocols are ignored).
    protocol : {"transfer", "locso"}

    Returns
    -------
    list of dict
        One row per (model, target, crystal system): ``model``, ``label``,
        ``target``, ``crystal_system``, ``n_splits`` (splits pooled) and the
        metrics of :func:`skecd.benchmark.regression_metrics` (``n``, ``r2``,
        ``rmse``, ``mae``, ``log10_mae``).
    """
    rows = []
    groups = _by(results, protocol)
    for model in _model_order(m for m, _ in groups):
        for target in TARGET_NAMES:
            splits = groups.get((model, target))
            if not splits:
                continue
            systems = np.concatenate([s["crystal_systems"] for s in splits])
            y_true = np.concatenate([s["y_true"] for s in splits])
            y_pred = np.concatenate([s["y_pred"] for s in splits])
            present = [c for c in CRYSTAL_SYSTEMS if c in set(systems)]
            for system in [*present, "all"]:
                mask = np.ones(len(systems), bool) if system == "all" else systems == system
                row = {
                    "model": model,
                    "label": splits[0]["label"],
                    "target": target,
                    "crystal_system": system,
                    "n_splits": len(splits),
                }
                row.update(regression_metrics(y_true[mask], y_pred[mask]))
                rows.append(row)
    return rows


def _system_markdown(rows, protocol, table=markdown_table):
    """One table per target: a row per crystal system, ``R^2 / MAE / log10-MAE`` per model."""
    models = _model_order(r["model"] for r in rows)
    label = {r["model"]: r["label"] for r in rows}
    held = "Test crystal system" if protocol == "transfer" else "Held-out crystal system"
    lines = []
    for target in TARGET_NAMES:
        cells = {(r["crystal_system"], r["model"]): r for r in rows if r["target"] == target}
        if not cells:
            continue
        systems = [c for c in (*CRYSTAL_SYSTEMS, "all") if any(k[0] == c for k in cells)]
        lines += [
            "",
            f"**{_TARGET_LABEL[target]}**: R^2 / MAE (GPa) / log10-MAE on the test materials",
            "",
        ]
        header = [held, "n test"] + [label[m] for m in models]
        body = []
        for system in systems:
            n = next(r["n"] for (c, _), r in cells.items() if c == system)
            values = []
            for m in models:
                r = cells.get((system, m))
                values.append(
                    "-" if r is None else f"{r['r2']:.2f} / {r['mae']:.1f} / {r['log10_mae']:.3f}"
                )
            body.append([system, n, *values])
        lines += table(header, body)
    return lines


def _cv_markdown(rows, n_splits=None, table=markdown_table):
    header = ["Model"]
    for target in TARGET_NAMES:
        header += [f"{target} {label}" for _, label, _ in _METRICS]
    by_model = defaultdict(dict)
    labels = {}
    for r in rows:
        by_model[r["model"]][r["target"]] = r
        labels[r["model"]] = r["label"]
    body = []
    for model, per_target in by_model.items():
        cells = [labels[model]]
        for target in TARGET_NAMES:
            r = per_target.get(target)
            partial = r is not None and n_splits and r["n_folds"] < n_splits
            for key, _, fmt in _METRICS:
                cells.append(
                    "-"
                    if r is None
                    else f"{fmt.format(r[key])} ± {fmt.format(r[key + '_std'])}"
                    + (f" ({r['n_folds']}/{n_splits} folds)" if partial else "")
                )
        body.append(cells)
    return table(header, body)


def _paper_markdown(cv_rows):
    """The paper's Table 2 figures of the models in ``cv_rows`` that it reports (else nothing)."""
    models = [m for m in dict.fromkeys(r["model"] for r in cv_rows) if m in PAPER_TABLE2]
    if not models:
        return []
    labels = {r["model"]: r["label"] for r in cv_rows}
    header = ["Model"] + [f"{t} R² / RMSE" for t in TARGET_NAMES]
    body = [
        [labels[m]] + ["{:.3f} / {:.1f}".format(*PAPER_TABLE2[m][t]) for t in TARGET_NAMES]
        for m in models
    ]
    return ["", f"The paper's figures for these models ({PAPER}; not the same data):", ""] + (
        markdown_table(header, body)
    )


def _loeo_markdown(rows, wins, models, table=markdown_table):
    label = {m: MODELS[m].label if m in MODELS else m for m in models}
    lines = []
    for target in TARGET_NAMES:
        lines += [
            "",
            f"**{_TARGET_LABEL[target]}**: R^2 / RMSE (GPa) on the held-out materials",
            "",
        ]
        header = ["Held-out element", "n test"] + [label[m] for m in models]
        body = []
        for row in rows:
            cell = row[target]
            best = max((v[0] for m, v in cell.items() if wins[m] is not None), default=None)
            values = []
            for m in models:
                if m not in cell:
                    values.append("-")
                    continue
                r2, rmse = cell[m]
                text = f"{r2:.2f} / {rmse:.1f}"
                values.append(f"**{text}**" if r2 == best and wins[m] is not None else text)
            body.append([row["element"], row["n_test"], *values])
        lines += table(header, body)
    n_tasks = sum(1 for row in rows for t in TARGET_NAMES if row[t])
    lines += [
        "",
        f"Tasks won (highest R^2 of {n_tasks} element x target tasks, in bold above; "
        "ties share; models with unfinished tasks do not compete):",
        "",
    ]
    lines += table(
        ["Model", "Wins"],
        [[label[m], "not all tasks done" if wins[m] is None else wins[m]] for m in models],
    )
    return lines


def parity_plots(results, out_dir, protocol="cv", n_splits=None):
    """Draw predicted vs DFT moduli for each model and target (the paper's Figure 5).

    For ``cv`` every material appears once, predicted by the fold that held it out.
    Besides one figure per (model, target), the overview figures gather the models
    of one target, at most :data:`_PANELS_PER_FIGURE` panels each: first the models
    of the paper's Table 2, then the others.

    Parameters
    ----------
    results : list of dict
    out_dir : str or path-like
    protocol : str, default="cv"
    n_splits : int, default=None
        Skip the (model, target) pairs with fewer splits than this (runs in progress).

    Returns
    -------
    list of pathlib.Path
        The overview PNG files, named ``parity_<protocol>_<target>_<group>.png``
        (group ``paper`` or ``more``, numbered ``more_1``, ``more_2``, ... when
        the other models need several figures), then one PNG per (model, target),
        ``parity_<protocol>_<model>_<target>.png``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = {
        k: v for k, v in _by(results, protocol).items() if n_splits is None or len(v) >= n_splits
    }
    models = _model_order(m for m, _ in groups)
    overviews, singles = [], []
    for target in TARGET_NAMES:
        done = [m for m in models if groups.get((m, target))]
        for name, group_models, what in _overview_pages(done):
            path = out_dir / f"parity_{protocol}_{target}_{name}.png"
            panels = [
                (groups[(m, target)][0]["label"], *_pooled(groups[(m, target)]))
                for m in group_models
            ]
            title = f"{_TARGET_LABEL[target]}, {_PROTOCOL_TITLE.get(protocol, protocol)}: {what}"
            fig = _overview_figure(plt, panels, title)
            fig.savefig(path, dpi=100)
            plt.close(fig)
            overviews.append(path)
        for model in done:
            folds = groups[(model, target)]
            path = out_dir / f"parity_{protocol}_{model}_{target}.png"
            fig, ax = plt.subplots(figsize=(4, 4.3), layout="constrained")
            _parity(ax, *_pooled(folds), f"{_wrap(folds[0]['label'])}, {target}", pooled=True)
            fig.savefig(path, dpi=110)
            plt.close(fig)
            singles.append(path)
    return overviews + singles


#: Most panels in one overview figure (3 columns, 2 rows).
_PANELS_PER_FIGURE = 6
_PROTOCOL_TITLE = {
    "cv": "cross-validation (out-of-fold predictions)",
    "loeo": "leave one element out (each held-out material once)",
    "transfer": "trained on Fm-3m, tested on the other space groups",
    "locso": "leave one crystal system out (each held-out material once)",
}


def _overview_pages(models):
    """Split ``models`` into overview figures: ``[(name, models, description), ...]``.

    The paper's models (those of its Table 2) come first, then the others, each
    group in figures of at most ``_PANELS_PER_FIGURE`` panels, as even as possible.
    """
    paper = [m for m in models if m in PAPER_TABLE2]
    more = [m for m in models if m not in PAPER_TABLE2]
    pages = []
    for name, group, what in (
        ("paper", paper, "the models of the paper's Table 2"),
        ("more", more, "the other models"),
    ):
        n_pages = -(-len(group) // _PANELS_PER_FIGURE)
        for k in range(n_pages):
            part = group[k * len(group) // n_pages : (k + 1) * len(group) // n_pages]
            if n_pages == 1:
                pages.append((name, part, what))
            else:
                pages.append((f"{name}_{k + 1}", part, f"{what} ({k + 1} of {n_pages})"))
    return pages


def _overview_figure(plt, panels, title):
    """One figure of parity panels, ``panels``: ``[(label, y_true, y_pred), ...]``."""
    n_cols = min(3, len(panels))
    n_rows = -(-len(panels) // n_cols)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        squeeze=False,
        figsize=(3.4 * n_cols, 3.7 * n_rows + 0.4),
        layout="constrained",
    )
    for ax, (label, y_true, y_pred) in zip(axes.ravel(), panels, strict=False):
        _parity(ax, y_true, y_pred, _wrap(label), pooled=True)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    return fig


def _wrap(label, width=34):
    """``label`` broken into lines of at most ``width`` characters (panel titles)."""
    import textwrap

    return "\n".join(textwrap.wrap(label, width)) or label


def _parity(ax, y_true, y_pred, title, pooled=False):
    """A parity panel; ``pooled``: the points are several splits' predictions scored together."""
    m = regression_metrics(y_true, y_pred)
    hi = 1.05 * max(float(np.max(y_true)), float(np.max(y_pred)))
    lo = min(0.0, float(np.min(y_pred)))
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, zorder=0)
    ax.scatter(y_true, y_pred, s=8, alpha=0.6, edgecolors="none")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("DFT (GPa)")
    ax.set_ylabel("predicted (GPa)")
    r2 = "pooled R$^2$" if pooled else "R$^2$"
    ax.set_title(f"{title}\n{r2}={m['r2']:.3f}  RMSE={m['rmse']:.1f} GPa", fontsize=9)


def write_report(run, results_dir, extra_lines=()):
    """Write ``results.md``, ``summary.json``, ``tables/*.rst`` and the plots; return the text.

    Parameters
    ----------
    run : sklearn.utils.Bunch
        The return value of :func:`skecd.benchmark.run_benchmark`.
    results_dir : str or path-like
    extra_lines : sequence of str
        Lines added under the heading (for example the command line and timings).

    Returns
    -------
    str
        The Markdown report (also printed by ``skecd benchmark``).
    """
    results_dir = Path(results_dir)
    lines = ["# skecd benchmark results", "", *extra_lines]
    rst = {}
    feature_seconds, earlier = _feature_seconds(run, results_dir)
    summary = {
        "settings": run.settings,
        "feature_seconds": feature_seconds,
        "n_materials": len(run.data.material_ids),
        "splits": run.splits,
    }
    sections = (
        _cv_section(run, results_dir / "plots"),
        _system_sections(run.results),
        _loeo_section(run.results),
        _time_section(run, feature_seconds, earlier),
    )
    for section_lines, section_rst, section_summary in sections:
        lines += section_lines
        rst.update(section_rst)
        summary.update(section_summary)
    text = "\n".join(lines) + "\n"
    _write_report_files(results_dir, text, summary, rst)
    return text


def _cv_section(run, plot_dir):
    """The cross-validation table and its parity plots (nothing without ``cv`` results).

    Returns the Markdown lines, the reStructuredText tables and the summary keys.
    """
    cv_rows = cv_table(run.results)
    if not cv_rows:
        return [], {}, {}
    n_folds = len(run.splits.get("cv", ())) or max(r["n_folds"] for r in cv_rows)
    n_splits = len(run.splits.get("cv", ())) or None
    lines = [
        "",
        f"## {n_folds}-fold cross-validation (layout of the paper's Table 2)",
        "",
        "Mean ± standard deviation over the folds (each fold scored on its own test part); "
        "RMSE and MAE in GPa.",
        "",
    ]
    lines += _cv_markdown(cv_rows, n_splits)
    lines += _paper_markdown(cv_rows)
    plots = parity_plots(run.results, plot_dir, "cv", n_splits)
    overview = tuple(f"parity_cv_{t}_" for t in TARGET_NAMES)  # not the per-model figures
    lines += [
        "",
        "Parity plots (out-of-fold predictions): "
        + ", ".join(f"`plots/{p.name}`" for p in plots if p.name.startswith(overview))
        + "; one figure per model and target: `plots/parity_cv_<model>_<target>.png`.",
        "Their R² is the pooled one: all folds' out-of-fold predictions scored together, "
        "which differs from the mean of the folds' R² above (each fold has its own mean "
        "of the targets).",
    ]
    return lines, {"cv": _cv_markdown(cv_rows, n_splits, table=rst_table)}, {"cv": cv_rows}


def _system_sections(results):
    """The per-crystal-system tables of ``transfer`` and ``locso`` (those that were run).

    Returns the Markdown lines, the reStructuredText tables and the summary keys.
    """
    titles = {
        "transfer": "Transfer: trained on Fm-3m, tested on the other space groups",
        "locso": "Leave-one-crystal-system-out",
    }
    lines, rst, summary = [], {}, {}
    for protocol, title in titles.items():
        rows = system_table(results, protocol)
        if not rows:
            continue
        lines += ["", f"## {title}"]
        lines += _system_markdown(rows, protocol)
        rst[protocol] = _system_markdown(rows, protocol, table=rst_table)
        summary[protocol] = rows
    return lines, rst, summary


def _loeo_section(results):
    """The leave-one-element-out table and wins (nothing without ``loeo`` results).

    Returns the Markdown lines, the reStructuredText tables and the summary keys.
    """
    if not any(r["protocol"] == "loeo" for r in results):
        return [], {}, {}
    rows, wins, models = loeo_table(results)
    lines = ["", "## Leave-one-element-out (layout of the paper's Table 3)"]
    lines += _loeo_markdown(rows, wins, models)
    rst = {"loeo": _loeo_markdown(rows, wins, models, table=rst_table)}
    return lines, rst, {"loeo": {"rows": rows, "wins": wins}}


def _feature_seconds(run, results_dir):
    """The features' seconds, and whether they come from the directory's earlier report.

    A ``--report-only`` run whose feature cache is gone (it is not published)
    recorded no timing; it keeps those of the ``summary.json`` it replaces, when
    that one was made for as many materials.
    """
    if run.feature_seconds:
        return run.feature_seconds, False
    try:
        earlier = json.loads((Path(results_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, False
    if not isinstance(earlier, dict) or earlier.get("n_materials") != len(run.data.material_ids):
        return {}, False
    seconds = earlier.get("feature_seconds")
    return (seconds, True) if isinstance(seconds, dict) and seconds else ({}, False)


def _time_section(run, feature_seconds, earlier=False):
    """Feature seconds and, per protocol and model, fit + predict seconds.

    ``earlier``: the feature seconds are those of an earlier report.
    Returns the Markdown lines, the reStructuredText tables and the summary keys.
    """
    fit_seconds = defaultdict(float)
    for r in run.results:
        joint = r.get("targets_fitted", [r["target"]])
        if r["target"] == joint[0]:  # a joint fit's seconds are in each of its records: once
            fit_seconds[(r["protocol"], r["model"])] += r["fit_seconds"] + r["predict_seconds"]
    lines = [
        "",
        "## Time",
        "",
        "Features (computed once for all materials, seconds"
        + ("; as recorded by an earlier report, the feature cache being gone" if earlier else "")
        + "): "
        + (", ".join(f"{k} {v:.1f}" for k, v in feature_seconds.items()) or "none"),
        "",
    ]
    time_rows = [[p, MODELS[m].label, f"{t:.1f}"] for (p, m), t in fit_seconds.items()]
    time_header = ["Protocol", "Model", "Fit + predict, all splits and targets (s)"]
    lines += markdown_table(time_header, time_rows)
    summary = {"fit_seconds": {f"{p}/{m}": t for (p, m), t in fit_seconds.items()}}
    return lines, {"time": rst_table(time_header, time_rows)}, summary


def _write_report_files(results_dir, text, summary, rst):
    """Write ``results.md``, ``summary.json`` and ``tables/<name>.rst``, each atomically."""
    with atomic_write(results_dir / "results.md", encoding="utf-8") as fh:
        fh.write(text)
    write_json(results_dir / "summary.json", summary)
    # the same tables in reStructuredText, for a Sphinx results page
    for name, rst_lines in rst.items():
        with atomic_write(results_dir / "tables" / f"{name}.rst", encoding="utf-8") as fh:
            fh.write("\n".join(rst_lines) + "\n")
