"""Suites: running, errors, scoring rules and single records."""

from __future__ import annotations

import json
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
    score,
)

NOW = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 400
    age = rng.integers(15, 95, n).astype(float)
    age[rng.choice(n, 30, replace=False)] = np.nan
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "age": age,
            "plan": rng.choice(["free", "pro", "team", "gold"], n, p=[0.5, 0.3, 0.15, 0.05]),
            "zip": [f"{z:05d}" for z in rng.integers(0, 100_000, n)],
            "seen": NOW - pd.to_timedelta(rng.integers(0, 72, n), unit="h"),
        }
    )


def test_to_dict_has_the_cli_contract_keys_and_is_json(frame: pd.DataFrame) -> None:
    suite = Suite([Completeness("age"), RowCount(min=1), Uniqueness("id")])
    out = suite.run(frame).to_dict()
    assert {"passed", "score", "checks"} <= set(out)
    for check in out["checks"]:
        assert {"name", "column", "passed", "observed", "failed_rows"} <= set(check)
    assert [c["column"] for c in out["checks"]] == ["age", None, "id"]
    assert json.loads(json.dumps(out)) == out


def test_a_column_typo_names_the_check_and_suggests_the_column(frame: pd.DataFrame) -> None:
    suite = Suite([RowCount(min=1), Completeness("agee")])
    with pytest.raises(ValidationError) as info:
        suite.run(frame)
    message = str(info.value)
    assert "check 2 'completeness'" in message
    assert "column 'agee' is not in the data; did you mean 'age'?" in message


def test_passed_and_failed_rows_match_pandas(frame: pd.DataFrame) -> None:
    suite = Suite(
        [
            Completeness("age", max_missing=0.05),
            ValueRange("age", min=18, max=90),
            AllowedValues("plan", values={"free", "pro", "team"}),
            Regex("zip", r"\d{5}"),
            Freshness("48h", column="seen"),
        ]
    )
    result = suite.run(frame, clock=lambda: NOW)
    age = frame["age"].dropna()
    expected = [
        int(frame["age"].isna().sum()),
        int(((age < 18) | (age > 90)).sum()),
        int((~frame["plan"].isin(["free", "pro", "team"])).sum()),
        0,
        int((frame["seen"] < NOW - timedelta(hours=48)).sum()),
    ]
    assert [c.failed_rows for c in result.checks] == expected
    assert result.passed is False


def test_weighted_and_soft_scores_follow_their_formulas(frame: pd.DataFrame) -> None:
    checks = [
        Completeness("age", weight=2.0),  # fails: 30 of 400 missing
        ValueRange("age", min=0, max=200, weight=1.0),  # passes
        AllowedValues("plan", values={"free", "pro"}, weight=1.0),  # fails
    ]
    weighted = Suite(checks).run(frame)
    assert weighted.score == pytest.approx(1.0 / 4.0)
    soft = Suite(checks, scoring="soft").run(frame)
    completeness_credit = 1 - 30 / 400
    plan_credit = frame["plan"].isin(["free", "pro"]).mean()
    assert soft.score == pytest.approx((2 * completeness_credit + 1 + plan_credit) / 4, abs=1e-6)


@pytest.mark.parametrize(
    ("missing", "schema_ok", "fresh", "expected"),
    [
        (0.05, True, True, 1.0),
        (0.2, True, True, 0.8),
        (0.05, False, True, 0.7),
        (0.05, True, False, 0.6),
        (0.2, False, False, 0.8 * 0.7 * 0.6),
    ],
)
def test_seed_score_multiplies_the_seed_penalties(
    missing: float, schema_ok: bool, fresh: bool, expected: float
) -> None:
    n = 100
    values = np.arange(n, dtype=float)
    values[: int(missing * n)] = np.nan
    stamp = NOW - timedelta(hours=1 if fresh else 100)
    data = {"x": values, "t": [stamp] * n}
    checks = [
        Completeness("x", max_missing=1.0),
        Schema({"x": "numeric", "t": "datetime" if schema_ok else "text"}),
        Freshness("1d", column="t"),
        RowCount(max=1),  # always fails: the seed rule does not look at it
    ]
    result = Suite(checks, scoring="seed").run(data, clock=lambda: NOW)
    assert result.score == pytest.approx(expected)


