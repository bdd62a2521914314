"""MagpieFeaturizer on the bundled real data (formulas, structures, densities, files)."""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from matminer.featurizers.composition import ElementProperty
from pymatgen.core import Composition, Structure
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skecd.io import read_chgcar, read_gpaw_npz
from skecd.preprocessing import MagpieFeaturizer

DATA_DIR = Path(__file__).resolve().parents[2] / "skecd" / "datasets" / "data"


@pytest.fixture(scope="module")
def records():
    with gzip.open(DATA_DIR / "fcc_fm3m_elastic.json.gz", "rt") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def formulas(records):
    return [r["formula"] for r in records]


@pytest.fixture(scope="module")
def reference():
    """matminer's own featuriser, called directly (mean imputation off)."""
    return ElementProperty.from_preset("magpie", impute_nan=False)


def _matminer(reference, formula):
    return np.asarray(reference.featurize(Composition(formula)), dtype=np.float64)


def test_features_match_matminer_on_real_formulas(formulas, reference):
    X = formulas[:40]
    features = MagpieFeaturizer().fit_transform(X)
    assert features.shape == (40, 132)
    assert features.dtype == np.float64
    assert np.all(np.isfinite(features))
    expected = np.vstack([_matminer(reference, f) for f in X])
    np.testing.assert_allclose(features, expected, rtol=0, atol=0)


def test_padding_to_12x12(formulas):
    X = formulas[:5]
    plain = MagpieFeaturizer().fit_transform(X)
    padded = MagpieFeaturizer(pad_to_square=True).fit_transform(X)
    assert padded.shape == (5, 144)
    np.testing.assert_array_equal(padded[:, :132], plain)
    np.testing.assert_array_equal(padded[:, 132:], 0.0)
    assert padded.reshape(5, 12, 12).shape == (5, 12, 12)


def test_feature_names(reference):
    feat = MagpieFeaturizer().fit(["NaCl"])
    names = feat.get_feature_names_out()
    assert list(names) == list(reference.feature_labels())
    assert len(set(names)) == 132
    padded = MagpieFeaturizer(pad_to_square=True).fit(["NaCl"]).get_feature_names_out()
    assert list(padded[:132]) == list(names)
    assert list(padded[132:]) == [f"pad_{i}" for i in range(12)]
    with pytest.raises(ValueError, match="input_features"):
        feat.get_feature_names_out(["a", "b"])


def test_feature_names_follow_dataframe_column():
    X = pd.DataFrame({"formula": ["NaCl", "MgO"]})
    feat = MagpieFeaturizer().fit(X)
    assert list(feat.feature_names_in_) == ["formula"]
    assert feat.n_features_in_ == 1
    assert len(feat.get_feature_names_out(["formula"])) == 132
    with pytest.raises(ValueError, match="column name"):
        feat.transform(pd.DataFrame({"other": ["NaCl"]}))
    out = make_pipeline(MagpieFeaturizer(), StandardScaler()).set_output(transform="pandas")
    table = out.fit_transform(X)
    assert list(table.columns) == list(feat.get_feature_names_out())


def test_formula_structure_density_and_files_agree(records, gpaw_dir, chgcar_dir):
    """The same material as a formula, a Structure, a ChargeDensity, an .npz and a CHGCAR."""
    npz = gpaw_dir / "mp-1000.npz"  # BaTe
    density = read_gpaw_npz(npz)
    si_chgcar = chgcar_dir / "Si_fcc.CHGCAR.gz"
    fe3o4 = chgcar_dir / "Fe3O4.CHGCAR.gz"  # several species, with augmentation blocks
    X = [
        density.formula,
        density.structure,
        density,
        str(npz),
        npz,
        "Si",
        str(si_chgcar),
        read_chgcar(si_chgcar),
        read_chgcar(si_chgcar).to_chgcar(),  # a pymatgen VolumetricData
        "Fe3O4",
        fe3o4,
        Structure.from_dict(records[0]["structure"]),
        records[0]["formula"],
    ]
    F = MagpieFeaturizer().fit(X).transform(X)
    for rows in ([0, 1, 2, 3, 4], [5, 6, 7, 8], [9, 10], [11, 12]):
        for row in rows[1:]:
            np.testing.assert_array_equal(F[row], F[rows[0]], err_msg=f"row {row}")
    assert not np.array_equal(F[0], F[5])


