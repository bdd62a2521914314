"""The benchmark runner on a small real subset: splits, cache, resume, leak-free features."""

import json

import numpy as np
import pytest
from sklearn.base import clone

from skecd.benchmark import (
    DEFAULT_LOEO_MIN_COUNT,
    load_benchmark_data,
    loeo_elements,
    make_model,
    make_splits,
    run_benchmark,
)

N = 30
FAST = {"n_estimators": 5, "epochs": 1, "grid": 24, "batch_size": 16}


@pytest.fixture(scope="module")
def subset():
    return load_benchmark_data(max_samples=N, seed=0)


def test_default_loeo_threshold_selects_about_ten_elements():
    data = load_benchmark_data()
    elements = loeo_elements(data.formulas, DEFAULT_LOEO_MIN_COUNT)
    assert len(data.formulas) == 369
    assert 9 <= len(elements) <= 12
    # each chosen element really is in at least min_count materials
    for e, _, test in make_splits("loeo", data.formulas):
        assert e in elements
        assert len(test) >= DEFAULT_LOEO_MIN_COUNT


def test_cv_splits_partition_the_materials(subset):
    splits = make_splits("cv", subset.formulas, n_splits=3, seed=0)
    tests = np.concatenate([te for _, _, te in splits])
    assert sorted(tests.tolist()) == list(range(N))
    for _, train, test in splits:
        assert not set(train) & set(test)


def test_loeo_test_sets_hold_the_element(subset):
    from pymatgen.core import Composition

    for element, train, test in make_splits("loeo", subset.formulas, min_count=3):
        assert all(element in Composition(subset.formulas[i]).as_dict() for i in test)
        assert not any(element in Composition(subset.formulas[i]).as_dict() for i in train)


def test_resume_skips_finished_results(tmp_path):
    kwargs = {
        "models": ["rf_magpie"],
        "protocols": ["cv"],
        "targets": ["K_VRH"],
        "n_splits": 3,
        "results_dir": tmp_path,
        "settings": FAST,
        "max_samples": N,
        "progress": False,
    }
    first = run_benchmark(**kwargs)
    assert (first.n_fitted, first.n_cached) == (3, 0)
    again = run_benchmark(**kwargs)
    assert (again.n_fitted, again.n_cached) == (0, 3)
    assert [r["y_pred"] for r in again.results] == [r["y_pred"] for r in first.results]
    # a lost result file is recomputed, and only that one
    files = sorted((tmp_path / "results").rglob("*.json"))
    assert len(files) == 3
    files[1].unlink()
    third = run_benchmark(**kwargs)
    assert (third.n_fitted, third.n_cached) == (1, 2)
    assert not list(tmp_path.rglob("*.part"))
    # a setting the model depends on makes new results; others are reused
    more_trees = run_benchmark(**{**kwargs, "settings": {**FAST, "n_estimators": 6}})
    assert more_trees.n_fitted == 3
    other_epochs = run_benchmark(**{**kwargs, "settings": {**FAST, "epochs": 3}})
    assert other_epochs.n_cached == 3


def test_cached_features_give_the_pipeline_predictions(tmp_path, subset):
    # Features computed once on all materials and indexed per fold must give what
    # the full Pipeline fitted on the training densities gives (stateless featurisers).
    run = run_benchmark(
        models=["rf_magpie"],
        protocols=["cv"],
        targets=["G_VRH"],
        n_splits=2,
        results_dir=tmp_path,
        settings=FAST,
        max_samples=N,
        progress=False,
    )
    pipe = make_model("rf_magpie", **FAST)
    y = subset.target[:, 1]
    splits = make_splits("cv", subset.formulas, n_splits=2)
    for record, (_, train, test) in zip(run.results, splits):
        model = clone(pipe).fit([subset.data[i] for i in train], y[train])
        pred = model.predict([subset.data[i] for i in test])
        np.testing.assert_allclose(record["y_pred"], pred)
        assert record["material_ids"] == [subset.material_ids[i] for i in test]


