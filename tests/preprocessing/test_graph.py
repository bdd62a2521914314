"""Tests of the crystal graphs of CGCNN, on the bundled real structures."""

from __future__ import annotations

import gzip
import json
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from sklearn.base import clone

from skecd.io import read_gpaw_npz
from skecd.preprocessing import CrystalGraph, CrystalGraphFeaturizer, atom_feature_names
from skecd.preprocessing._graph import _element_features, gaussian_centers

DATA_DIR = Path(__file__).resolve().parents[2] / "skecd" / "datasets" / "data"
GPAW_DIR = DATA_DIR / "ecd_gpaw"


@pytest.fixture(scope="module")
def records():
    with gzip.open(DATA_DIR / "fcc_fm3m_elastic.json.gz", "rt") as fh:
        return {r["formula"]: r for r in json.load(fh)}


def _structure(records, formula):
    return Structure.from_dict(records[formula]["structure"])


def _per_atom_distances(graph, decimals=4):
    """Per atom: its sorted neighbour distances, as a hashable tuple."""
    centers = graph.edge_index[0]
    return [
        tuple(np.round(np.sort(graph.distances[centers == i]), decimals))
        for i in range(graph.n_atoms)
    ]


def test_fcc_metal_has_twelve_nearest_neighbours(records):
    cu = _structure(records, "Cu")
    (graph,) = CrystalGraphFeaturizer().fit_transform([cu])
    conventional = SpacegroupAnalyzer(cu).get_conventional_standard_structure()
    a = conventional.lattice.a
    assert graph.n_atoms == len(cu)
    assert np.all(np.bincount(graph.edge_index[0]) == 12)
    # The 12 nearest neighbours of an fcc atom are at a / sqrt(2).
    np.testing.assert_allclose(graph.distances, a / np.sqrt(2), rtol=1e-6)


def test_neighbours_match_pymatgen_get_all_neighbors(records):
    # An independent pymatgen code path (per-site neighbour lists) gives the same
    # nearest distances for every atom, in a rocksalt and in a 13-atom cell.
    for formula in ("LiF", "B12W"):
        s = _structure(records, formula)
        (graph,) = CrystalGraphFeaturizer(cutoff=6.0, max_neighbors=12).fit_transform([s])
        expected = [
            tuple(np.round(sorted(n.nn_distance for n in nbrs)[:12], 4))
            for nbrs in s.get_all_neighbors(6.0)
        ]
        assert _per_atom_distances(graph) == expected
        # Neighbour indices point to sites at the recorded distance (mod lattice).
        for c, j, d in zip(*graph.edge_index, graph.distances):
            assert s[int(c)].distance(s[int(j)], jimage=None) <= d + 1e-6


def test_rocksalt_shells(records):
    lif = _structure(records, "LiF")
    a = SpacegroupAnalyzer(lif).get_conventional_standard_structure().lattice.a
    (graph,) = CrystalGraphFeaturizer(cutoff=a, max_neighbors=18).fit_transform([lif])
    for distances in _per_atom_distances(graph, decimals=6):
        # 6 unlike nearest neighbours at a/2, then 12 like ones at a/sqrt(2).
        np.testing.assert_allclose(distances[:6], a / 2, rtol=1e-5)
        np.testing.assert_allclose(distances[6:], a / np.sqrt(2), rtol=1e-5)
    species = [site.specie.symbol for site in lif]
    centers, neighbors = graph.edge_index
    nearest = graph.distances < 0.6 * a
    assert all(species[c] != species[n] for c, n in zip(centers[nearest], neighbors[nearest]))


def test_cell_choice_and_translation_invariance(records):
    for formula in ("Cu", "LiF", "Ca2Ge"):
        analyzer = SpacegroupAnalyzer(_structure(records, formula))
        primitive = analyzer.get_primitive_standard_structure()
        conventional = analyzer.get_conventional_standard_structure()
        shifted = conventional.copy()
        shifted.translate_sites(range(len(shifted)), [0.123, 0.456, 0.789])
        graphs = CrystalGraphFeaturizer().fit_transform([primitive, conventional, shifted])
        multisets = []
        for structure, graph in zip((primitive, conventional, shifted), graphs):
            species = [site.specie.symbol for site in structure]
            multisets.append(Counter(zip(species, _per_atom_distances(graph))))
        ratio = len(conventional) // len(primitive)
        assert ratio > 1
        assert multisets[1] == Counter({k: v * ratio for k, v in multisets[0].items()})
        assert multisets[2] == multisets[1]


def test_edge_features_are_gaussian_expansion(records):
    step = 0.2
    mgo = _structure(records, "MgO")
    (graph,) = CrystalGraphFeaturizer(gaussian_step=step).fit_transform([mgo])
    mu = gaussian_centers(8.0, step)
    assert len(mu) == 41 and mu[-1] == pytest.approx(8.0)
    expected = np.exp(-(((graph.distances[:, None] - mu) / step) ** 2))
    np.testing.assert_allclose(graph.edge_features, expected, rtol=1e-5, atol=1e-7)
    nearest = np.argmax(graph.edge_features, axis=1)
    assert np.all(np.abs(mu[nearest] - graph.distances) <= step / 2 + 1e-9)
    assert graph.edge_features.dtype == np.float32


