"""scikit-learn's common estimator checks on every public skecd estimator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skecd.utils import all_estimators
from skecd.utils._test_common.instance_generator import (
    EXPECTED_FAILED_CHECKS,
    SKIPPED_ESTIMATORS,
    _get_expected_failed_checks,
    _tested_estimators,
)

ROOT = Path(__file__).resolve().parents[1]


@parametrize_with_checks(
    list(_tested_estimators()), expected_failed_checks=_get_expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_estimator_is_checked():
    names = {name for name, _ in all_estimators()}
    assert names, "no public estimator found"
    listed = {name for name, table in EXPECTED_FAILED_CHECKS.items() if table}
    assert listed <= names, "the table names an estimator that does not exist"
    assert not set(SKIPPED_ESTIMATORS) - names


@pytest.mark.parametrize(
    "estimator_name, check, reason, replacement",
    [
        (est, check, reason, repl)
        for est, table in sorted(EXPECTED_FAILED_CHECKS.items())
        for check, (reason, repl) in sorted(table.items())
    ],
)
def test_expected_failure_has_reason_and_replacement(estimator_name, check, reason, replacement):
    assert len(reason) > 20, f"{estimator_name}.{check}: give a real reason"
    path, _, test_name = replacement.partition("::")
    source = (ROOT / path).read_text()
    assert re.search(rf"^(async )?def {re.escape(test_name)}\(", source, re.M), (
        f"{estimator_name}.{check}: replacement test {replacement} not found"
    )
