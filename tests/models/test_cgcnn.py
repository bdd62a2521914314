"""Tests of the CGCNN module and regressor, on the bundled real structures and moduli."""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from pymatgen.core import Structure
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline

from skecd.model_selection import LeaveOneElementOut
from skecd.models import CGCNNModule, CGCNNRegressor
from skecd.models._cgcnn import collate_graphs
from skecd.preprocessing import CrystalGraphFeaturizer

DATA = Path(__file__).resolve().parents[2] / "skecd" / "datasets" / "data"
N_SAMPLES = 32
# Tiny settings: small cutoff, few Gaussians, narrow network.
GRAPH = {"cutoff": 5.0, "max_neighbors": 8, "gaussian_step": 0.5}
NET = {
    "max_epochs": 2,
    "batch_size": 8,
    "module__atom_fea_len": 8,
    "module__h_fea_len": 16,
    "random_state": 0,
}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny networks run faster on one thread on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data():
    with gzip.open(DATA / "fcc_fm3m_elastic.json.gz", "rt") as fh:
        records = json.load(fh)[:N_SAMPLES]
    structures = [Structure.from_dict(r["structure"]) for r in records]
    y = np.array([[r["K_VRH"], r["G_VRH"]] for r in records])
    formulas = [r["formula"] for r in records]
    return structures, y, formulas


@pytest.fixture(scope="module")
def graphs(data):
    return CrystalGraphFeaturizer(**GRAPH).fit_transform(data[0])


def _batch(graphs):
    batch, _ = collate_graphs([(g, np.zeros(1, dtype=np.float32)) for g in graphs])
    return batch


def test_collate_offsets_and_crystal_index(graphs):
    batch = _batch(graphs[:3])
    counts = [g.n_atoms for g in graphs[:3]]
    assert len(batch) == 3
    assert batch.atoms_per_crystal.tolist() == counts
    assert batch.crystal_index.tolist() == sum(([i] * n for i, n in enumerate(counts)), [])
    # Edges of crystal k point to atoms of crystal k only.
    owner = batch.crystal_index[batch.edge_index]
    assert torch.equal(owner[0], owner[1])
    assert batch.edge_index.shape[1] == sum(g.n_edges for g in graphs[:3])


def test_module_is_invariant_to_atom_order_and_batching(data, graphs):
    torch.manual_seed(0)
    module = CGCNNModule(n_atom_features=91, n_edge_features=11, n_outputs=2, atom_fea_len=8)
    module.eval()
    with torch.no_grad():
        together = module(_batch(graphs[:6]))
        alone = torch.cat([module(_batch([g])) for g in graphs[:6]])
        s = data[0][1].copy()  # a 13-atom cell: reorder its sites
        permuted = Structure.from_sites(list(s)[::-1])
        (g_perm,) = CrystalGraphFeaturizer(**GRAPH).fit_transform([permuted])
        perm_out = module(_batch([g_perm]))
    assert together.shape == (6, 2)
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(perm_out[0], together[1], rtol=1e-5, atol=1e-5)
    assert module.forward_features(_batch(graphs[:2])).shape == (2, 128)


def test_module_defaults_follow_the_paper():
    module = CGCNNModule()
    assert len(module.convs) == 3
    assert module.embedding.out_features == 64
    assert module.conv_to_fc.out_features == 128
    assert module.embedding.in_features == 91 and len(module.fcs) == 0
    with pytest.raises(ValueError, match="n_conv"):
        CGCNNModule(n_conv=-1)


def test_regressor_trains_on_real_data(graphs, data):
    y = data[1]
    model = CGCNNRegressor(**{**NET, "max_epochs": 5}).fit(graphs, y)
    losses = model.history_[:, "train_loss"]
    assert losses[-1] < losses[0]
    pred = model.predict(graphs)
    assert pred.shape == (N_SAMPLES, 2) and np.all(np.isfinite(pred))
    assert model.n_atom_features_ == 91 and model.n_edge_features_ == 11
    assert model.module_.fc_out.out_features == 2
    assert model.embed(graphs).shape == (N_SAMPLES, 16)


