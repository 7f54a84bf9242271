"""Each check on small frames whose right answer is worked out in the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
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

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def run_one(check, data, **kwargs):
    return Suite([check]).run(data, **kwargs).checks[0]


@pytest.mark.parametrize(
    ("max_missing", "passed"), [(0.0, False), (0.29, False), (0.3, True), (1.0, True)]
)
def test_completeness_tolerance_is_inclusive(max_missing: float, passed: bool) -> None:
    data = {"x": [1.0, None, 2.0, np.nan, 5.0, 6.0, None, 8.0, 9.0, 10.0]}
    result = run_one(Completeness("x", max_missing=max_missing), data)
    assert (result.observed, result.failed_rows, result.passed) == (0.3, 3, passed)


def test_completeness_examples_are_the_first_five_missing_rows_with_their_position() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=200)
    holes = np.sort(rng.choice(200, size=9, replace=False))
    values[holes] = np.nan
    frame = pd.DataFrame({"v": values, "id": np.arange(200) * 10}, index=np.arange(200) + 1000)
    result = run_one(Completeness("v"), frame)
    assert result.failed_rows == 9
    assert [e["row"] for e in result.examples] == holes[:5].tolist()
    assert [e["values"]["id"] for e in result.examples] == (holes[:5] * 10).tolist()
    assert all(e["values"]["v"] is None for e in result.examples)


def test_completeness_of_an_empty_frame_is_zero_missing() -> None:
    result = run_one(Completeness("x"), {"x": np.array([], dtype=float)})
    assert (result.observed, result.failed_rows, result.passed) == (0.0, 0, True)


def test_range_counts_present_rows_outside_inclusive_bounds() -> None:
    values = np.array([0.0, 5.0, 10.0, -0.1, 10.1, np.nan, np.inf])
    result = run_one(ValueRange("x", min=0, max=10), {"x": values})
    present = values[~np.isnan(values)]
    outside = (present < 0) | (present > 10)
    assert result.failed_rows == int(outside.sum()) == 3
    assert result.observed == pytest.approx(outside.mean())
    assert result.details == {"min": -0.1, "max": float("inf")}


def test_range_tolerance_lets_a_small_share_through() -> None:
    values = [*range(100), 1000]
    assert run_one(ValueRange("x", max=99, max_invalid=0.01), {"x": values}).passed
    assert not run_one(ValueRange("x", max=99, max_invalid=0.009), {"x": values}).passed


def test_range_on_datetimes_takes_datetime_bounds() -> None:
    stamps = pd.to_datetime(["2023-12-31", "2024-01-01", "2024-06-30", "2024-07-01", None])
    check = ValueRange("t", min="2024-01-01", max=datetime(2024, 6, 30))
    result = run_one(check, pd.DataFrame({"t": stamps}))
    assert result.failed_rows == 2
    assert [e["row"] for e in result.examples] == [0, 3]


def test_range_on_a_text_column_names_the_column_and_the_kind() -> None:
    with pytest.raises(ValidationError, match=r"'x' is text, this check needs a numeric column"):
        run_one(ValueRange("x", min=0), {"x": ["a"]})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give min, max or both"),
        ({"min": 5, "max": 1}, "greater than max"),
        ({"min": "soon"}, "neither a number nor an ISO date"),
        ({"min": 1, "max": datetime(2024, 1, 1)}, "both be numbers or datetimes"),
        ({"min": 0, "max_invalid": 1.5}, "share between 0 and 1"),
    ],
)
def test_range_definitions_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ValueRange("x", **kwargs)


def test_allowed_values_on_text_reports_the_unexpected_values() -> None:
    values = ["a", "b", "c", "c", "d", None, ""]
    result = run_one(AllowedValues("s", values={"a", "b"}), {"s": values})
    assert (result.failed_rows, result.observed) == (3, 3 / 5)
    assert result.details["unexpected"] == {"c": 2, "d": 1}


def test_allowed_values_on_numbers_and_booleans() -> None:
    assert run_one(AllowedValues("n", values={0, 1}), {"n": [0, 1, 1, 2]}).failed_rows == 1
    assert run_one(AllowedValues("b", values={True}), {"b": [True, False, None]}).failed_rows == 1


def test_uniqueness_counts_every_row_of_a_duplicated_key() -> None:
    ids = np.array([1, 2, 2, 3, 3, 3, 4])
    result = run_one(Uniqueness("id"), {"id": ids})
    expected = pd.Series(ids).duplicated(keep=False).sum()
    assert result.failed_rows == expected == 5


def test_uniqueness_ignores_missing_keys_like_sql() -> None:
    result = run_one(Uniqueness("id"), {"id": ["a", None, None, "", "b"]})
    assert (result.failed_rows, result.rows_checked) == (0, 2)


def test_uniqueness_of_a_column_set_matches_pandas() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.integers(0, 4, 300), "b": rng.choice(list("xyz"), 300)})
    result = run_one(Uniqueness(("a", "b")), frame)
    assert result.failed_rows == frame.duplicated(["a", "b"], keep=False).sum()
    assert result.column is None and result.columns == ("a", "b")


def test_regex_full_match_and_search() -> None:
    data = {"code": ["AB-1234", "ab-1234", "XAB-1234", None, "AB-12345"]}
    assert run_one(Regex("code", r"[A-Z]{2}-\d{4}"), data).failed_rows == 3
    assert run_one(Regex("code", r"[A-Z]{2}-\d{4}", full=False), data).failed_rows == 1


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)a", "("])
def test_regex_outside_the_re2_and_python_common_syntax_is_rejected(pattern: str) -> None:
    with pytest.raises(ValidationError, match="pattern"):
        Regex("s", pattern)


def test_row_count_bounds() -> None:
    assert run_one(RowCount(min=2, max=3), {"x": [1, 2, 3]}).passed
    result = run_one(RowCount(max=2), {"x": [1, 2, 3]})
    assert (result.passed, result.observed, result.failed_rows) == (False, 3, None)


def test_freshness_uses_the_injected_clock_and_counts_stale_rows() -> None:
    hours = [100, 50, 30, 2, None]
    seen = [None if h is None else NOW - timedelta(hours=h) for h in hours]
    result = run_one(Freshness("36h", column="seen"), {"seen": seen}, clock=lambda: NOW)
    assert (result.passed, result.observed, result.failed_rows) == (True, 2 * 3600.0, 2)
    later = NOW + timedelta(hours=40)
    stale = run_one(Freshness("36h", column="seen"), {"seen": seen}, clock=lambda: later)
    assert (stale.passed, stale.observed, stale.failed_rows) == (False, 42 * 3600.0, 4)


def test_freshness_of_the_data_timestamp_passed_in() -> None:
    suite = Suite([Freshness("1d")])
    stamp = NOW - timedelta(hours=25)
    result = suite.run({"x": [1]}, clock=lambda: NOW, data_timestamp=stamp)
    assert (result.passed, result.checks[0].observed) == (False, 25 * 3600.0)
    with pytest.raises(ValidationError, match="data_timestamp="):
        suite.run({"x": [1]}, clock=lambda: NOW)


def test_freshness_with_no_timestamps_fails_and_says_why() -> None:
    result = run_one(Freshness("1d", column="t"), {"t": pd.to_datetime([None, None])})
    assert not result.passed
    assert "no timestamps" in result.details["reason"]


def test_referential_with_one_reference_frame_and_with_named_datasets() -> None:
    orders = pl.DataFrame({"customer": [1, 2, 9, None, 9], "sku": ["x", "y", "y", "z", "q"]})
    customers = pd.DataFrame({"id": [1.0, 2.0, 3.0]})
    products = {"sku": ["x", "y", "z"]}
    result = run_one(Referential("customer", "id"), orders, reference=customers)
    assert (result.failed_rows, result.details["unmatched"]) == (2, {"9": 2})
    named = Suite(
        [
            Referential("customer", "id", dataset="customers"),
            Referential("sku", "sku", dataset="products"),
        ]
    )
    res = named.run(orders, reference={"customers": customers, "products": products})
    assert [c.failed_rows for c in res.checks] == [2, 1]


def test_referential_errors_name_the_reference_column_and_the_kinds() -> None:
    with pytest.raises(ValidationError, match="'idd' is not in reference; did you mean 'id'"):
        run_one(Referential("c", "idd"), {"c": [1]}, reference={"id": [1]})
    with pytest.raises(ValidationError, match="'c' is numeric but reference column 'id' is text"):
        run_one(Referential("c", "id"), {"c": [1]}, reference={"id": ["1"]})
    with pytest.raises(ValidationError, match="reference="):
        run_one(Referential("c", "id"), {"c": [1]})


def test_custom_gets_numpy_columns_with_missing_as_nan() -> None:
    frame = pd.DataFrame({"rooms": [3.0, 5.0, 2.0, 4.0], "beds": [1.0, 6.0, np.nan, 5.0]})
    check = Custom("beds_fit", lambda c: ~(c["beds"] > c["rooms"]), columns=("rooms", "beds"))
    result = run_one(check, frame)
    assert (result.name, result.failed_rows, [e["row"] for e in result.examples]) == (
        "beds_fit",
        2,
        [1, 3],
    )


def test_custom_must_return_a_boolean_mask_of_the_right_length() -> None:
    check = Custom("bad", lambda c: np.array([1, 0]), columns=("x",))
    with pytest.raises(ValidationError, match=r"'bad'.*boolean mask of length 2, got dtype int"):
        run_one(check, {"x": [1, 2]})


def test_schema_policies_for_unexpected_columns() -> None:
    frame = pd.DataFrame({"age": [1], "city": ["x"], "extra": [True]})
    declared = {"age": "numeric", "city": "categorical"}
    forbid = run_one(Schema(declared), frame)
    warn = run_one(Schema(declared, unexpected="warn"), frame)
    allow = run_one(Schema(declared, unexpected="allow"), frame)
    assert (forbid.passed, warn.passed, allow.passed) == (False, True, True)
    assert warn.warnings == ("columns not in the schema: extra",)
    assert allow.warnings == ()


def test_schema_reports_missing_and_wrongly_typed_columns() -> None:
    frame = pl.DataFrame({"age": ["31"], "when": [datetime(2024, 1, 1)]})
    result = run_one(Schema({"age": "numeric", "when": "datetime", "zip": "text"}), frame)
    assert result.observed == 2
    assert result.details["missing"] == ["zip"]
    assert result.details["wrong_type"] == {"age": {"expected": "numeric", "actual": "text"}}


def test_schema_rejects_unknown_types_with_a_suggestion() -> None:
    with pytest.raises(ValidationError, match="unknown type 'numerc'; did you mean 'numeric'"):
        Schema({"age": "numerc"})


def test_severity_warn_reports_without_failing_the_suite() -> None:
    suite = Suite([Completeness("x", severity="warn"), RowCount(min=1)])
    result = suite.run({"x": [None, 1.0]})
    assert result.passed and not result.checks[0].passed
    assert result.failed == (result.checks[0],)


def test_several_reference_datasets_need_a_dataset_name() -> None:
    with pytest.raises(ValidationError, match="name the one to use with dataset="):
        run_one(Referential("c", "id"), {"c": [1]}, reference={"a": pd.DataFrame({"id": [1]})})


def test_custom_columns_support_membership_tests() -> None:
    def fn(columns):
        return np.full(len(columns["x"]), "y" not in columns and "x" in columns)

    assert run_one(Custom("membership", fn, columns=("x",)), {"x": [1, 2]}).passed