def test_chgcar_path_reads_only_the_header(chgcar_dir, monkeypatch):
    """A CHGCAR path is featurised from its structure block, not by parsing the grid."""
    import pymatgen.io.vasp

    def fail(*args, **kwargs):
        raise AssertionError("the whole CHGCAR was parsed")

    monkeypatch.setattr(pymatgen.io.vasp.Chgcar, "from_file", fail)
    features = MagpieFeaturizer().fit_transform([chgcar_dir / "TiIr_mp-1235.CHGCAR.gz"])
    np.testing.assert_array_equal(features, MagpieFeaturizer().fit_transform(["TiIr"]))


def test_n_jobs_gives_the_same_features(formulas, gpaw_paths):
    X = formulas[:20] + [str(p) for p in gpaw_paths]
    serial = MagpieFeaturizer(n_jobs=1).fit_transform(X)
    # Threads: starting loky processes (each importing pymatgen and matminer) takes
    # ~10 s on a loaded 2-core machine; the chunking and ordering under test are the same.
    with joblib.parallel_config(backend="threading"):
        parallel = MagpieFeaturizer(n_jobs=2, verbose=True).fit_transform(X)
    np.testing.assert_array_equal(parallel, serial)
    with joblib.parallel_config(backend="threading"), pytest.raises(ValueError, match="sample 21"):
        MagpieFeaturizer(n_jobs=2).fit_transform(X[:21] + ["Xx"])


def test_rows_independent_of_order_and_batch(formulas):
    X = formulas[:30]
    feat = MagpieFeaturizer().fit(X)
    full = feat.transform(X)
    order = np.random.permutation(30)
    np.testing.assert_array_equal(feat.transform([X[i] for i in order]), full[order])
    np.testing.assert_array_equal(feat.transform(X[10:13]), full[10:13])
    np.testing.assert_array_equal(feat.transform([X[7]]), full[[7]])  # a single sample


def test_input_containers_and_float64_output(formulas):
    X = formulas[:6]
    expected = MagpieFeaturizer().fit_transform(X)
    containers = [
        tuple(X),
        np.array(X),  # numpy unicode
        np.array(X, dtype=object),
        np.array(X, dtype=object).reshape(-1, 1),
        np.asfortranarray(np.array(X, dtype=object).reshape(-1, 1)),
        [[f] for f in X],
        pd.Series(X),
        pd.DataFrame({"formula": X}),
        [Composition(f) for f in X],
    ]
    for container in containers:
        out = MagpieFeaturizer().fit(container).transform(container)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, expected, err_msg=type(container).__name__)


def test_read_only_input(formulas):
    X = np.array(formulas[:4], dtype=object)
    X.setflags(write=False)
    out = MagpieFeaturizer().fit_transform(X)
    assert out.shape == (4, 132)


def test_fit_returns_self_ignores_y_and_transform_needs_fit(formulas):
    feat = MagpieFeaturizer()
    with pytest.raises(NotFittedError):
        feat.transform(["NaCl"])
    assert feat.fit(formulas[:3], y=np.arange(3.0)) is feat
    assert feat.n_features_in_ == 1
    assert isinstance(feat.featurizer_, ElementProperty)


def test_fit_does_not_change_params(formulas):
    feat = MagpieFeaturizer(pad_to_square=True, n_jobs=1)
    params = feat.get_params()
    feat.fit(formulas[:3])
    assert feat.get_params() == params
    added = set(vars(feat)) - set(params)
    assert added and all(name.endswith("_") for name in added)
    state = dict(vars(feat))
    feat.transform(formulas[:3])
    assert vars(feat).keys() == state.keys()
    assert all(vars(feat)[k] is state[k] for k in state)