def test_empty_suite_scores_one_and_passes() -> None:
    result = Suite([]).run({"x": [1]})
    assert (result.passed, result.score, result.checks) == (True, 1.0, ())
    assert score([], "seed") == 1.0


def test_unknown_scoring_rule_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(ValidationError, match="'weigthed'; did you mean 'weighted'"):
        Suite([], scoring="weigthed")


def test_suite_rejects_things_that_are_not_checks() -> None:
    with pytest.raises(ValidationError, match="check 2 is a dict"):
        Suite([RowCount(min=1), {"completeness": "age"}])


def test_metrics_cover_the_columns_the_checks_read(frame: pd.DataFrame) -> None:
    result = Suite([Completeness("age"), Uniqueness("plan")]).run(frame)
    age = result.metrics["age"]
    assert (age.null_count, age.count) == (30, 370)
    assert age.min == frame["age"].min() and age.sum == pytest.approx(frame["age"].sum())
    assert result.metrics["plan"].distinct_count == frame["plan"].nunique()
    assert "zip" not in result.metrics


def test_check_record_reports_each_check_and_skips_batch_only_ones() -> None:
    suite = Suite(
        [
            Completeness("age"),
            ValueRange("age", min=18),
            Uniqueness("id"),
            RowCount(min=1),
            Regex("zip", r"\d{5}"),
            Freshness("1d", column="seen"),
        ]
    )
    good = {"id": 1, "age": 30, "zip": "02139", "seen": "2024-04-30T12:00:00+00:00"}
    result = suite.check_record(good, clock=lambda: NOW)
    assert result.passed and result.skipped == ("unique", "row_count")
    bad = {"id": 1, "age": None, "zip": "2139", "seen": NOW - timedelta(days=2)}
    result = suite.check_record(bad, clock=lambda: NOW)
    assert [c.name for c in result.failed] == ["completeness", "regex", "freshness"]


def test_check_record_applies_markers_and_empty_strings_like_a_batch() -> None:
    suite = Suite([Completeness("job")], missing_markers={"job": ["unknown"]})
    assert not suite.check_record({"job": "unknown"}).passed
    assert not suite.check_record({"job": ""}).passed
    assert not suite.check_record({}).passed
    assert suite.check_record({"job": "admin"}).passed
    lenient = Suite([Completeness("job")], empty_is_missing=False)
    assert lenient.check_record({"job": ""}).passed


def test_record_schema_checks_keys_and_types() -> None:
    suite = Suite([Schema({"age": "numeric", "name": "text"}, unexpected="forbid")])
    assert suite.check_record({"age": 3, "name": "x"}).passed
    assert suite.check_record({"age": None, "name": "x"}).passed
    assert not suite.check_record({"age": "3", "name": "x"}).passed
    assert not suite.check_record({"name": "x"}).passed
    assert not suite.check_record({"age": 3, "name": "x", "extra": 1}).passed


def test_record_referential_and_custom_use_their_precompiled_state() -> None:
    customers = {"id": ["c1", "c2"]}
    checker = Suite(
        [
            Referential("customer", "id"),
            Custom("positive", lambda c: c["amount"] > 0, columns=("amount",)),
        ]
    ).record_checker(reference=customers)
    assert checker({"customer": "c1", "amount": 3.5}).passed
    assert [c.name for c in checker({"customer": "c7", "amount": -1}).failed] == [
        "referential",
        "positive",
    ]


def test_a_record_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="mapping of column name to value, got list"):
        Suite([Completeness("x")]).check_record([1, 2])  # type: ignore[arg-type]
