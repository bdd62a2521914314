"""A toy featuriser and a toy network, each as the extending page adds one (one small file).

``tests/benchmark/test_extending.py`` registers them with one line each and runs them
through the registry's public API.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from skecd.io import load_density
from skecd.models import SkecdNetRegressor
from skecd.preprocessing import BaseSampleFeaturizer


class DensitySpreadFeaturizer(BaseSampleFeaturizer):
    """Mean, standard deviation and 90th percentile of the total density (e/A^3).

    Parameters
    ----------
    n_jobs : int, default=None
    verbose : bool, default=False
    """

    _progress = ("Density spread", "density")

    def __init__(self, n_jobs=None, verbose=False):
        self.n_jobs = n_jobs
        self.verbose = verbose

    def featurize_sample(self, sample, index):
        rho = load_density(sample, index=index)  # errors name the sample
        total = np.asarray(rho.total, dtype=np.float64) / rho.structure.volume
        return np.array([total.mean(), total.std(), np.quantile(total, 0.9)])

    def get_feature_names_out(self, input_features=None):
        return np.array(["mean", "std", "p90"], dtype=object)


class TinyMLP(nn.Module):
    """Two dense layers on a table of features."""

    def __init__(self, n_features=3, n_outputs=1, width=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, width), nn.ReLU())
        self.head = nn.Linear(width, n_outputs)

    def forward_features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x))


class TinyMLPRegressor(SkecdNetRegressor):
    """The skorch regressor of :class:`TinyMLP` (states only what differs)."""

    _x_ndim = 2  # rank of X: 2 for tables
    _input_size_param = "n_features"  # the module keyword filled from X

    def __init__(self, module=TinyMLP, *args, lr=1e-2, **kwargs):
        super().__init__(module, *args, lr=lr, **kwargs)
