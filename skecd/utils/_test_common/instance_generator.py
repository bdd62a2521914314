"""The one table of how skecd's estimators are checked (``tests/test_common.py``).

- ``INIT_PARAMS``: constructor arguments for the checks (tiny networks, few
  epochs, seeded).
- ``INPUT_KIND``: the valid input of each estimator, built by
  :func:`skecd.utils.estimator_checks.valid_data` (a featuriser derived from
  ``BaseSampleFeaturizer`` takes densities and needs no line here).
- ``LEARN_PARAMS``: what a network is given to fit a handful of samples in
  ``check_regressor_learns`` (more epochs, a larger learning rate).
- ``EXPECTED_FAILED_CHECKS``: the scikit-learn checks that truly cannot apply,
  each with its reason. The test marks them strict xfail (a check that starts
  to pass fails the test, so the entry must go) and rejects a key that names
  no check of that estimator.

scikit-learn's checks that feed numeric tables are run only on estimators whose
input is a numeric table (``INPUT_KIND == "table"``); on the others they are
skipped with the reason ``TABLE_CHECKS_REASON``, and skecd's own checks
(``skecd.utils.estimator_checks``) test the same properties on valid input.
"""

from __future__ import annotations

#: scikit-learn checks that need no data, or only test an error before any data is read:
#: they run on every estimator.
API_CHECKS = frozenset(
    {
        "check_do_not_raise_errors_in_init_or_set_params",
        "check_estimator_cloneable",
        "check_estimator_repr",
        "check_estimator_tags_renamed",
        "check_estimators_unfitted",
        "check_get_params_invariance",
        "check_mixin_order",
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_set_params",
        "check_transformers_unfitted",
        "check_valid_tag_types",
    }
)

TABLE_CHECKS_REASON = (
    "feeds numeric tables, and this estimator takes {kind}; skecd's checks "
    "(skecd.utils.estimator_checks) test the same property on valid input"
)

_SKORCH_SET_PARAMS = (
    "skorch's set_params re-initialises the callbacks and optimizer at once, and this check "
    "sets nonsense values that they cannot be built with"
)
_SKORCH_INIT = (
    "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_ and "
    "stores the module__* keyword arguments as attributes"
)
_SKORCH_TABLE = {
    "check_no_attributes_set_in_init": _SKORCH_INIT,
    "check_set_params": _SKORCH_SET_PARAMS,
}

# Each value: {check_name: reason}; estimators in alphabetical order.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "CGCNNRegressor": dict(_SKORCH_TABLE),
    "ECD3DCNNRegressor": dict(_SKORCH_TABLE),
    "InvariantECDRegressor": dict(_SKORCH_TABLE),
    "InvariantFusionRegressor": dict(_SKORCH_TABLE),
    "MagpieCNNRegressor": {
        **_SKORCH_TABLE,
        "check_regressor_multioutput": "this check feeds make_regression's targets of either "
        "sign whatever the positive_only tag says, and log_target=True (the default) refuses a "
        "modulus <= 0; multi-output fits are tested on real moduli in "
        "tests/models/test_regressors.py",
    },
    "SEProjectedCNNRegressor": dict(_SKORCH_TABLE),
}

_TINY_ECD = {
    "module__conv1_channels": 4,
    "module__conv2_channels": 4,
    "module__dense_widths": (8, 8),
}


_TINY_INVARIANT = {
    "max_epochs": 2,
    "random_state": 0,
    "early_stopping": False,
    "module__n_members": 2,
    "module__n_quantiles": 4,
    "module__hidden_widths": (16, 16),
}


def _tiny_fusion_branches():
    from sklearn.pipeline import make_pipeline

    from skecd.models import ECD3DCNNRegressor, MagpieCNNRegressor
    from skecd.preprocessing import ChargeDensityVoxelizer, MagpieFeaturizer

    magpie = make_pipeline(
        MagpieFeaturizer(pad_to_square=True), MagpieCNNRegressor(max_epochs=2, random_state=0)
    )
    ecd = make_pipeline(
        ChargeDensityVoxelizer(grid_size=20),
        ECD3DCNNRegressor(max_epochs=2, random_state=0, **_TINY_ECD),
    )
    return {"magpie_branch": magpie, "ecd_branch": ecd}


