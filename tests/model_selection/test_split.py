"""LeaveOneElementOut and element_split_summary on the bundled real Fm-3m set."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import sklearn
from pymatgen.core import Composition, Element, Structure
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

from skecd.io import read_gpaw_npz
from skecd.model_selection import LeaveOneElementOut, element_split_summary
from skecd.preprocessing import MagpieFeaturizer

DATA_DIR = Path(__file__).resolve().parents[2] / "skecd" / "datasets" / "data"
MIN_COUNT = 30  # gives two splits on the 371 materials (Li, Al), to keep the test fast


@pytest.fixture(scope="module")
def records():
    with gzip.open(DATA_DIR / "fcc_fm3m_elastic.json.gz", "rt") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def formulas(records):
    return [r["formula"] for r in records]


def _elements(formula):
    return {el.symbol for el in Composition(formula).elements}


def test_each_split_leaves_out_exactly_the_samples_with_the_element(formulas):
    cv = LeaveOneElementOut(min_count=MIN_COUNT)
    X = np.zeros((len(formulas), 1))
    summary = element_split_summary(formulas, min_count=MIN_COUNT)
    splits = list(cv.split(X, groups=formulas))
    assert len(splits) == len(summary) == cv.get_n_splits(X, groups=formulas) >= 2
    for element, (train, test) in zip(summary.index, splits):
        expected = [i for i, f in enumerate(formulas) if element in _elements(f)]
        assert test.tolist() == expected
        assert len(test) >= MIN_COUNT
        assert not set(train) & set(test)
        assert sorted(np.concatenate([train, test])) == list(range(len(formulas)))
        assert not any(element in _elements(formulas[i]) for i in train)


def test_default_selection_and_order(formulas):
    counts = {}
    for f in formulas:
        for el in _elements(f):
            counts[el] = counts.get(el, 0) + 1
    for min_count in (1, 10, MIN_COUNT):
        summary = element_split_summary(formulas, min_count=min_count)
        selected = [e for e, c in counts.items() if c >= min_count]
        expected = sorted(selected, key=lambda e: Element(e).Z)
        assert list(summary.index) == expected
        assert summary["atomic_number"].is_monotonic_increasing
        cv = LeaveOneElementOut(min_count=min_count)
        assert cv.get_n_splits(groups=formulas) == len(expected)


def test_summary_table_sums(formulas):
    summary = element_split_summary(formulas, min_count=10)
    assert list(summary.columns) == ["atomic_number", "n_test", "n_train"]
    assert summary.index.name == "element"
    assert (summary["n_test"] + summary["n_train"] == len(formulas)).all()
    assert (summary["n_test"] >= 10).all()
    for element, row in summary.iterrows():
        assert row["n_test"] == sum(element in _elements(f) for f in formulas)


def test_explicit_elements_keep_their_order_and_ignore_min_count(formulas):
    cv = LeaveOneElementOut(elements=["O", "Li", "Tc"], min_count=1000)
    tests = [test for _, test in cv.split(formulas, groups=formulas)]
    assert cv.get_n_splits(groups=formulas) == 3
    for element, test in zip(["O", "Li", "Tc"], tests):
        assert [formulas[i] for i in test] == [f for f in formulas if element in _elements(f)]
    summary = element_split_summary(formulas, elements=["O", "Li", "Tc"])
    assert list(summary.index) == ["O", "Li", "Tc"]


def test_groups_as_structures_densities_and_compositions_agree(records, gpaw_dir):
    subset = records[:30]
    formulas = [r["formula"] for r in subset]
    structures = [Structure.from_dict(r["structure"]) for r in subset]
    compositions = [Composition(f) for f in formulas]
    cv = LeaveOneElementOut()
    reference = [(tr.tolist(), te.tolist()) for tr, te in cv.split(formulas, groups=formulas)]
    for groups in (structures, compositions, np.array(formulas, dtype=object)):
        got = [(tr.tolist(), te.tolist()) for tr, te in cv.split(formulas, groups=groups)]
        assert got == reference
    densities = [read_gpaw_npz(gpaw_dir / f"{mid}.npz") for mid in ("mp-1000", "mp-1138")]
    splits = list(LeaveOneElementOut().split(densities, groups=densities))  # BaTe, LiF
    assert [te.tolist() for _, te in splits] == [[1], [1], [0], [0]]  # Li, F, Te, Ba


def test_magpie_random_forest_cross_validate_on_real_data(records, formulas):
    y = np.array([r["K_VRH"] for r in records])
    pipe = make_pipeline(MagpieFeaturizer(), RandomForestRegressor(n_estimators=10, random_state=0))
    cv = LeaveOneElementOut(min_count=MIN_COUNT)
    result = cross_validate(
        pipe, formulas, y, groups=formulas, cv=cv, scoring="neg_mean_absolute_error"
    )
    n_splits = cv.get_n_splits(groups=formulas)
    assert result["test_score"].shape == (n_splits,)
    assert np.all(np.isfinite(result["test_score"]))
    assert np.all(result["test_score"] < 0)

    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_validate(
            pipe,
            formulas,
            y,
            params={"groups": formulas},
            cv=cv,
            scoring="neg_mean_absolute_error",
        )
    np.testing.assert_allclose(routed["test_score"], result["test_score"])


def test_metadata_routing_requests_groups():
    request = LeaveOneElementOut().get_metadata_routing()
    assert request.split.requests == {"groups": True}


def test_splitter_repr_and_params():
    cv = LeaveOneElementOut(elements=["Li"], min_count=3)
    assert "elements=['Li']" in repr(cv)
    assert cv.elements == ["Li"] and cv.min_count == 3


@pytest.mark.parametrize(
    "kwargs, X, groups, error, match",
    [
        ({}, [1, 2], None, ValueError, "'groups' parameter should not be None"),
        ({}, [1, 2, 3], ["NaCl", "KCl"], ValueError, r"X has 3 samples, groups has 2"),
        ({}, [], [], ValueError, "groups is empty"),
        ({}, [1, 2], ["NaCl", "Xx"], ValueError, r"groups\[1\]: unknown element"),
        ({}, [1, 2], ["NaCl", 3.5], TypeError, r"groups\[1\]: expected a formula"),
        ({}, [1, 2], ["NaCl", "ClNa"], ValueError, "No element is present"),
        ({"min_count": 0}, [1, 2], ["NaCl", "KF"], ValueError, "min_count must be an int >= 1"),
        ({"min_count": 3}, [1, 2], ["NaCl", "KF"], ValueError, "min_count=3"),
        ({"elements": ["Qq"]}, [1, 2], ["NaCl", "KF"], ValueError, "'Qq' is not a chemical"),
        ({"elements": ["Fe"]}, [1, 2], ["NaCl", "KF"], ValueError, "elements: Fe is in none"),
        ({"elements": ["Na"]}, [1, 2], ["NaCl", "NaF"], ValueError, "empty training set"),
        ({"elements": ["K", "K"]}, [1, 2], ["NaCl", "KF"], ValueError, "listed twice"),
        ({"elements": []}, [1, 2], ["NaCl", "KF"], ValueError, "elements is empty"),
        ({}, [1, 2], "NaCl", TypeError, "groups must be an array-like"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, X, groups, error, match):
    cv = LeaveOneElementOut(**kwargs)
    with pytest.raises(error, match=match):
        list(cv.split(X, groups=groups))
    with pytest.raises(error, match=match):
        cv.get_n_splits(X, groups=groups)


def test_y_length_is_checked():
    with pytest.raises(ValueError, match=r"y has 3 samples, groups has 2"):
        list(LeaveOneElementOut().split([1, 2], [1, 2, 3], groups=["NaCl", "KF"]))
