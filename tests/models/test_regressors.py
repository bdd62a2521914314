"""The skorch regressors on real voxelised densities and real Magpie features."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from skecd.models import ECD3DCNNRegressor, MagpieCNNRegressor, SEProjectedCNNRegressor

TINY_ECD = {
    "module__conv1_channels": 4,
    "module__conv2_channels": 6,
    "module__dense_widths": (8, 8),
}
TINY_SE = {
    "module__se_channels": 4,
    "module__conv1_channels": 4,
    "module__conv2_channels": 6,
    "module__dense_widths": (8, 8),
}


@pytest.fixture
def cases(cubes20, views30, magpie144):
    """(regressor, X) for every network, tiny widths, real inputs."""
    return {
        "ecd": (ECD3DCNNRegressor(max_epochs=2, random_state=0, **TINY_ECD), cubes20),
        "se": (SEProjectedCNNRegressor(max_epochs=2, random_state=0, **TINY_SE), views30),
        "magpie": (MagpieCNNRegressor(max_epochs=2, random_state=0), magpie144),
    }


@pytest.mark.parametrize("name", ["ecd", "se", "magpie"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_trains_and_predicts_shape(cases, real_targets, name, n_targets):
    reg, X = cases[name]
    y = real_targets[:, 0] if n_targets == 1 else real_targets
    reg.fit(X, y)
    pred = reg.predict(X)
    assert pred.dtype == np.float64
    assert pred.shape == y.shape
    assert np.all(np.isfinite(pred))
    assert reg.n_outputs_ == n_targets
    assert len(reg.history_) == 2
    # predictions are back in GPa: 10 to the power of the network's standardised output
    # times the std of the training targets' log10 plus their mean (fails for predictions
    # stuck at 0, or for raw moduli learnt)
    raw = reg.forward(np.asarray(X, dtype=np.float32), training=False).numpy()
    raw = raw.astype(np.float64).reshape(len(X), -1)
    log_y = np.log10(y.reshape(len(y), -1))
    np.testing.assert_allclose(
        pred.reshape(len(y), -1), 10 ** (raw * log_y.std(axis=0) + log_y.mean(axis=0)), rtol=1e-4
    )
    assert np.all(pred > 0)
    emb = reg.embed(X)
    assert emb.shape == (len(X), 8 if name != "magpie" else 32)


@pytest.mark.parametrize("name", ["ecd", "se", "magpie"])
def test_reproducible_to_the_bit(cases, real_targets, name):
    reg, X = cases[name]
    state = torch.random.get_rng_state()
    p1 = clone(reg).fit(X, real_targets).predict(X)
    p2 = clone(reg).fit(X, real_targets).predict(X)
    np.testing.assert_array_equal(p1, p2)
    # the global torch RNG is left as it was
    assert torch.equal(torch.random.get_rng_state(), state)
    p3 = clone(reg).set_params(random_state=1).fit(X, real_targets).predict(X)
    assert not np.array_equal(p1, p3)


def test_standardize_y_changes_training(cubes20, real_targets):
    reg = ECD3DCNNRegressor(max_epochs=2, random_state=0, **TINY_ECD)
    on = clone(reg).fit(cubes20, real_targets[:, 0])
    off = clone(reg).set_params(standardize_y=False).fit(cubes20, real_targets[:, 0])
    log_k = np.log10(real_targets[:, 0])
    assert on.module_.target_mean.item() == pytest.approx(log_k.mean(), rel=1e-5)
    assert on.module_.target_scale.item() == pytest.approx(log_k.std(), rel=1e-5)
    assert off.module_.target_mean.item() == 0.0
    assert off.module_.target_scale.item() == 1.0


def test_clone_pickle_and_save_load_params(cubes20, real_targets, tmp_path):
    reg = ECD3DCNNRegressor(max_epochs=1, random_state=0, **TINY_ECD).fit(cubes20, real_targets)
    expected = reg.predict(cubes20)

    cloned = clone(reg)
    assert cloned.get_params()["module__conv2_channels"] == 6
    assert not cloned.__sklearn_is_fitted__()

    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(cubes20), expected)

    reg.save_params(f_params=tmp_path / "params.pt")
    fresh = ECD3DCNNRegressor(
        **TINY_ECD, module__grid_size=20, module__n_outputs=2, device="cpu"
    ).initialize()
    fresh.load_params(f_params=tmp_path / "params.pt")
    # target scaling travels in the module's buffers
    np.testing.assert_allclose(fresh.predict(cubes20), expected, rtol=1e-6)


def test_initialize_without_data_needs_sizes():
    with pytest.raises(ValueError, match="module__grid_size, module__n_outputs"):
        ECD3DCNNRegressor(**TINY_ECD).initialize()


def test_set_params_module_width_takes_effect(cubes20, real_targets):
    reg = ECD3DCNNRegressor(max_epochs=1, random_state=0, **TINY_ECD)
    reg.set_params(module__conv1_channels=7).fit(cubes20, real_targets)
    assert reg.module_.features[0].out_channels == 7
    reg.set_params(module__dense_widths=(5, 3)).fit(cubes20, real_targets)
    assert reg.module_.out.in_features == 3


def test_grid_search_over_conv_widths(cubes20, real_targets):
    reg = ECD3DCNNRegressor(max_epochs=1, random_state=0, **TINY_ECD)
    search = GridSearchCV(
        reg,
        param_grid={"module__conv1_channels": [2, 4], "module__conv2_channels": [3, 5]},
        cv=KFold(2),
        scoring="neg_mean_absolute_error",
    ).fit(cubes20, real_targets[:, 0])
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best.module_.features[0].out_channels == search.best_params_["module__conv1_channels"]
    assert best.module_.features[2].out_channels == search.best_params_["module__conv2_channels"]


def test_se_pipeline_in_cross_validate_and_grid_search(real_densities, real_targets):
    from skecd.preprocessing import AxisProjector, ChargeDensityVoxelizer

    pipe = make_pipeline(
        ChargeDensityVoxelizer(grid_size=30),
        AxisProjector(),
        SEProjectedCNNRegressor(max_epochs=1, random_state=0, **TINY_SE),
    )
    X = np.array(real_densities, dtype=object)
    res = cross_validate(pipe, X, real_targets, cv=KFold(2), scoring="neg_mean_absolute_error")
    assert np.all(np.isfinite(res["test_score"]))
    search = GridSearchCV(
        pipe,
        {"seprojectedcnnregressor__module__conv1_channels": [2, 4]},
        cv=KFold(2),
        scoring="neg_mean_absolute_error",
    ).fit(X, real_targets)
    assert search.best_estimator_.predict(X).shape == real_targets.shape


def test_se_lr_halves_every_10_epochs(views30, real_targets):
    reg = SEProjectedCNNRegressor(max_epochs=11, random_state=0, **TINY_SE, batch_size=8)
    reg.fit(views30[:4], real_targets[:4])
    assert reg.optimizer_.param_groups[0]["lr"] == pytest.approx(5e-4)
    assert isinstance(reg.optimizer_, torch.optim.Adam)  # the default; SGD is PAPER_PARAMS
    paper = SEProjectedCNNRegressor(
        max_epochs=1, random_state=0, **TINY_SE, **SEProjectedCNNRegressor.PAPER_PARAMS
    ).fit(views30[:4], real_targets[:4])
    assert isinstance(paper.optimizer_, torch.optim.SGD)


def test_adam_runs_fused_unless_told(magpie144, real_targets):
    y = real_targets[:, 0]
    fused = MagpieCNNRegressor(max_epochs=1, random_state=0).fit(magpie144, y)
    assert fused.optimizer_.defaults["fused"] is True
    plain = MagpieCNNRegressor(max_epochs=1, random_state=0, optimizer__fused=False)
    assert plain.fit(magpie144, y).optimizer_.defaults["fused"] is False
    foreach = MagpieCNNRegressor(max_epochs=1, random_state=0, optimizer__foreach=True)
    assert not foreach.fit(magpie144, y).optimizer_.defaults["fused"]
    sgd = MagpieCNNRegressor(max_epochs=1, random_state=0, optimizer=torch.optim.SGD)
    assert not sgd.fit(magpie144, y).optimizer_.defaults.get("fused")
    # the same training, to float rounding: fusing changes the speed, not the update
    np.testing.assert_allclose(
        fused.predict(magpie144), plain.predict(magpie144), rtol=1e-4, atol=1e-4
    )


def test_validation_split_and_early_stopping(magpie144, real_targets):
    reg = MagpieCNNRegressor(
        max_epochs=30,
        random_state=0,
        train_split=ValidSplit(0.25, random_state=0),
        callbacks=[EarlyStopping(patience=2, threshold=10.0)],
    ).fit(magpie144, real_targets[:, 0])
    assert "valid_loss" in reg.history_[-1]
    assert len(reg.history_) < 30  # stopped early


def test_verbose_zero_prints_nothing(magpie144, real_targets, capsys):
    MagpieCNNRegressor(max_epochs=1, random_state=0).fit(magpie144, real_targets[:, 0])
    assert capsys.readouterr().out == ""
    MagpieCNNRegressor(max_epochs=1, random_state=0, verbose=1).fit(magpie144, real_targets[:, 0])
    assert "train_loss" in capsys.readouterr().out


def test_errors(cubes20, views30, real_targets):
    reg = ECD3DCNNRegressor(max_epochs=1, random_state=0, **TINY_ECD)
    with pytest.raises(NotFittedError):
        reg.predict(cubes20)
    with pytest.raises(ValueError, match="rank 5"):
        reg.fit(cubes20[:, 0], real_targets)
    with pytest.raises(ValueError, match="expects 1 channel"):
        reg.fit(views30, real_targets)
    with pytest.raises(ValueError, match="cubic grids"):
        reg.fit(cubes20[:, :, :, :, :18], real_targets)
    with pytest.raises(ValueError, match="too small"):
        reg.fit(cubes20[:, :, :12, :12, :12], real_targets)
    bad_y = real_targets.copy()
    bad_y[3, 1] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        reg.fit(cubes20, bad_y)
    bad_X = cubes20.copy()
    bad_X[2, 0, 1, 1, 1] = np.inf
    with pytest.raises(ValueError, match="X contains infinity"):
        reg.fit(bad_X, real_targets)
    with pytest.raises(ValueError, match="5 targets for 8 samples"):
        reg.fit(cubes20, real_targets[:5])
    reg.fit(cubes20, real_targets)
    with pytest.raises(ValueError, match="fitted on samples of shape"):
        reg.predict(np.zeros((2, 1, 24, 24, 24), dtype=np.float32))
    with pytest.raises(ValueError, match="expects 3 channel"):
        SEProjectedCNNRegressor(**TINY_SE).fit(cubes20, real_targets)


@pytest.mark.parametrize(
    "cls, differs",
    [
        (ECD3DCNNRegressor, {"lr": 5e-4}),
        (SEProjectedCNNRegressor, {}),
        (MagpieCNNRegressor, {}),
    ],
)
def test_subclasses_state_only_the_defaults_that_differ(cls, differs):
    from skecd.models import SkecdNetRegressor

    base = SkecdNetRegressor(module=None).get_params(deep=False)
    params = cls().get_params(deep=False)
    changed = {k: v for k, v in params.items() if k != "module" and base.get(k) != v}
    assert changed == differs
    # get_params / set_params / clone round trip
    reg = cls(max_epochs=3, module__dense_widths=(4, 2))
    twin = clone(reg)
    assert twin.get_params(deep=False) == reg.get_params(deep=False)
    twin.set_params(max_epochs=5, lr=0.5)
    assert (twin.max_epochs, twin.lr, reg.max_epochs) == (5, 0.5, 3)
    assert twin.get_params()["module__dense_widths"] == (4, 2)


@pytest.mark.parametrize("name", ["ecd", "se", "magpie"])
def test_load_params_needs_no_sizes(cases, real_targets, tmp_path, name):
    reg, X = cases[name]
    reg.fit(X, real_targets[:, 0])
    expected = reg.predict(X)
    reg.save_params(f_params=tmp_path / "params.pt")
    fresh = clone(reg)  # same parameters, no module__ sizes, not fitted
    fresh.load_params(f_params=tmp_path / "params.pt")
    assert fresh.input_shape_ == X.shape[1:] and fresh.n_outputs_ == 1
    np.testing.assert_allclose(fresh.predict(X), expected, rtol=1e-6)
    assert fresh.predict(X).shape == expected.shape  # 1D targets stay 1D
    with open(tmp_path / "params.pt", "rb") as fh:  # file objects work too
        clone(reg).load_params(f_params=fh)


def test_se_network_trains_at_its_defaults():
    """Adam (the default) trains the SE network on real views; the paper's SGD preset does not."""
    from sklearn.metrics import r2_score

    from skecd.models import SEProjectedCNNRegressor
    from skecd.utils.estimator_checks import valid_data

    X, y = valid_data("views")
    small = {"max_epochs": 20, "random_state": 0, "batch_size": 4, "module__dense_widths": (32, 16)}
    reg = SEProjectedCNNRegressor(**small).fit(X, y)
    losses = reg.history_[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert r2_score(y, reg.predict(X)) > 0.9
    paper = SEProjectedCNNRegressor(**small, **SEProjectedCNNRegressor.PAPER_PARAMS).fit(X, y)
    assert r2_score(y, paper.predict(X)) < 0.5  # why the default is not the paper's
