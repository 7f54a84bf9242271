"""Property tests: pandas, polars and Arrow input agree, with NaN/None/""/NaT mixed in."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
from hypothesis import HealthCheck, given, settings

from driftline.quality import (
    AllowedValues,
    Completeness,
    Custom,
    Freshness,
    Regex,
    Schema,
    Suite,
    Uniqueness,
    ValueRange,
)

NOW = datetime(2024, 5, 1, tzinfo=UTC)
NAN = float("nan")

# One token per cell: a value, or one of the spellings of "missing" each library has.
numbers = st.one_of(
    st.floats(-20, 20, allow_nan=False).map(lambda x: round(x, 2)), st.sampled_from([None, NAN])
)
texts = st.one_of(st.sampled_from(["a", "b", "ab", "c1", " ", "", None]))
stamps = st.one_of(
    st.integers(0, 24 * 60).map(lambda m: NOW - timedelta(minutes=m * 10)), st.just(None)
)
rows = st.lists(st.tuples(numbers, texts, stamps), min_size=0, max_size=40)

SUITE = Suite(
    [
        Schema({"num": "numeric", "txt": "text", "ts": "datetime"}),
        Completeness("num", max_missing=0.2),
        Completeness("txt", max_missing=0.2),
        Completeness("ts", max_missing=0.2),
        ValueRange("num", min=-10, max=10),
        AllowedValues("txt", values={"a", "b", "ab"}),
        Regex("txt", r"[ab]+"),
        Uniqueness("txt"),
        Uniqueness(("num", "txt")),
        Freshness("3d", column="ts"),
        Custom("num_at_most_15", lambda c: ~(c["num"] > 15), columns=("num",)),
    ],
    scoring="soft",
)


def _frames(data: list[tuple]) -> dict[str, object]:
    num = [r[0] for r in data]
    txt = [r[1] for r in data]
    ts = [r[2] for r in data]
    pandas = pd.DataFrame(
        {
            "num": pd.Series(num, dtype="float64"),
            "txt": pd.Series(txt, dtype="str"),
            "ts": pd.Series([pd.NaT if t is None else t for t in ts], dtype="datetime64[us, UTC]"),
        }
    )
    pandas_object = pandas.assign(txt=pd.Series(txt, dtype=object))
    polars = pl.DataFrame(
        {"num": num, "txt": txt, "ts": ts},
        schema={"num": pl.Float64, "txt": pl.String, "ts": pl.Datetime("us", "UTC")},
    )
    arrow = pa.table(
        {
            "num": pa.array(num, pa.float64()),  # NaN stays NaN in Arrow, as in polars
            "txt": pa.array(txt, pa.string()),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        }
    )
    return {"pandas": pandas, "pandas-object": pandas_object, "polars": polars, "arrow": arrow}


def _is_missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_every_input_library_gives_the_same_result(data: list[tuple]) -> None:
    results = {
        name: SUITE.run(frame, clock=lambda: NOW).to_dict() for name, frame in _frames(data).items()
    }
    first = results.pop("pandas")
    for name, other in results.items():
        assert other == first, name
    # and the missing counts are what the documented rule says
    for column, position in (("num", 0), ("txt", 1), ("ts", 2)):
        check = next(
            c for c in first["checks"] if c["name"] == "completeness" and c["column"] == column
        )
        assert check["failed_rows"] == sum(_is_missing(r[position]) for r in data)


@settings(max_examples=40, deadline=None)
@given(rows.filter(bool))
def test_records_fail_the_same_rows_as_the_batch(data: list[tuple]) -> None:
    frame = _frames(data)["polars"]
    batch = SUITE.run(frame, clock=lambda: NOW)
    checker = SUITE.record_checker(clock=lambda: NOW)
    records = [{"num": n, "txt": t, "ts": s} for n, t, s in data]
    outcomes = np.array([checker(r).outcomes for r in records])
    both = [c for c in batch.checks if c.kind != "unique"]  # uniqueness is batch-only
    assert [c.name for c in both] == list(checker.names)
    for check, count in zip(both, len(records) - outcomes.sum(axis=0), strict=True):
        if check.failed_rows is not None:
            assert count == check.failed_rows, check.name
