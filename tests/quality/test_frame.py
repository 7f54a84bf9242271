"""The one missing-value rule and the input adapters (pandas, polars, pyarrow, dict)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from driftline.exceptions import ValidationError
from driftline.quality._frame import to_table

NAN = float("nan")


def _missing(data, column, **kwargs) -> list[bool]:
    return to_table(data, **kwargs).column(column).missing.tolist()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda v: pd.DataFrame({"x": v}), id="pandas"),
        pytest.param(lambda v: pl.DataFrame({"x": v}, strict=False), id="polars"),
        pytest.param(lambda v: pa.table({"x": pa.array(v, from_pandas=True)}), id="arrow"),
        pytest.param(lambda v: {"x": v}, id="dict"),
    ],
)
def test_nan_and_none_are_missing_in_float_columns_for_every_input(make) -> None:
    assert _missing(make([1.5, None, NAN, 0.0]), "x") == [False, True, True, False]


def test_polars_keeps_nan_apart_from_null_but_both_count_as_missing() -> None:
    frame = pl.DataFrame({"x": [1.0, None, NAN]})
    assert frame["x"].null_count() == 1  # polars itself counts only the null
    assert _missing(frame, "x") == [False, True, True]


@pytest.mark.parametrize("dtype", ["str", "object"])
def test_empty_string_and_none_are_missing_in_pandas_text(dtype: str) -> None:
    frame = pd.DataFrame({"s": pd.Series(["a", None, "", NAN, " "], dtype=dtype)})
    assert _missing(frame, "s") == [False, True, True, True, False]


def test_empty_string_is_kept_when_empty_is_missing_is_false() -> None:
    frame = pl.DataFrame({"s": ["a", None, ""]})
    assert _missing(frame, "s", empty_is_missing=False) == [False, True, False]


def test_nat_is_missing_in_pandas_and_polars_datetimes() -> None:
    stamps = [datetime(2024, 1, 1), None, datetime(2024, 1, 3)]
    pandas = pd.DataFrame({"t": pd.to_datetime(stamps)})
    polars = pl.DataFrame({"t": stamps})
    assert pandas["t"].isna().tolist() == [False, True, False]
    for frame in (pandas, polars):
        col = to_table(frame).column("t")
        assert col.kind == "datetime"
        assert col.missing.tolist() == [False, True, False]
        # microseconds since the epoch, read as UTC
        assert col.values[0] == int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000


def test_timezones_are_compared_as_instants() -> None:
    paris = pd.to_datetime(["2024-01-01 01:00"]).tz_localize("Europe/Paris")
    utc = pl.DataFrame({"t": [datetime(2024, 1, 1, 0, 0, tzinfo=UTC)]})
    assert (
        to_table(pd.DataFrame({"t": paris})).column("t").values[0]
        == (to_table(utc).column("t").values[0])
    )


def test_markers_apply_to_text_and_numeric_columns_of_their_column_only() -> None:
    frame = pd.DataFrame(
        {"job": ["admin", "unknown", "?"], "pdays": [-1, 5, 7], "other": ["?"] * 3}
    )
    markers = {"job": ["unknown", "?"], "pdays": [-1]}
    assert _missing(frame, "job", missing_markers=markers) == [False, True, True]
    assert _missing(frame, "pdays", missing_markers=markers) == [True, False, False]
    assert _missing(frame, "other", missing_markers=markers) == [False, False, False]


@pytest.mark.parametrize(
    ("series", "kind", "categorical"),
    [
        pytest.param(pd.Series([1, 2]), "numeric", False, id="int"),
        pytest.param(pd.Series([1, None], dtype="Int64"), "numeric", False, id="nullable-int"),
        pytest.param(pd.Series([True, False]), "boolean", False, id="bool"),
        pytest.param(pd.Series(["a", "b"]), "text", False, id="str"),
        pytest.param(pd.Series(["a", "b"], dtype="category"), "text", True, id="category"),
        pytest.param(pd.Series([None, None], dtype=object), "null", False, id="all-none"),
        pytest.param(pd.Series([b"x", b"y"], dtype=object), "other", False, id="bytes"),
    ],
)
def test_logical_kinds_of_pandas_dtypes(series: pd.Series, kind: str, categorical: bool) -> None:
    table = to_table(pd.DataFrame({"c": series}))
    assert table.kind("c") == kind
    assert table.column("c").categorical is categorical


def test_polars_categorical_and_dates_are_text_and_datetime() -> None:
    frame = pl.DataFrame(
        {
            "c": pl.Series(["x", None], dtype=pl.Categorical),
            "d": [datetime(2024, 1, 1).date(), None],
        }
    )
    table = to_table(frame)
    assert (table.kind("c"), table.kind("d")) == ("text", "datetime")
    assert table.column("c").missing.tolist() == [False, True]


def test_mixed_types_in_an_object_column_name_the_column() -> None:
    frame = pd.DataFrame({"ok": [1, 2, 3], "mixed": pd.Series([1, "a", None], dtype=object)})
    table = to_table(frame)
    assert table.column("ok").kind == "numeric"
    with pytest.raises(ValidationError, match="'mixed' mixes value types"):
        table.column("mixed")


def test_dict_columns_of_different_lengths_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"different lengths \(a=2, b=3\)"):
        to_table({"a": [1, 2], "b": [1, 2, 3]})


def test_duplicate_column_names_are_rejected() -> None:
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ValidationError, match="'a' appears more than once"):
        to_table(frame)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param([1, 2, 3], "got list", id="list"),
        pytest.param(pl.LazyFrame({"a": [1]}), "collect", id="lazyframe"),
    ],
)
def test_unsupported_inputs_say_what_is_accepted(data, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        to_table(data)


def test_codes_give_equal_values_equal_codes_and_missing_the_extra_code() -> None:
    col = to_table({"s": ["b", "a", None, "b", ""]}).column("s")
    codes, k = col.codes()
    assert k == 2
    assert codes[0] == codes[3] != codes[1]
    assert codes[2] == codes[4] == k


def test_rows_decode_values_the_same_way_for_pandas_and_polars() -> None:
    data = {"x": [1.0, NAN, 3.0], "s": ["a", "", None]}
    expected = [
        {"row": 1, "values": {"x": None, "s": None}},
        {"row": 2, "values": {"x": 3.0, "s": None}},
    ]
    assert to_table(pd.DataFrame(data)).rows([1, 2]) == expected
    assert to_table(pl.DataFrame(data)).rows([1, 2]) == expected


def test_only_the_columns_that_are_read_get_converted() -> None:
    frame = pd.DataFrame({"a": np.arange(5), "b": list("abcde")})
    table = to_table(frame)
    table.column("a")
    assert list(table.converted()) == ["a"]
