"""skecd's estimator checks catch what they claim to, and pass the featuriser of the user guide."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.utils._param_validation import Interval

from skecd.io import load_density
from skecd.models import MagpieCNNRegressor
from skecd.preprocessing import BaseSampleFeaturizer
from skecd.utils.estimator_checks import (
    check_estimator,
    check_params_untouched,
    check_regressor_learns,
    check_sample_order_invariance,
    check_subset_invariance,
    valid_data,
)


class DensityGradientFeaturizer(BaseSampleFeaturizer):
    """The example of the user guide page "Extending skecd", as written there."""

    _parameter_constraints = {
        **BaseSampleFeaturizer._parameter_constraints,
        "power": [Interval(Integral, 1, None, closed="left")],
    }
    _parameter_messages = {"power": "must be an int >= 1"}
    _progress = ("Gradients", "density")

    def __init__(self, power=1, n_jobs=None, verbose=False):
        self.power = power
        self.n_jobs = n_jobs
        self.verbose = verbose

    def featurize_sample(self, sample, index):
        rho = load_density(sample, index=index)
        spacing = np.linalg.norm(rho.structure.lattice.matrix, axis=1) / rho.grid_shape
        grad = np.gradient(rho.total, *spacing)
        norm = np.sqrt(sum(g**2 for g in grad)) ** self.power
        return np.array([norm.mean(), norm.max()])

    def get_feature_names_out(self, input_features=None):
        return np.array(["grad_mean", "grad_max"], dtype=object)


def test_user_guide_featuriser_passes_every_check():
    check_estimator(DensityGradientFeaturizer(), "densities")
    X, _ = valid_data("densities")
    assert DensityGradientFeaturizer(n_jobs=2).fit_transform(X).shape == (len(X), 2)
    with pytest.raises(ValueError, match="DensityGradientFeaturizer: power must be an int >= 1"):
        DensityGradientFeaturizer(power=0).fit()
    with pytest.raises(TypeError, match="wrap it in a list"):
        DensityGradientFeaturizer().transform(X[0])


class _BatchDependent(DensityGradientFeaturizer):
    """Subtracts the batch mean: each row depends on the other samples."""

    def transform(self, X):
        out = super().transform(X)
        return out - out.mean(axis=0) + np.arange(len(out))[:, None]


class _ChangesParams(DensityGradientFeaturizer):
    def fit(self, X=None, y=None):
        self.power = 2
        return super().fit(X, y)


def test_checks_fail_estimators_that_break_them():
    X, y = valid_data("densities")
    with pytest.raises(AssertionError, match="shuffled X"):
        check_sample_order_invariance("_BatchDependent", _BatchDependent(), X, y)
    with pytest.raises(AssertionError, match="two batches"):
        check_subset_invariance("_BatchDependent", _BatchDependent(), X, y)
    with pytest.raises(AssertionError, match=r"changed the parameters \['power'\]"):
        check_params_untouched("_ChangesParams", _ChangesParams(), X, y)


def test_learning_check_fails_a_model_that_predicts_the_mean():
    X, y = valid_data("table")
    with pytest.raises(AssertionError, match="training R\\^2 is"):
        check_regressor_learns("DummyRegressor", DummyRegressor(), X, y)
    # a network that cannot move its weights predicts the (standardised) mean
    frozen = MagpieCNNRegressor(lr=0.0, max_epochs=3, random_state=0)
    with pytest.raises(AssertionError, match="training R\\^2 is"):
        check_regressor_learns("MagpieCNNRegressor", frozen, X, y)
    check_regressor_learns(
        "MagpieCNNRegressor", MagpieCNNRegressor(max_epochs=60, lr=1e-2, random_state=0), X, y
    )