def test_atom_features_one_hot(records):
    names = atom_feature_names()
    fe = _element_features("Fe")
    assert fe.shape == (len(names),) == (91,)
    on = {names[i] for i in np.flatnonzero(fe)}
    assert {"group_8", "period_4", "block_d", "valence_electrons_8"} <= on
    # Every property is one-hot: at most one 1 per block of names.
    prefixes = Counter(n.rsplit("_", 1)[0] for n in on)
    assert set(prefixes.values()) == {1}
    # He has no Pauling electronegativity: that block stays empty.
    he = {names[i] for i in np.flatnonzero(_element_features("He"))}
    assert not any(n.startswith("electronegativity") for n in he)
    # Every element of the bundled data gets its own vector.
    elements = {
        site["species"][0]["element"] for r in records.values() for site in r["structure"]["sites"]
    }
    vectors = {tuple(_element_features(e)) for e in elements}
    assert len(vectors) == len(elements)


def test_graph_rows_follow_sites(records):
    s = _structure(records, "Ca2Ge")
    (graph,) = CrystalGraphFeaturizer().fit_transform([s])
    assert isinstance(graph, CrystalGraph)
    for i, site in enumerate(s):
        np.testing.assert_array_equal(graph.atom_features[i], _element_features(site.specie.symbol))
    assert graph.formula == "Ca2Ge"
    assert "Ca2Ge" in repr(graph)


def test_accepts_densities_paths_and_dicts(records):
    npz = GPAW_DIR / "mp-1138.npz"  # LiF
    density = read_gpaw_npz(npz)
    samples = [density.structure, density, npz, str(npz), density.structure.as_dict()]
    graphs = CrystalGraphFeaturizer().fit_transform(samples)
    assert graphs.shape == (5,) and graphs.dtype == object
    for g in graphs[1:]:
        np.testing.assert_array_equal(g.edge_index, graphs[0].edge_index)
        np.testing.assert_allclose(g.distances, graphs[0].distances)
        np.testing.assert_array_equal(g.atom_features, graphs[0].atom_features)


def test_accepts_chgcar_path(chgcar_dir):
    path = sorted(chgcar_dir.glob("*.CHGCAR.gz"))[0]
    (graph,) = CrystalGraphFeaturizer().fit_transform([path])
    assert graph.n_atoms >= 1 and np.all(np.bincount(graph.edge_index[0]) == 12)


def test_isolated_atom_names_sample_and_atom(records):
    lif = _structure(records, "LiF")
    sparse = _structure(records, "Cu")
    sparse.scale_lattice(sparse.volume * 100.0)  # nearest neighbour at ~12 A
    with pytest.raises(ValueError, match=r"sample 1 \(Cu\): atom 0 \(Cu\) has no neighbour"):
        CrystalGraphFeaturizer(cutoff=8.0).fit_transform([lif, sparse])
    others = len(lif) - 1
    with pytest.raises(ValueError, match=rf"sample 0 \(LiF\): atom 0 .*nor do {others} other"):
        CrystalGraphFeaturizer(cutoff=1.0).fit_transform([lif])


def test_clear_errors(records):
    lif = _structure(records, "LiF")
    for params, name in [
        ({"cutoff": -1.0}, "cutoff"),
        ({"gaussian_step": 0.0}, "gaussian_step"),
        ({"max_neighbors": 0}, "max_neighbors"),
        ({"max_neighbors": 2.5}, "max_neighbors"),
        ({"cutoff": 1.0, "gaussian_step": 2.0}, "gaussian_step"),
    ]:
        with pytest.raises(ValueError, match=name):
            CrystalGraphFeaturizer(**params).fit([lif])
    with pytest.raises(TypeError, match="wrap it in a list"):
        CrystalGraphFeaturizer().transform(lif)
    with pytest.raises(TypeError, match="sample 1: expected a pymatgen Structure"):
        CrystalGraphFeaturizer().fit([lif, 3.0])
    with pytest.raises(ValueError, match=r"array of shape \(3, 2\)"):
        CrystalGraphFeaturizer().fit_transform(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X is empty"):
        CrystalGraphFeaturizer().fit_transform([])
    with pytest.raises(FileNotFoundError, match="sample 0"):
        CrystalGraphFeaturizer().fit_transform([str(GPAW_DIR / "no-such.npz")])
    disordered = lif.copy()
    disordered.replace_species({"Li": {"Li": 0.5, "Na": 0.5}})
    with pytest.raises(ValueError, match="sample 0 .*site 0 is disordered"):
        CrystalGraphFeaturizer().fit_transform([disordered])


def test_stateless_clone_pickle_and_parallel(records):
    structures = [_structure(records, f) for f in ("LiF", "Cu", "Ca2Ge", "B12W")]
    featurizer = CrystalGraphFeaturizer(cutoff=6.0)
    serial = featurizer.fit_transform(structures)
    restored = pickle.loads(pickle.dumps(clone(featurizer)))
    parallel = restored.set_params(n_jobs=2).transform(structures)  # no fit needed
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a.edge_index, b.edge_index)
        np.testing.assert_array_equal(a.edge_features, b.edge_features)
    assert pickle.loads(pickle.dumps(serial[3])).n_edges == serial[3].n_edges
