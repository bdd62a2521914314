"""The invariant networks in model files: saved, loaded, and their spread in ``skecd predict``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skecd.cli import main
from skecd.datasets import load_fcc_elastic
from skecd.inference import needs_density
from skecd.models import InvariantECDRegressor, make_invariant_fusion
from skecd.persistence import load_model, save_model
from skecd.preprocessing import LocalDensityFeaturizer

# Tiny (one smoothing width, 256 points, 2 epochs): the tests check the file and the
# output, not the model's skill. The featuriser's smoothing is most of their time.
LOCAL = {"n_points": 256, "sigmas": (1.0,)}
MODELS = {
    "ecd": lambda: make_pipeline(
        LocalDensityFeaturizer(**LOCAL), InvariantECDRegressor(max_epochs=2, random_state=0)
    ),
    "fusion": lambda: make_invariant_fusion(**LOCAL, max_epochs=2, random_state=0),
    "density_only": lambda: make_invariant_fusion(
        **LOCAL, table=("descriptors",), max_epochs=2, random_state=0
    ),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request, tmp_path_factory):
    """The fitted pipeline, its file, two new density files and their mean and spread."""
    ds = load_fcc_elastic()
    model = MODELS[request.param]().fit(ds.data[:8], ds.target[:8])
    path = tmp_path_factory.mktemp(request.param) / "invariant.skecd"
    # no ``needs_density`` in the metadata: skecd predict finds it in the model
    save_model(model, path, metadata={"targets": ["K_VRH", "G_VRH"]})
    files = [str(f) for f in ds.filenames[8:10]]
    Xt = model[:-1].transform(files)
    mean, std = model[-1].predict(Xt, return_std=True)
    return model, path, files, Xt, mean, std


def test_save_load_predicts_identically_with_spread(fitted):
    model, path, files, Xt, mean, std = fitted
    new = load_model(path)
    Xt_new = new[:-1].transform(files)
    np.testing.assert_array_equal(Xt_new, Xt)
    new_mean, new_std = new[-1].predict(Xt_new, return_std=True)
    np.testing.assert_array_equal(new_mean, mean)
    np.testing.assert_array_equal(new_std, std)
    np.testing.assert_array_equal(new[-1].predict(Xt_new), model[-1].predict(Xt))
    assert mean.shape == std.shape == (2, 2)
    assert np.all(np.isfinite(std)) and np.all(std > 0)  # three members never agree exactly


def test_spread_reaches_the_predict_output(fitted, capsys):
    model, path, files, Xt, mean, _ = fitted
    assert needs_density(model)
    status = main(["predict", "--model", str(path), *files, "--format", "json", "--no-progress"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    rows = json.loads(captured.out)
    assert [r["id"] for r in rows] == files
    for i, row in enumerate(rows):
        # skecd predict takes one file at a time: the same, to the bit, as a batch of one
        one_mean, one_std = model[-1].predict(Xt[i : i + 1], return_std=True)
        for j, target in enumerate(("K_VRH", "G_VRH")):
            assert row[f"{target}_GPa"] == one_mean[0, j] == pytest.approx(mean[i, j], rel=1e-6)
            assert row[f"{target}_std_GPa"] == one_std[0, j] > 0


def test_density_only_fusion_has_no_composition_features():
    model = make_invariant_fusion(**LOCAL, table=("descriptors",))
    assert [name for name, _ in model[0].transformer_list] == ["local", "descriptors"]


@pytest.mark.parametrize("table", [(), ("magpie", "magpie"), ("voxels",)])
def test_make_invariant_fusion_rejects_bad_tables(table):
    with pytest.raises(ValueError, match=r"make_invariant_fusion: table=.* must name distinct"):
        make_invariant_fusion(table=table)
