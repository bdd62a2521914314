"""Table logic: cross-validation aggregation and leave-one-element-out wins."""

import numpy as np
import pytest

from skecd.benchmark import MODELS, cv_table, loeo_table, parity_plots, regression_metrics
from skecd.benchmark._paper import PAPER_TABLE2
from skecd.benchmark._report import _overview_figure, _overview_pages


def _record(model, target, protocol, split, y_true, y_pred):
    return {
        "model": model,
        "label": model,
        "target": target,
        "protocol": protocol,
        "split": split,
        "y_true": list(y_true),
        "y_pred": list(y_pred),
        "metrics": regression_metrics(y_true, y_pred),
        "fit_seconds": 1.0,
        "predict_seconds": 0.0,
    }


def test_cv_table_means_over_folds_and_pools():
    folds = [([10.0, 20.0, 30.0], [12.0, 18.0, 33.0]), ([40.0, 50.0, 60.0], [41.0, 55.0, 58.0])]
    results = [
        _record("rf_magpie", "K_VRH", "cv", f"fold{i}", t, p) for i, (t, p) in enumerate(folds)
    ]
    (row,) = cv_table(results)
    per_fold = [regression_metrics(t, p) for t, p in folds]
    assert row["n_folds"] == 2
    assert row["rmse"] == pytest.approx(np.mean([m["rmse"] for m in per_fold]))
    assert row["r2_std"] == pytest.approx(np.std([m["r2"] for m in per_fold], ddof=1))
    pooled = regression_metrics(sum((t for t, _ in folds), []), sum((p for _, p in folds), []))
    assert row["pooled"] == pooled


def test_loeo_wins_count_only_models_with_every_task():
    y = [10.0, 20.0, 30.0]
    good, bad = [11.0, 19.0, 31.0], [30.0, 10.0, 20.0]
    results = []
    for element in ("Na", "Cl"):
        for target in ("K_VRH", "G_VRH"):
            results.append(_record("rf_magpie", target, "loeo", element, y, good))
            results.append(_record("cnn3d_ecd", target, "loeo", element, y, bad))
    results.append(_record("cgcnn", "K_VRH", "loeo", "Na", y, y))  # unfinished, perfect
    rows, wins, models = loeo_table(results)
    assert [r["element"] for r in rows] == ["Cl", "Na"]
    assert wins == {"rf_magpie": 4, "cnn3d_ecd": 0, "cgcnn": None}
    assert models == ["rf_magpie", "cnn3d_ecd", "cgcnn"]


def test_parity_overviews_hold_at_most_six_models_each_paper_first(tmp_path):
    models = list(MODELS)
    pages = _overview_pages(models)
    assert all(1 <= len(page) <= 6 for _, page, _ in pages)
    assert [m for _, page, _ in pages for m in page] == sorted(
        models, key=lambda m: m not in PAPER_TABLE2
    )  # every model once, the paper's first
    assert pages[0][0] == "paper" and set(pages[0][1]) == set(PAPER_TABLE2)

    rng = np.random.default_rng(0)
    y = rng.uniform(5, 300, 20)
    results = [
        _record(m, "K_VRH", "cv", f"fold{i}", y[i::2], y[i::2] + rng.normal(0, 10, 10))
        for m in models
        for i in range(2)
    ]
    paths = parity_plots(results, tmp_path)
    overviews = [f"parity_cv_K_VRH_{name}.png" for name, _, _ in pages]
    assert [p.name for p in paths] == overviews + [f"parity_cv_{m}_K_VRH.png" for m in models]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert not (tmp_path / "parity_cv_all.png").exists()


def test_parity_overview_titles_do_not_overlap_or_leave_the_figure():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    longest = sorted((spec.label for spec in MODELS.values()), key=len)[-6:]
    y = np.linspace(1, 300, 30)
    fig = _overview_figure(plt, [(label, y, 0.9 * y) for label in longest], "K_VRH (bulk)")
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [ax.title.get_window_extent(renderer) for ax in fig.axes]
        boxes += [fig._suptitle.get_window_extent(renderer)]
        boxes += [ax.get_tightbbox(renderer) for ax in fig.axes]  # ticks and axis labels
        figure = fig.bbox
        for box in boxes:
            assert figure.x0 <= box.x0 and box.x1 <= figure.x1
            assert figure.y0 <= box.y0 and box.y1 <= figure.y1
        titles = boxes[: len(fig.axes) + 1]
        for i, a in enumerate(titles):
            for b in titles[i + 1 :]:
                assert not a.overlaps(b), (a, b)
    finally:
        plt.close(fig)
