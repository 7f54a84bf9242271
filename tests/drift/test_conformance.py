"""The conformance suite of driftline.testing.drift_checks over every univariate test."""

from __future__ import annotations

import pytest

from driftline.drift import univariate
from driftline.testing.drift_checks import all_univariate_tests, check_id, yield_checks

CASES = [
    pytest.param(check, id=f"{test.name}-{check_id(check)}")
    for test in all_univariate_tests()
    for check in yield_checks(test)
]


@pytest.mark.parametrize("check", CASES)
def test_conformance(check) -> None:
    check()


def test_suite_covers_every_registered_method() -> None:
    assert {t.name for t in all_univariate_tests()} == set(univariate.METHODS)
    assert len(univariate.METHODS) == 10


def test_a_broken_test_fails_the_suite() -> None:
    class AlwaysDrifts(univariate.KolmogorovSmirnov):
        name = "always"

        def _numeric(self, pair):  # type: ignore[no-untyped-def]
            result = super()._numeric(pair)
            return result.with_threshold(1.0)

    failures = []
    for check in yield_checks(AlwaysDrifts()):
        try:
            check()
        except AssertionError as exc:
            failures.append(str(exc))
    assert any("identical samples" in f for f in failures)
