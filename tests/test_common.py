"""Every public estimator through scikit-learn's checks and skecd's own, on valid input."""

from __future__ import annotations

import functools

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from skecd.utils import all_estimators
from skecd.utils._test_common.instance_generator import (
    API_CHECKS,
    EXPECTED_FAILED_CHECKS,
    INIT_PARAMS,
    INPUT_KIND,
    LEARN_PARAMS,
    SKIPPED_ESTIMATORS,
    TABLE_CHECKS_REASON,
    _tested_estimators,
    input_kind,
)
from skecd.utils.estimator_checks import INPUT_KINDS, yield_checks

ESTIMATORS = list(_tested_estimators())


def _check_name(check):
    check = check.func if isinstance(check, functools.partial) else check
    return check.__name__


def _sklearn_checks(estimator):
    """scikit-learn's checks of one estimator, by name (with sklearn's variants)."""
    for est, check in estimator_checks_generator(estimator, legacy=True, mark=None):
        yield _check_name(check), str(check), est, check


def _sklearn_params():
    for estimator in ESTIMATORS:
        name = type(estimator).__name__
        kind = input_kind(estimator)
        expected = EXPECTED_FAILED_CHECKS.get(name, {})
        for check_name, _, est, check in _sklearn_checks(estimator):
            marks = []
            if check_name in expected:
                marks = [pytest.mark.xfail(strict=True, reason=expected[check_name])]
            elif kind != "table" and check_name not in API_CHECKS:
                marks = [pytest.mark.skip(reason=TABLE_CHECKS_REASON.format(kind=kind))]
            yield pytest.param(est, check, id=f"{name}-{check_name}", marks=marks)


@pytest.mark.parametrize("estimator, check", list(_sklearn_params()))
def test_sklearn_checks(estimator, check):
    check(estimator)


def _skecd_params():
    for estimator in ESTIMATORS:
        name = type(estimator).__name__
        learn = LEARN_PARAMS.get(name)
        for check_name, check in yield_checks(estimator, input_kind(estimator), learn_params=learn):
            yield pytest.param(check, id=f"{name}-{check_name}")


@pytest.mark.parametrize("check", list(_skecd_params()))
def test_skecd_checks(check):
    check()


def test_every_estimator_is_checked():
    names = {name for name, _ in all_estimators()}
    assert names, "no public estimator found"
    tested = {type(e).__name__ for e in ESTIMATORS}
    assert tested | set(SKIPPED_ESTIMATORS) == names
    for table in (EXPECTED_FAILED_CHECKS, INIT_PARAMS, INPUT_KIND, LEARN_PARAMS):
        assert set(table) <= tested, "a table names an estimator that is not checked"
    assert set(INPUT_KIND.values()) <= set(INPUT_KINDS)
    regressors = {type(e).__name__ for e in ESTIMATORS if hasattr(e, "predict")}
    assert set(LEARN_PARAMS) == regressors, "every regressor must be checked to learn"


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_expected_failures_name_real_checks(estimator):
    """Every key of the table is a check scikit-learn runs on this estimator, with a reason."""
    name = type(estimator).__name__
    table = EXPECTED_FAILED_CHECKS.get(name, {})
    run = {check_name for check_name, *_ in _sklearn_checks(estimator)}
    unknown = set(table) - run
    assert not unknown, f"{name}: expected failures name no check: {sorted(unknown)}"
    for check, reason in table.items():
        assert len(reason) > 40, f"{name}.{check}: give a real reason"