def test_a_named_column_model_gets_the_pipelines_named_table(subset):
    # The runner joins cached arrays; a model that selects its columns by name must
    # get them named exactly as its pipeline's FeatureUnion names its output.
    from skecd.benchmark._models import DEFAULT_SETTINGS, MODELS, cached_feature, fold_inputs

    spec = MODELS["interstitial_late_fusion"]
    s = {**DEFAULT_SETTINGS, **FAST}
    data = load_benchmark_data(max_samples=8, seed=0)
    arrays = [cached_feature(f, data.data, data.material_ids, s) for f in spec.features]
    train, test = np.arange(5), np.arange(5, 8)
    _, X_train, X_test = fold_inputs(spec, s, arrays, data, train, test)
    union = make_model(spec.name, **FAST)[0]
    expected = union.fit_transform([data.data[i] for i in test])
    assert list(X_train.columns) == list(X_test.columns) == list(expected.columns)
    np.testing.assert_allclose(X_test.to_numpy(), expected.to_numpy())


def test_result_records_are_complete(tmp_path):
    run = run_benchmark(
        models=["rf_magpie"],
        protocols=["loeo"],
        targets=["K_VRH"],
        min_count=3,
        results_dir=tmp_path,
        settings=FAST,
        max_samples=N,
        progress=False,
    )
    for record in run.results:
        on_disk = json.loads(
            next((tmp_path / "results").rglob(f"{record['split']}-*.json")).read_text()
        )
        assert on_disk == record
        assert len(record["y_true"]) == len(record["y_pred"]) == record["metrics"]["n"]
        assert record["n_train"] + record["metrics"]["n"] == N


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        run_benchmark(models=["nope"], results_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown protocol"):
        run_benchmark(protocols=["holdout"], results_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown settings"):
        run_benchmark(settings={"gird": 3}, results_dir=tmp_path)
    with pytest.raises(ValueError, match="min_count=500"):
        make_splits("loeo", ["NaCl", "KCl"], min_count=500)


def test_fusion_reuses_cached_features(tmp_path, subset):
    # The fusion model takes densities; the runner swaps its featurisers for
    # look-ups of the cached features. Predictions must match the plain model.
    run = run_benchmark(
        models=["fusion"],
        protocols=["cv"],
        targets=["K_VRH"],
        n_splits=2,
        results_dir=tmp_path,
        settings=FAST,
        max_samples=N,
        progress=False,
    )
    assert run.n_fitted == 2
    (_, train, test) = make_splits("cv", subset.formulas, n_splits=2)[0]
    y = subset.target[:, 0]
    model = make_model("fusion", **FAST).fit([subset.data[i] for i in train], y[train])
    pred = model.predict([subset.data[i] for i in test])
    np.testing.assert_allclose(run.results[0]["y_pred"], pred, rtol=1e-4, atol=1e-3)


def test_patience_stops_the_networks_early_on_a_held_out_tenth(subset):
    from skecd.benchmark._models import MODELS
    from skecd.preprocessing import MagpieFeaturizer

    X = MagpieFeaturizer().fit_transform(subset.data)
    y = subset.target[:, 0]
    settings = {**FAST, "epochs": 200, "patience": 3, "device": "cpu", "seed": 0}
    net = MODELS["cnn_magpie"].make_estimator(settings).fit(X, y)
    valid = net.history[:, "valid_loss"]
    best = int(np.argmin(valid))
    # it stopped `patience` epochs after its best validation loss, far before the cap
    assert len(valid) == best + 1 + 3 < 200
    # and keeps the weights of that best epoch (EarlyStopping(load_best=True))
    assert net.history[best, "valid_loss_best"]
    # the validation tenth is not trained on: 27 of the 30 materials per epoch
    batches = net.history[-1, "batches"]
    assert sum(b.get("train_batch_size", 0) for b in batches) == 27
    assert sum(b.get("valid_batch_size", 0) for b in batches) == 3


def test_radial_ensemble_entry_gets_the_runner_settings():
    from sklearn.base import clone

    from skecd.benchmark._models import MODELS

    spec = MODELS["radial_ensemble"]
    assert spec.features == ("radial", "descriptors")
    late = spec.make_estimator({"batch_size": 7, "device": "cpu", "seed": 3})
    parts = dict(late.estimators)
    for net in (parts["log"][-1], parts["sqrt"][-1].regressor):
        assert (net.batch_size, net.device, net.random_state) == (7, "cpu", 3)
    assert parts["sqrt"][-1].regressor.log_target is False
    clone(late)  # a valid scikit-learn estimator


def _two_fold_run(model, results_dir):
    """``run_benchmark`` arguments: one model, K_VRH, 2-fold CV on the small subset."""
    return {
        "models": [model],
        "protocols": ["cv"],
        "targets": ["K_VRH"],
        "n_splits": 2,
        "results_dir": results_dir,
        "max_samples": N,
        "progress": False,
    }


# The keys are tested, not the fit: a network of a few epochs on a few materials may pass
# the clip of its log targets on a test material, and says so.
@pytest.mark.filterwarnings("ignore:.*were clipped there:UserWarning")
def test_patience_keys_results_apart_and_unset_keeps_the_old_keys(tmp_path):
    kwargs = _two_fold_run("cnn_magpie", tmp_path)
    plain = run_benchmark(**kwargs, settings=FAST)
    assert plain.n_fitted == 2
    # patience=None (the default) is the run before the setting existed: same keys
    again = run_benchmark(**kwargs, settings={**FAST, "patience": None})
    assert (again.n_fitted, again.n_cached) == (0, 2)
    assert all("patience" not in r["settings"] for r in again.results)
    stopped = run_benchmark(**kwargs, settings={**FAST, "epochs": 5, "patience": 2})
    assert stopped.n_fitted == 2
    assert all(r["settings"]["patience"] == 2 for r in stopped.results)


def test_a_result_of_a_since_changed_estimator_is_refitted_not_reused(tmp_path, monkeypatch):
    import dataclasses

    from skecd.benchmark import MODELS

    kwargs = {**_two_fold_run("rf_magpie", tmp_path), "settings": FAST}
    first = run_benchmark(**kwargs)
    assert first.n_fitted == 2 and all(r["estimator"] for r in first.results)
    # a changed default that no setting names (here: shallower trees)
    spec = MODELS["rf_magpie"]
    changed = dataclasses.replace(
        spec, make_estimator=lambda s: spec.make_estimator(s).set_params(max_depth=2)
    )
    monkeypatch.setitem(MODELS, "rf_magpie", changed)
    with pytest.warns(RuntimeWarning, match="other estimator parameters.*left out"):
        report = run_benchmark(**kwargs, fit=False)
    assert len(report.missing) == 2 and not report.results
    with pytest.warns(RuntimeWarning, match="other estimator parameters.*refitted"):
        again = run_benchmark(**kwargs)
    assert (again.n_fitted, again.n_cached) == (2, 0)
    assert [r["y_pred"] for r in again.results] != [r["y_pred"] for r in first.results]
    assert run_benchmark(**kwargs).n_cached == 2  # the refitted results are reused


def test_a_joint_targets_model_is_fitted_once_per_split_on_all_targets(tmp_path, monkeypatch):
    import dataclasses

    from skecd.benchmark import MODELS, write_report

    # rf_magpie as a model of joint_targets: scikit-learn's forest learns both at once
    joint = dataclasses.replace(MODELS["rf_magpie"], joint_targets=True)
    monkeypatch.setitem(MODELS, "rf_magpie", joint)
    kwargs = {
        **_two_fold_run("rf_magpie", tmp_path),
        "targets": ["K_VRH", "G_VRH"],
        "settings": FAST,
    }
    run = run_benchmark(**kwargs)
    assert (run.n_fitted, run.n_cached) == (4, 0)
    by_split = {}
    for r in run.results:
        assert r["targets_fitted"] == ["K_VRH", "G_VRH"]
        by_split.setdefault(r["split"], {})[r["target"]] = r
    # one fit per split: the records of both targets carry its seconds, and its
    # predictions are a two-output forest's (not two one-target forests')
    subset = load_benchmark_data(max_samples=N, seed=0)
    pipe = make_model("rf_magpie", **FAST)
    for split, train, test in make_splits("cv", subset.formulas, n_splits=2):
        records = by_split[split]
        assert records["K_VRH"]["fit_seconds"] == records["G_VRH"]["fit_seconds"]
        model = clone(pipe).fit([subset.data[i] for i in train], subset.target[train])
        pred = model.predict([subset.data[i] for i in test])
        np.testing.assert_allclose(records["K_VRH"]["y_pred"], pred[:, 0])
        np.testing.assert_allclose(records["G_VRH"]["y_pred"], pred[:, 1])
        np.testing.assert_allclose(records["G_VRH"]["y_true"], subset.target[test, 1])
    # the time table counts each joint fit once
    write_report(run, tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    once = sum(
        r["fit_seconds"] + r["predict_seconds"] for r in run.results if r["target"] == "K_VRH"
    )
    assert summary["fit_seconds"]["cv/rf_magpie"] == pytest.approx(once)
    assert run_benchmark(**kwargs).n_cached == 4
    # fitted on G_VRH alone it is another model: new keys, one target each
    alone = run_benchmark(**{**kwargs, "targets": ["G_VRH"]})
    assert (alone.n_fitted, alone.n_cached) == (2, 0)
    assert all(r["targets_fitted"] == ["G_VRH"] for r in alone.results)
    _, train, test = make_splits("cv", subset.formulas, n_splits=2)[0]
    one = clone(pipe).fit([subset.data[i] for i in train], subset.target[train, 1])
    np.testing.assert_allclose(
        alone.results[0]["y_pred"], one.predict([subset.data[i] for i in test])
    )
    # a joint fit that lost one of its records is refitted whole, the other split reused
    next((tmp_path / "results" / "cv" / "rf_magpie" / "K_VRH").glob("fold0-*.json")).unlink()
    again = run_benchmark(**kwargs)
    assert (again.n_fitted, again.n_cached) == (2, 2)
    # with fit=False the lost record is listed as missing, its partner reported
    next((tmp_path / "results" / "cv" / "rf_magpie" / "K_VRH").glob("fold1-*.json")).unlink()
    report = run_benchmark(**kwargs, fit=False)
    assert report.missing == [("cv", "rf_magpie", "K_VRH", "fold1")]
    assert len(report.results) == 3


def test_the_invariant_recipe_networks_learn_the_targets_jointly():
    from skecd.benchmark import MODELS

    joint = {m for m, spec in MODELS.items() if spec.joint_targets}
    assert {"radial_ecd", "radial_ensemble", "late_fusion", "radial_late_fusion"} <= joint
    assert not joint & {"rf_magpie", "rf_descriptors_magpie", "cnn3d_ecd", "cgcnn"}


def test_radial_late_fusion_entry_gets_the_runner_settings():
    from skecd.benchmark._models import MODELS

    spec = MODELS["radial_late_fusion"]
    assert spec.features == ("radial", "descriptors", "magpie")
    late = spec.make_estimator(
        {"batch_size": 7, "device": "cpu", "seed": 3, "n_estimators": 11, "n_jobs": 1}
    )
    parts = dict(late.estimators)
    net, forest = parts["network"][-1], parts["forest"][-1]
    assert (net.batch_size, net.device, net.random_state) == (7, "cpu", 3)
    assert (forest.n_estimators, forest.random_state) == (11, 3)
    clone(late)  # a valid scikit-learn estimator
