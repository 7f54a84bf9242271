"""Shortcuts taken for speed give what the general path gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from driftline.quality import Freshness, Suite, Uniqueness, ValueRange
from driftline.quality._frame import to_table

NOW = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "int32", "uint64", "int64"])
def test_uniqueness_on_small_and_unsigned_integers_matches_pandas(dtype: str) -> None:
    rng = np.random.default_rng(11)
    info = np.iinfo(dtype)
    low, high = max(int(info.min), -120), min(int(info.max), 120)
    values = pd.Series(rng.integers(low, high + 1, 300), dtype=dtype)
    expected = int(values.duplicated(keep=False).sum())
    result = Suite([Uniqueness("v")]).run(pd.DataFrame({"v": values}))
    assert result.checks[0].failed_rows == expected > 0
    assert result.metrics["v"].distinct_count == values.nunique()


def test_uniqueness_of_huge_unsigned_ids_falls_back_to_hashing() -> None:
    values = np.array([2**64 - 1, 2**63, 5, 2**64 - 1], dtype=np.uint64)
    result = Suite([Uniqueness("v")]).run({"v": values})
    assert result.checks[0].failed_rows == 2


def test_all_distinct_ids_with_missing_values_pass() -> None:
    ids = pd.array([4, None, 7, 5, None, 6], dtype="Int64")
    result = Suite([Uniqueness("id")]).run(pd.DataFrame({"id": ids}))
    check = result.checks[0]
    assert (check.passed, check.failed_rows, check.rows_checked) == (True, 0, 4)
    assert result.metrics["id"].distinct_count == 4


@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Oslo"])
@pytest.mark.parametrize("unit", ["us", "ns", "s"])
def test_pandas_datetimes_read_like_their_arrow_form(tz: str | None, unit: str) -> None:
    stamps = pd.Series(
        pd.to_datetime(["2024-04-30 10:00:01.5", None, "1969-12-31 23:59:59.25"], format="ISO8601")
    ).dt.as_unit(unit)
    if tz is not None:
        stamps = stamps.dt.tz_localize(tz)
    frame = pd.DataFrame({"t": stamps})
    direct = to_table(frame).column("t")
    via_arrow = to_table(pa.Table.from_pandas(frame, preserve_index=False)).column("t")
    assert direct.kind == via_arrow.kind == "datetime"
    assert direct.values.tolist() == via_arrow.values.tolist()
    assert direct.missing.tolist() == via_arrow.missing.tolist() == [False, True, False]


def test_freshness_and_range_on_pandas_datetimes_equal_the_arrow_results() -> None:
    stamps = [NOW - timedelta(hours=h) for h in (5, 30, 200, 400)] + [None]
    frame = pd.DataFrame({"t": pd.Series(stamps, dtype="datetime64[us, UTC]")})
    suite = Suite(
        [Freshness("10d", column="t"), ValueRange("t", min=NOW - timedelta(days=9), max=NOW)]
    )
    direct = suite.run(frame, clock=lambda: NOW)
    via_arrow = suite.run(pa.Table.from_pandas(frame, preserve_index=False), clock=lambda: NOW)
    assert direct.to_dict()["checks"] == via_arrow.to_dict()["checks"]
    assert [c.failed_rows for c in direct.checks] == [1, 1]
