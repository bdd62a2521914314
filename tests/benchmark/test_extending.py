"""A featuriser and a network added as the extending page says, run through the registry."""

from __future__ import annotations

import numpy as np
import pytest
from _toy_model import DensitySpreadFeaturizer, TinyMLPRegressor

from skecd.benchmark import (
    FEATURES,
    MODELS,
    FeatureSpec,
    ModelSpec,
    make_model,
    run_benchmark,
)
from skecd.datasets import load_fcc_elastic


@pytest.fixture
def registered(monkeypatch):
    """The two registry lines of the extending page (undone after the test)."""
    monkeypatch.setitem(
        FEATURES,
        "spread",
        FeatureSpec("spread", make=lambda s: DensitySpreadFeaturizer(n_jobs=s["n_jobs"])),
    )
    monkeypatch.setitem(
        MODELS,
        "tiny_mlp",
        ModelSpec(
            "tiny_mlp",
            "Tiny MLP on density spread + descriptors",
            features=("spread", "descriptors"),
            make_estimator=lambda s: TinyMLPRegressor(max_epochs=50, random_state=s["seed"]),
            settings=("seed",),
            joint_targets=True,
        ),
    )


def test_toy_model_fits_and_predicts_from_the_registry(registered):
    data = load_fcc_elastic()
    model = make_model("tiny_mlp", seed=1)
    assert [name for name, _ in model[0].transformer_list] == ["spread", "descriptors"]
    model.fit(data.data[:30], data.target[:30])
    pred = model.predict(data.data[30:36])
    assert pred.shape == (6, 2) and np.all(np.isfinite(pred))
    assert model[-1].module_.body[0].in_features == 3 + len(
        FEATURES["descriptors"].make({}).get_feature_names_out()
    )
    again = make_model("tiny_mlp", seed=1).fit(data.data[:30], data.target[:30])
    np.testing.assert_array_equal(again.predict(data.data[30:36]), pred)  # seeded


def test_toy_model_runs_in_the_benchmark(registered, tmp_path):
    run = run_benchmark(
        models=["tiny_mlp"],
        protocols=["cv"],
        targets=["K_VRH", "G_VRH"],
        n_splits=2,
        results_dir=tmp_path,
        max_samples=24,
        progress=False,
    )
    assert len(run.results) == 4  # 2 folds x 2 targets, one joint fit per fold
    assert {r["model"] for r in run.results} == {"tiny_mlp"}
    assert all(np.all(np.isfinite(r["y_pred"])) for r in run.results)
    assert (tmp_path / "features").is_dir()  # the new feature is cached like the others
