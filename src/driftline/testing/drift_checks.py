"""Conformance checks every univariate drift test must pass.

Use with pytest::

    @pytest.mark.parametrize("check", yield_checks(KolmogorovSmirnov()), ids=check_id)
    def test_conformance(check):
        check()

or run them all at once with :func:`check_univariate_test`. Each check raises
``AssertionError`` with a message naming the test and what broke.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Iterator

import numpy as np

from driftline.drift.univariate import METHODS, UnivariateResult, UnivariateTest
from driftline.exceptions import ValidationError

__all__ = ["all_univariate_tests", "check_id", "check_univariate_test", "yield_checks"]

Check = Callable[[], None]


def all_univariate_tests() -> list[UnivariateTest]:
    """One default instance of every registered univariate test."""
    return [cls() for cls in METHODS.values()]


def yield_checks(test: UnivariateTest) -> Iterator[Check]:
    """Every check that applies to ``test``, bound to it."""
    checks: list[Callable[[UnivariateTest], None]] = [
        check_result_contract,
        check_identical_samples_do_not_drift,
        check_large_shift_drifts,
        check_order_invariance,
        check_deterministic,
        check_accepts_lists_and_series,
        check_rejects_empty_input,
        check_rejects_wrong_kind,
        check_threshold_is_used,
        check_constant_input_stays_finite,
    ]
    for check in checks:
        bound = functools.partial(check, test)
        functools.update_wrapper(bound, check)
        yield bound


def check_id(check: Check) -> str:
    """A readable pytest id for a bound check."""
    return getattr(check, "__name__", repr(check))


def check_univariate_test(test: UnivariateTest) -> None:
    """Run every check on ``test``."""
    for check in yield_checks(test):
        check()


def _samples(test: UnivariateTest, seed: int, shift: float = 0.0, n: int = 400) -> tuple:
    rng = np.random.default_rng(seed)
    if "numeric" in test.kinds:
        return rng.normal(0.0, 1.0, n), rng.normal(shift, 1.0, n)
    labels = np.array(["a", "b"] if test.name == "ztest" else ["a", "b", "c", "d"])
    p_ref = np.full(len(labels), 1 / len(labels))
    p_cur = p_ref.copy()
    if shift:
        p_cur = np.linspace(1.0, 0.1, len(labels))
        p_cur /= p_cur.sum()
    return rng.choice(labels, n, p=p_ref), rng.choice(labels, n, p=p_cur)


def check_result_contract(test: UnivariateTest) -> None:
    """A frozen UnivariateResult with finite numbers and a p-value iff the test has one."""
    ref, cur = _samples(test, 1, shift=0.3)
    result = test.compare(ref, cur)
    assert isinstance(result, UnivariateResult), f"{test.name}: returned {type(result)}"
    assert result.method == test.name, f"{test.name}: method is {result.method!r}"
    try:
        result.statistic = 0.0  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError(f"{test.name}: the result is not frozen")
    for field in ("statistic", "threshold", "effect_size"):
        value = getattr(result, field)
        assert math.isfinite(value), f"{test.name}: {field} is {value}"
    assert (result.p_value is not None) == test.has_p_value, f"{test.name}: p-value presence"
    if result.p_value is not None:
        assert 0.0 <= result.p_value <= 1.0, f"{test.name}: p-value {result.p_value}"
    assert result.n_reference == len(ref) and result.n_current == len(cur), test.name
    assert isinstance(result.drift_detected, bool), f"{test.name}: drift flag is not a bool"


def check_identical_samples_do_not_drift(test: UnivariateTest) -> None:
    """The same sample on both sides: no drift, and the smallest possible statistic."""
    ref, _ = _samples(test, 2)
    result = test.compare(ref, ref.copy())
    assert not result.drift_detected, f"{test.name}: drift on identical samples: {result}"
    if result.p_value is None and test.name != "ztest":
        assert result.statistic <= 1e-12, f"{test.name}: statistic {result.statistic} on copies"


def check_large_shift_drifts(test: UnivariateTest) -> None:
    """A shift of several standard deviations (or a reshuffled distribution) is detected."""
    ref, cur = _samples(test, 3, shift=3.0, n=2000)
    result = test.compare(ref, cur)
    assert result.drift_detected, f"{test.name}: missed a large shift: {result}"


def check_order_invariance(test: UnivariateTest) -> None:
    """Shuffling either side does not change the result."""
    ref, cur = _samples(test, 4, shift=0.2)
    rng = np.random.default_rng(0)
    a = test.compare(ref, cur)
    b = test.compare(rng.permutation(ref), rng.permutation(cur))
    assert math.isclose(a.statistic, b.statistic, rel_tol=1e-12, abs_tol=1e-12), test.name
    assert a.drift_detected == b.drift_detected, test.name


def check_deterministic(test: UnivariateTest) -> None:
    """The same input gives the same result twice."""
    ref, cur = _samples(test, 5, shift=0.1)
    assert test.compare(ref, cur) == test.compare(ref, cur), f"{test.name}: not deterministic"


def check_accepts_lists_and_series(test: UnivariateTest) -> None:
    """Lists and pandas Series give the numpy result."""
    import pandas as pd

    ref, cur = _samples(test, 6, shift=0.2)
    expected = test.compare(ref, cur)
    assert test.compare(list(ref), list(cur)) == expected, f"{test.name}: lists differ"
    assert test.compare(pd.Series(ref), pd.Series(cur)) == expected, f"{test.name}: Series differ"


def check_rejects_empty_input(test: UnivariateTest) -> None:
    """An empty or all-missing side raises ValidationError, never a NaN result."""
    ref, _ = _samples(test, 7)
    empty: list[object] = [None, None] if "categorical" in test.kinds else [math.nan]
    for cur in ([], empty):
        try:
            result = test.compare(ref, cur)
        except ValidationError:
            continue
        raise AssertionError(f"{test.name}: accepted an empty side and returned {result}")


def check_rejects_wrong_kind(test: UnivariateTest) -> None:
    """A test for one kind rejects the other with ValidationError."""
    if test.kinds == {"numeric", "categorical"}:
        return
    other = np.array(["x", "y"] * 50) if "numeric" in test.kinds else np.arange(100.0)
    try:
        test.compare(other, other)
    except ValidationError:
        return
    raise AssertionError(f"{test.name}: tested a kind it does not support")


def check_threshold_is_used(test: UnivariateTest) -> None:
    """A result is judged against the test's own threshold."""
    ref, cur = _samples(test, 8, shift=0.3)
    result = test.compare(ref, cur)
    assert result.threshold == test.threshold, f"{test.name}: threshold {result.threshold}"
    if result.p_value is not None:
        assert result.drift_detected == (result.p_value <= result.threshold), test.name
    else:
        assert result.drift_detected == (result.statistic > result.threshold), test.name


def check_constant_input_stays_finite(test: UnivariateTest) -> None:
    """Constant sides give a finite result or a ValidationError, never NaN."""
    if "numeric" in test.kinds:
        ref, cur = np.full(50, 2.0), np.full(50, 2.0)
    else:
        ref, cur = np.array(["a", "b"] * 25), np.array(["a", "b"] * 25)
    try:
        result = test.compare(ref, cur)
    except ValidationError:
        return
    assert math.isfinite(result.statistic), f"{test.name}: {result}"
    assert not result.drift_detected, f"{test.name}: constant equal sides drifted: {result}"
