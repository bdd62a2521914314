"""The benchmark's metrics agree with scikit-learn's and with the Matbench definition."""

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from skecd.benchmark import LOG_FLOOR_GPA, log10_mae, regression_metrics
from skecd.datasets import load_fcc_elastic_structures


@pytest.fixture(scope="module")
def moduli():
    """Real DFT moduli and a noisy 'prediction' of them."""
    y = load_fcc_elastic_structures().target[:, 0]
    rng = np.random.default_rng(0)
    return y, y * rng.lognormal(0.0, 0.2, size=y.size) + rng.normal(0, 5, size=y.size)


def test_regression_metrics_match_sklearn(moduli):
    y, pred = moduli
    m = regression_metrics(y, pred)
    assert m["n"] == y.size
    assert m["r2"] == pytest.approx(r2_score(y, pred))
    assert m["rmse"] == pytest.approx(root_mean_squared_error(y, pred))
    assert m["mae"] == pytest.approx(mean_absolute_error(y, pred))
    assert m["log10_mae"] == pytest.approx(log10_mae(y, pred))


def test_log10_mae_is_mae_of_log10(moduli):
    y, pred = moduli
    pred = np.abs(pred) + 1.0
    assert log10_mae(y, pred) == pytest.approx(np.mean(np.abs(np.log10(y) - np.log10(pred))))
    assert log10_mae(y, y) == 0.0


def test_log10_mae_clips_non_positive_predictions():
    y = np.array([10.0, 100.0])
    pred = np.array([-5.0, 100.0])
    expected = np.abs(np.log10(10.0) - np.log10(LOG_FLOOR_GPA)) / 2
    assert log10_mae(y, pred) == pytest.approx(expected)
    assert np.isfinite(regression_metrics(y, pred)["log10_mae"])


def test_metrics_reject_bad_predictions():
    with pytest.raises(ValueError, match="differ in length"):
        regression_metrics([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        regression_metrics([1.0, 2.0], [1.0, np.nan])
