"""Threaded suite runs: the same results, errors and column order as a sequential run."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from driftline.exceptions import ValidationError
from driftline.quality import (
    AllowedValues,
    Completeness,
    Custom,
    Freshness,
    Referential,
    Regex,
    RowCount,
    Schema,
    Suite,
    Uniqueness,
    ValueRange,
)
from driftline.quality._parallel import AUTO_MIN_ROWS, Workers, resolve_workers

NOW = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """60,000 rows with failures in every check, so every check has examples and metrics."""
    rng = np.random.default_rng(3)
    n = 60_000
    ids = rng.permutation(n)
    ids[:3] = ids[3]  # four rows share an id
    values = rng.normal(0, 3, n)
    values[rng.random(n) < 0.03] = np.nan
    codes = np.char.add("AB-", np.char.zfill(rng.integers(0, 10_000, n).astype(str), 4))
    codes[::997] = "bad"
    return pd.DataFrame(
        {
            "id": ids,
            "x": values,
            "n": rng.integers(-5, 105, n),
            "plan": pd.Series(rng.choice(["free", "pro", "team", "?"], n), dtype="str"),
            "code": pd.Series(codes, dtype="str"),
            "seen": pd.Timestamp(NOW) - pd.to_timedelta(rng.integers(0, 20 * 86_400, n), "s"),
            "customer": rng.integers(0, 120, n),
        }
    )


def _suite() -> Suite:
    return Suite(
        [
            Schema({"id": "numeric", "x": "numeric", "plan": "categorical"}, unexpected="warn"),
            RowCount(min=100),
            Completeness("x", max_missing=0.01),
            ValueRange("x", min=-5, max=5),
            ValueRange("n", min=0, max=100),
            AllowedValues("plan", values={"free", "pro", "team"}),
            Uniqueness("id"),
            Uniqueness(("plan", "customer")),
            Regex("code", r"[A-Z]{2}-\d{4}"),
            Freshness("7d", column="seen"),
            Referential("customer", reference_column="id"),
            Custom("x_not_huge", lambda c: ~(np.abs(c["x"]) > 9), columns=("x",)),
        ],
        missing_markers={"plan": ["?"]},
    )


REFERENCE = pd.DataFrame({"id": np.arange(100)})


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_threaded_run_equals_sequential_run(frame: pd.DataFrame, workers: int) -> None:
    suite = _suite()
    sequential = suite.run(frame, clock=lambda: NOW, reference=REFERENCE, workers=1)
    threaded = suite.run(frame, clock=lambda: NOW, reference=REFERENCE, workers=workers)
    assert threaded.to_dict() == sequential.to_dict()
    # Metrics list columns in the order a sequential run first used them, whatever thread won.
    assert list(threaded.metrics) == list(sequential.metrics)
    assert not sequential.passed and sum(not c.passed for c in sequential.checks) >= 8


def test_suite_workers_is_the_default_for_run_and_not_part_of_equality(
    frame: pd.DataFrame,
) -> None:
    checks = _suite().checks
    one, many = Suite(checks, workers=1), Suite(checks, workers=4)
    assert one == many
    a = one.run(frame, clock=lambda: NOW, reference=REFERENCE)
    b = many.run(frame, clock=lambda: NOW, reference=REFERENCE)
    assert a.to_dict() == b.to_dict()


def test_the_error_raised_is_the_first_failing_check_in_suite_order(frame: pd.DataFrame) -> None:
    # Checks 2 and 3 both fail (a text column where numbers are needed, a missing reference).
    suite = Suite(
        [
            Completeness("x"),
            ValueRange("plan", min=0, max=1),
            Referential("customer", reference_column="id"),
            Uniqueness("id"),
        ]
    )
    messages = set()
    for workers in (1, 2, 4):
        with pytest.raises(ValidationError) as info:
            suite.run(frame, workers=workers)
        messages.add(str(info.value))
    assert len(messages) == 1
    assert messages.pop().startswith("check 2 'range' on 'plan'")


def test_custom_functions_run_on_the_calling_thread(frame: pd.DataFrame) -> None:
    seen: list[int] = []

    def fn(columns):
        seen.append(threading.get_ident())
        return np.ones(len(columns["x"]), dtype=bool)

    checks = [Custom(f"c{i}", fn, columns=("x",)) for i in range(4)]
    Suite([*checks, Regex("code", r"\w+"), Uniqueness("id")]).run(frame, workers=4)
    assert seen == [threading.get_ident()] * 4


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_workers_must_be_a_positive_whole_number(bad) -> None:
    with pytest.raises(ValidationError, match="workers"):
        Suite([RowCount(min=1)], workers=bad)
    with pytest.raises(ValidationError, match="workers"):
        Suite([RowCount(min=1)]).run({"x": [1]}, workers=bad)


def test_small_batches_run_on_one_thread_by_default() -> None:
    assert resolve_workers(None, AUTO_MIN_ROWS - 1) == 1
    assert resolve_workers(None, AUTO_MIN_ROWS) >= 1
    assert resolve_workers(3, 10) == 3


def test_map_keeps_item_order_and_nested_maps_do_not_deadlock() -> None:
    with Workers(2) as workers:

        def outer(i: int) -> list[int]:
            return workers.map(lambda j: i * 10 + j, range(5))

        result = workers.map(outer, range(6), order=[5, 4, 3, 2, 1, 0])
    assert result == [[i * 10 + j for j in range(5)] for i in range(6)]


def test_map_raises_the_error_of_the_first_item_in_item_order() -> None:
    def fn(i: int) -> int:
        if i in (2, 5):
            raise ValueError(f"item {i}")
        return i

    with Workers(3) as workers, pytest.raises(ValueError, match="item 2"):
        workers.map(fn, range(8), order=[7, 6, 5, 4, 3, 2, 1, 0])


@pytest.mark.parametrize(("size", "n"), [(1, 10), (2, 1_000_000), (4, 1_000_001), (3, 150_000)])
def test_row_slices_cover_every_row_once_in_order(size: int, n: int) -> None:
    with Workers(size) as workers:
        slices = workers.slices(n)
    assert slices[0][0] == 0 and slices[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))
    assert len(slices) <= size


def test_stale_rows_and_examples_do_not_depend_on_threads() -> None:
    stamps = [NOW - timedelta(days=d) for d in range(30)] * 5_000
    data = {"seen": stamps, "v": np.arange(len(stamps)) % 7}
    suite = Suite([Freshness("10d", column="seen"), ValueRange("v", max=5)])
    a = suite.run(data, clock=lambda: NOW, workers=1)
    b = suite.run(data, clock=lambda: NOW, workers=2)
    assert a.checks[0].failed_rows == 19 * 5_000 == b.checks[0].failed_rows
    assert a.checks[1].examples == b.checks[1].examples
    assert [e["row"] for e in a.checks[1].examples] == [6, 13, 20, 27, 34]
