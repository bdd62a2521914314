"""Table logic: cross-validation aggregation and leave-one-element-out wins."""

import numpy as np
import pytest

from skecd.benchmark import cv_table, loeo_table, regression_metrics


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