def test_fit_is_idempotent_and_deterministic(formulas):
    feat = MagpieFeaturizer()
    first = feat.fit(formulas[:10]).transform(formulas[10:20])
    second = feat.fit(formulas[30:40]).transform(formulas[10:20])
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, clone(feat).fit_transform(formulas[10:20]))


def test_pickle_roundtrip(formulas):
    feat = MagpieFeaturizer(pad_to_square=True).fit(formulas[:3])
    restored = pickle.loads(pickle.dumps(feat))
    np.testing.assert_array_equal(restored.transform(formulas[:5]), feat.transform(formulas[:5]))


def test_missing_elemental_data_names_element_and_sample():
    with pytest.raises(ValueError, match=r"sample 1 .*Electronegativity.*element He"):
        MagpieFeaturizer().fit_transform(["NaCl", "HeO"])
    imputed = MagpieFeaturizer(impute_nan=True).fit_transform(["NaCl", "HeO"])
    assert np.all(np.isfinite(imputed))
    # Elements with complete data give the same features with or without imputation.
    np.testing.assert_array_equal(imputed[0], MagpieFeaturizer().fit_transform(["NaCl"])[0])


@pytest.mark.parametrize(
    "X, error, match",
    [
        (["NaCl", "Xx2O"], ValueError, r"sample 1: unknown element.*Xx"),
        (["NaCl", "MgO", "Na)Cl"], ValueError, r"sample 2: 'Na\)Cl' is neither an existing file"),
        (["NaCl", ""], ValueError, r"sample 1: '' is neither"),
        (["NaCl", np.nan], TypeError, r"sample 1: expected a formula.*got float"),
        (["NaCl", None], TypeError, r"sample 1: expected a formula.*NoneType"),
        ([Path("/no/such/file.CHGCAR")], FileNotFoundError, r"sample 0: no such file"),
        ([], ValueError, "X is empty"),
        (np.zeros((3, 2), dtype=object), ValueError, r"one column.*\(3, 2\)"),
        ([["NaCl", "KCl"]], ValueError, "row 0 has 2 entries"),
        (np.ones((4, 1)), ValueError, "X holds numbers"),
        (np.array([[np.nan], [1.0]]), ValueError, "NaN"),
        ("NaCl", TypeError, "X must be a list"),
    ],
)
def test_bad_input_names_the_sample(X, error, match):
    feat = MagpieFeaturizer().fit(["NaCl"])
    with pytest.raises(error, match=match):
        feat.transform(X)


def test_bad_file_names_sample_and_file(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"sample 1: could not read 'species'.* from .*broken.npz"):
        MagpieFeaturizer().fit_transform(["NaCl", str(bad)])
    truncated = tmp_path / "CHGCAR"
    truncated.write_text("not a chgcar\n1.0\n")
    with pytest.raises(ValueError, match=r"sample 0: .*CHGCAR"):
        MagpieFeaturizer().fit_transform([truncated])


def test_bad_parameters_raise_in_fit():
    with pytest.raises(TypeError, match="pad_to_square"):
        MagpieFeaturizer(pad_to_square="yes").fit(["NaCl"])


@pytest.mark.parametrize("formula, dropped", [("NaCl0", "Cl"), ("Na(Cl2)0", "Cl"), ("Na0Cl", "Na")])
def test_formula_with_zero_amount_is_refused(formula, dropped):
    """pymatgen drops zero amounts: "NaCl0" used to get the features of Na."""
    with pytest.raises(ValueError, match=rf"sample 1: formula .* zero atoms of \['{dropped}'\]"):
        MagpieFeaturizer().fit_transform(["NaCl", formula])


def test_vasp4_chgcar_is_not_featurised_as_hydrogen(chgcar_dir, tmp_path):
    import gzip

    with gzip.open(chgcar_dir / "Si_fcc.CHGCAR.gz", "rt") as fh:
        lines = fh.read().splitlines(keepends=True)
    path = tmp_path / "CHGCAR"
    path.write_text("".join(lines[:5] + lines[6:]))  # no element line
    with pytest.raises(ValueError, match=r"sample 0: .*CHGCAR.*no element line"):
        MagpieFeaturizer().fit_transform([path])