def test_single_target_and_single_atom_batches(graphs, data):
    X, y = graphs[:8], data[1][:8, 0]
    model = CGCNNRegressor(**{**NET, "batch_size": 1, "max_epochs": 1}).fit(X, y)
    assert model.predict(X).shape == (8,)


def test_single_atom_crystal_in_training_batch():
    # A primitive fcc metal has one atom: training batch norm on one row must not fail.
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    with gzip.open(DATA / "fcc_fm3m_elastic.json.gz", "rt") as fh:
        record = next(r for r in json.load(fh) if r["formula"] == "Cu")
    cu = Structure.from_dict(record["structure"])
    primitive = SpacegroupAnalyzer(cu).get_primitive_standard_structure()
    assert len(primitive) == 1
    (g,) = CrystalGraphFeaturizer(**GRAPH).fit_transform([primitive])
    X = np.empty(3, dtype=object)
    X[:] = [g, g, g]
    model = CGCNNRegressor(**{**NET, "batch_size": 1}).fit(X, [1.0, 2.0, 3.0])
    assert np.all(np.isfinite(model.predict(X)))


def test_reproducible_with_random_state_and_pickles(graphs, data):
    y = data[1]
    a = CGCNNRegressor(**NET).fit(graphs, y)
    b = clone(a).fit(graphs, y)
    c = CGCNNRegressor(**{**NET, "random_state": 1}).fit(graphs, y)
    np.testing.assert_array_equal(a.predict(graphs), b.predict(graphs))
    assert not np.allclose(a.predict(graphs), c.predict(graphs))
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict(graphs), a.predict(graphs))


def test_clear_errors(graphs, data):
    structures, y, _ = data
    model = CGCNNRegressor(**NET)
    with pytest.raises(TypeError, match="sample 0 is a Structure.*CrystalGraphFeaturizer"):
        model.fit(structures, y)
    with pytest.raises(ValueError, match="use make_pipeline"):
        model.fit(np.zeros((4, 3)), y[:4])
    with pytest.raises(ValueError, match="targets for"):
        model.fit(graphs, y[:-1])
    with pytest.raises(TypeError, match="single graph"):
        model.fit(graphs[0], y[:1])
    fitted = model.fit(graphs, y)
    other = CrystalGraphFeaturizer(cutoff=6.0, gaussian_step=0.5).fit_transform(structures[:2])
    with pytest.raises(ValueError, match="edge features"):
        fitted.predict(other)
    with pytest.raises(Exception, match="not fitted"):
        CGCNNRegressor().predict(graphs)


def test_pipeline_cross_validate_leave_one_element_out(data):
    structures, y, formulas = data
    pipe = make_pipeline(CrystalGraphFeaturizer(**GRAPH), CGCNNRegressor(**NET))
    cv = LeaveOneElementOut(elements=["C", "N"])
    scores = cross_validate(
        pipe,
        structures,
        y[:, 0],
        groups=formulas,
        cv=cv,
        scoring="neg_mean_absolute_error",
    )
    assert len(scores["test_score"]) == 2
    assert np.all(np.isfinite(scores["test_score"]))


def test_grid_search_over_width(data):
    structures, y, _ = data
    pipe = make_pipeline(CrystalGraphFeaturizer(**GRAPH), CGCNNRegressor(**NET))
    search = GridSearchCV(
        pipe, {"cgcnnregressor__module__atom_fea_len": [4, 8]}, cv=2, error_score="raise"
    ).fit(structures, y)
    assert search.best_params_["cgcnnregressor__module__atom_fea_len"] in (4, 8)
    best = search.best_estimator_[-1]
    assert (
        best.module_.embedding.out_features
        == search.best_params_["cgcnnregressor__module__atom_fea_len"]
    )
    assert search.predict(structures).shape == y.shape
