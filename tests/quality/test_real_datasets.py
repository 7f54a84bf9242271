"""Quality checks on the real datasets in ../shared/datasets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.csv as pacsv
import pytest

from driftline.quality import (
    AllowedValues,
    Completeness,
    Custom,
    Freshness,
    Referential,
    Regex,
    Suite,
    suggest,
)

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"


def test_california_total_bedrooms_missing_share_is_the_same_from_every_reader(
    california: pd.DataFrame,
) -> None:
    path = DATASETS / "california_housing.csv.gz"
    suite = Suite(
        [Completeness("total_bedrooms", max_missing=0.0101), Completeness("total_bedrooms")]
    )
    expected = int(california["total_bedrooms"].isna().sum())
    assert expected == 207
    results = [
        suite.run(frame, clock=lambda: datetime(2024, 1, 1, tzinfo=UTC)).to_dict()
        for frame in (california, pl.read_csv(path), pacsv.read_csv(path))
    ]
    assert results[0] == results[1] == results[2]
    bedrooms = results[0]["checks"][0]
    assert bedrooms["failed_rows"] == expected
    assert bedrooms["observed"] == pytest.approx(expected / len(california))
    assert bedrooms["passed"] is True  # 1.003% missing
    assert results[0]["checks"][1]["passed"] is False
    assert all(e["values"]["total_bedrooms"] is None for e in bedrooms["examples"])


def test_adult_blank_fields_count_as_missing_whether_read_as_nan_or_as_empty_string(
    adult: pd.DataFrame,
) -> None:
    path = DATASETS / "adult.csv.gz"
    as_text = pd.read_csv(path, keep_default_na=False)  # blanks stay "" here
    assert (as_text["workclass"] == "").sum() == adult["workclass"].isna().sum() == 1836
    suite = Suite([Completeness(c) for c in ("workclass", "occupation", "native-country")])
    counts = [
        [c.failed_rows for c in suite.run(frame).checks]
        for frame in (adult, as_text, pl.read_csv(path))
    ]
    assert counts[0] == counts[1] == counts[2] == [1836, 1843, 583]


def test_bank_marketing_unknown_is_declared_missing_per_column(bank: pd.DataFrame) -> None:
    checks = [Completeness("job", max_missing=0.01), Completeness("poutcome", max_missing=0.5)]
    plain = Suite(checks).run(bank)
    marked = Suite(checks, missing_markers={"job": ["unknown"], "poutcome": ["unknown"]}).run(bank)
    assert [c.failed_rows for c in plain.checks] == [0, 0]
    assert [c.failed_rows for c in marked.checks] == [
        int((bank["job"] == "unknown").sum()),
        int((bank["poutcome"] == "unknown").sum()),
    ]
    assert [c.passed for c in marked.checks] == [True, False]


def _in_time_order(columns) -> np.ndarray:
    stamps = columns["contacted"]
    return np.concatenate([[True], stamps[1:] >= stamps[:-1]])


def test_bank_marketing_is_fresh_at_its_end_and_in_time_order(bank: pd.DataFrame) -> None:
    suite = Suite(
        [
            Freshness("45d", column="contacted"),
            Custom("in_time_order", _in_time_order, columns=("contacted",)),
        ]
    )
    at_end = datetime(2010, 11, 30, tzinfo=UTC)
    result = suite.run(bank, clock=lambda: at_end)
    assert result.passed
    stale = (bank["contacted"] < pd.Timestamp(at_end - timedelta(days=45)).tz_localize(None)).sum()
    assert result.checks[0].failed_rows == int(stale)
    later = suite.run(bank, clock=lambda: datetime(2011, 3, 1, tzinfo=UTC))
    assert not later.checks[0].passed
    shuffled = bank.sample(frac=1.0, random_state=0)
    assert not suite.run(shuffled, clock=lambda: at_end).checks[1].passed


def test_elec2_freshness_over_its_half_hourly_rows() -> None:
    elec = pd.read_csv(DATASETS / "elec2.csv.gz")
    # One row per 30 minutes from 7 May 1996 (README), in time order.
    elec["at"] = pd.Timestamp("1996-05-07") + pd.to_timedelta(np.arange(len(elec)) * 30, "min")
    suite = Suite([Freshness("2d", column="at")])
    now = datetime(1998, 12, 8, tzinfo=UTC)
    clock = lambda: now  # noqa: E731
    result = suite.run(elec, clock=clock)
    assert result.passed
    cutoff = pd.Timestamp(now - timedelta(days=2)).tz_localize(None)
    assert result.checks[0].failed_rows == int((elec["at"] < cutoff).sum())
    before_victoria = elec.iloc[:17_424]  # Victorian columns are constant up to here
    assert not suite.run(before_victoria, clock=clock).passed


def _record_suite(name: str, frame: pd.DataFrame) -> tuple[Suite, dict]:
    suite = suggest(frame, max_categories=15)
    extra: list = []
    reference = None
    if name == "california":
        extra = [
            Custom(
                "bedrooms_fit",
                lambda c: ~(c["total_bedrooms"] > c["total_rooms"] / 2),
                columns=("total_bedrooms", "total_rooms"),
            ),
            AllowedValues("ocean_proximity", values={"INLAND", "NEAR BAY", "NEAR OCEAN"}),
        ]
    elif name == "adult":
        extra = [Regex("education", r"[A-Z][a-z]+(-[a-z]+)*"), Completeness("occupation")]
    elif name == "bank":
        reference = {"job": ["admin.", "technician", "services", "management", "retired"]}
        extra = [Referential("job", "job", max_invalid=0.5), Freshness("300d", column="contacted")]
    return Suite([*suite.checks, *extra], missing_markers={"job": ["unknown"]}), {
        "reference": reference
    }


@pytest.mark.parametrize("name", ["california", "adult", "bank"])
def test_record_by_record_fails_the_same_rows_as_the_batch(name: str, request) -> None:
    frame = request.getfixturevalue(name).iloc[:8000]
    suite, kwargs = _record_suite(name, frame)
    clock = lambda: datetime(2011, 1, 1, tzinfo=UTC)  # noqa: E731
    batch = suite.run(frame, clock=clock, **kwargs)
    checker = suite.record_checker(clock=clock, **kwargs)
    per_record = [checker(r) for r in frame.to_dict("records")]
    failing = len(frame) - np.sum([r.outcomes for r in per_record], axis=0)
    # Uniqueness and row count are batch-only; every other check runs on records too.
    both = [c for c in batch.checks if c.kind not in ("unique", "row_count")]
    assert [c.name for c in both] == list(checker.names)
    compared = 0
    for check, record_failures in zip(both, failing, strict=True):
        if check.failed_rows is not None:  # the schema check judges the batch as a whole
            assert record_failures == check.failed_rows, (check.name, check.column)
            compared += 1
    assert compared >= 10
    assert sum(c.failed_rows or 0 for c in both) > 0  # failing rows are compared, not only passes