def _late_fusion_estimators():
    """Two unlike table regressors for the late fusion's checks."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge

    return [("ridge", Ridge()), ("forest", RandomForestRegressor(10, random_state=0))]


# Constructor arguments for the checks, by estimator class name.
INIT_PARAMS: dict[str, dict] = {
    "AxisProjector": {},
    "CGCNNRegressor": {
        "max_epochs": 2,
        "batch_size": 8,
        "random_state": 0,
        "module__atom_fea_len": 4,
        "module__h_fea_len": 8,
    },
    "ChargeDensityDescriptor": {"n_bins": 6, "percentiles": (10, 50, 90)},
    "ChargeDensityVoxelizer": {"grid_size": 8},
    # estimator: a forest; the generic checks' targets take any sign (log scale: tested
    # in tests/models/test_conformal.py)
    "ConformalIntervalRegressor": {"cv": 3, "scale": "linear", "random_state": 0},
    "CrystalGraphFeaturizer": {"cutoff": 5.0},
    "ECD3DCNNRegressor": {"max_epochs": 2, "random_state": 0, **_TINY_ECD},
    "FusionRegressor": {"hidden_widths": (16, 8), "max_epochs": 2, "random_state": 0},
    "InvariantECDRegressor": {**_TINY_INVARIANT},
    "InvariantFusionRegressor": {
        **_TINY_INVARIANT,
        "module__point_channels": 24,
        "module__n_points": 64,
    },
    "LateFusionRegressor": {},  # estimators: _late_fusion_estimators()
    "LocalDensityFeaturizer": {"n_points": 64, "sigmas": (0.5, 1.0)},
    "MagpieCNNRegressor": {"max_epochs": 10, "random_state": 0, "batch_size": 16},
    "MagpieFeaturizer": {},
    "SEProjectedCNNRegressor": {
        "max_epochs": 2,
        "random_state": 0,
        "module__se_channels": 4,
        "module__conv1_channels": 4,
        "module__conv2_channels": 4,
        "module__dense_widths": (8, 8),
    },
}

# The valid input of each estimator (see skecd.utils.estimator_checks.INPUT_KINDS).
INPUT_KIND: dict[str, str] = {
    "AxisProjector": "cubes",
    "CGCNNRegressor": "graphs",
    "ConformalIntervalRegressor": "table",
    "ECD3DCNNRegressor": "cubes",
    "FusionRegressor": "densities",
    "InvariantECDRegressor": "local",
    "InvariantFusionRegressor": "local_table",
    "LateFusionRegressor": "table",
    "MagpieCNNRegressor": "table",
    "SEProjectedCNNRegressor": "views",
}

# Settings with which each network fits the eight samples of the checks (training R^2 > 0.9)
# in seconds.
_NO_DROPOUT = {"module__dropout": 0.0, "module__input_dropout": 0.0}
LEARN_PARAMS: dict[str, dict] = {
    "CGCNNRegressor": {"max_epochs": 60, "lr": 1e-2},
    # the wrapped forest without bootstrap fits its training samples (the wrapper learns
    # exactly what its estimator learns)
    "ConformalIntervalRegressor": {"estimator__bootstrap": False},
    "ECD3DCNNRegressor": {"max_epochs": 60, "lr": 5e-3, "batch_size": 4},
    "FusionRegressor": {
        "max_epochs": 150,
        "lr": 1e-2,
        "magpie_branch__magpiecnnregressor__max_epochs": 40,
        "magpie_branch__magpiecnnregressor__lr": 1e-2,
        "ecd_branch__ecd3dcnnregressor__max_epochs": 40,
        "ecd_branch__ecd3dcnnregressor__lr": 1e-2,
        "ecd_branch__ecd3dcnnregressor__batch_size": 4,
    },
    "InvariantECDRegressor": {"max_epochs": 80, "lr": 1e-2, **_NO_DROPOUT},
    "InvariantFusionRegressor": {"max_epochs": 80, "lr": 1e-2, **_NO_DROPOUT},
    "LateFusionRegressor": {},
    "MagpieCNNRegressor": {"max_epochs": 60, "lr": 1e-2},
    "SEProjectedCNNRegressor": {
        "max_epochs": 60,
        "lr": 1e-2,
        "batch_size": 4,
        "module__dense_widths": (32, 16),
    },
}

# Estimators that are not checked at all, with reason.
SKIPPED_ESTIMATORS: dict[str, str] = {
    "BaseSampleFeaturizer": "abstract base of the per-sample featurisers: it has no "
    "featurize_sample; its behaviour is tested through every subclass",
    "SkecdNetRegressor": "abstract skorch base of the skecd networks: it has no default module; "
    "its behaviour is tested through every subclass",
}


def input_kind(estimator):
    """The kind of valid input of ``estimator`` (see ``INPUT_KIND``)."""
    from skecd.preprocessing import BaseSampleFeaturizer

    name = type(estimator).__name__
    if name in INPUT_KIND:
        return INPUT_KIND[name]
    if isinstance(estimator, BaseSampleFeaturizer):
        return "densities"
    raise KeyError(f"{name}: add its input kind to INPUT_KIND in {__name__}")


def _tested_estimators():
    """Yield one instance of every public estimator, built from ``INIT_PARAMS``."""
    from skecd.utils import all_estimators

    for name, cls in all_estimators():
        if name in SKIPPED_ESTIMATORS:
            continue
        params = dict(INIT_PARAMS.get(name, {}))
        if name == "FusionRegressor":
            params.update(_tiny_fusion_branches())
        if name == "LateFusionRegressor":
            params["estimators"] = _late_fusion_estimators()
        if name == "ConformalIntervalRegressor":
            from sklearn.ensemble import RandomForestRegressor

            params["estimator"] = RandomForestRegressor(10, random_state=0)
        yield cls(**params)
