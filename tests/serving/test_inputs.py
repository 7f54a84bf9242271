"""Request rows to model input: every shape agrees, and each problem names its column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.exceptions import ValidationError
from driftline.registry import ColumnSpec, Signature
from driftline.serving._inputs import InputSchema

SIGNATURE = Signature(
    inputs=(
        ColumnSpec("amount", "double"),
        ColumnSpec("count", "long"),
        ColumnSpec("score", "double", nullable=True),
    )
)


def test_records_columns_rows_and_matrix_agree() -> None:
    schema = InputSchema(SIGNATURE)
    records = [
        {"count": 2, "score": 0.5, "amount": 1.5},
        {"amount": -3.0, "count": 7, "score": None},
    ]
    columns = {"score": [0.5, None], "count": [2, 7], "amount": [1.5, -3.0]}
    rows = [[0.5, 2, 1.5], [None, 7, -3.0]]
    matrix = np.array([[1.5, 2, 0.5], [-3.0, 7, np.nan]])
    got = [
        schema.from_records(records).data,
        schema.from_columns(columns).data,
        schema.from_rows(rows, ["score", "count", "amount"]).data,
        schema.from_matrix(matrix).data,
        schema.from_frame(pd.DataFrame(columns)).data,
    ]
    for data in got:
        np.testing.assert_array_equal(data, matrix)  # NaN == NaN here
        assert data.dtype == np.float64


@pytest.mark.parametrize(
    ("records", "needle"),
    [
        ([{"amount": 1.0, "count": 1}], "missing column(s): score"),
        ([{"amount": 1.0, "count": 1, "score": 1.0, "x": 2}], "unexpected column(s): x"),
        ([{"amount": None, "count": 1, "score": 1.0}], "'amount'"),
        ([{"amount": "12", "count": 1, "score": 1.0}], "'amount'"),
        ([{"amount": 1.0, "count": False, "score": 1.0}], "'count'"),
        ([{"amount": [1.0], "count": 1, "score": 1.0}], "'amount'"),
        ([{"amount": 1.0, "count": 1, "score": 1.0}, "row"], "records[1]"),
    ],
    ids=["missing", "extra", "null", "text", "boolean", "nested", "not-an-object"],
)
def test_problems_name_the_column(records: list[object], needle: str) -> None:
    with pytest.raises(ValidationError, match=None) as caught:
        InputSchema(SIGNATURE).from_records(records)
    assert needle in str(caught.value)


def test_infinity_follows_the_signature() -> None:
    rows = [[np.inf, 1, 0.0]]
    with pytest.raises(ValidationError, match="'amount' has infinite values"):
        InputSchema(SIGNATURE).from_rows(rows)
    relaxed = Signature(inputs=SIGNATURE.inputs, allow_infinite=True)
    assert np.isinf(InputSchema(relaxed).from_rows(rows).data[0, 0])


def test_limits_and_shapes() -> None:
    schema = InputSchema(SIGNATURE, max_rows=2)
    row = {"amount": 1.0, "count": 1, "score": 1.0}
    with pytest.raises(ValidationError, match="limit of 2"):
        schema.from_records([row] * 3)
    with pytest.raises(ValidationError, match="no rows"):
        schema.from_records([])
    with pytest.raises(ValidationError, match="different lengths"):
        schema.from_columns({"amount": [1.0], "count": [1, 2], "score": [1.0]})
    with pytest.raises(ValidationError, match="takes 3"):
        schema.from_matrix(np.zeros((1, 2)))
    with pytest.raises(ValidationError, match=r"data\[0\] must be a list of 3 values"):
        schema.from_rows([[1.0, 2]])


def test_text_columns_take_the_dataframe_path() -> None:
    signature = Signature(inputs=(ColumnSpec("city", "string"), ColumnSpec("n", "long")))
    got = InputSchema(signature).from_records([{"n": 3, "city": "Lyon"}])
    assert isinstance(got.data, pd.DataFrame)
    assert got.data.to_dict("records") == [{"city": "Lyon", "n": 3}]
    with pytest.raises(ValidationError, match="'city' must be text"):
        InputSchema(signature).from_records([{"n": 3, "city": 4}])
    assert got.feature_rows() == [{"city": "Lyon", "n": 3}]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "amount": st.floats(allow_nan=False, allow_infinity=False, width=64),
                "count": st.integers(-(2**53), 2**53),
                "score": st.none() | st.floats(-1e6, 1e6),
            }
        ),
        min_size=1,
        max_size=20,
    )
)
def test_fast_path_matches_the_signatures_own_check(records: list[dict[str, object]]) -> None:
    fast = InputSchema(SIGNATURE).from_records(records).data
    frame = SIGNATURE.validate(pd.DataFrame.from_records(records))
    np.testing.assert_array_equal(fast, frame.to_numpy(dtype=np.float64, na_value=np.nan))


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ([2.5, True, 0.25], "'count'"),
        ([2.5, 3.0, False], "'count'"),
        ([2.5, "7", 0.25], "'count'"),
    ],
    ids=["true-among-numbers", "false-among-numbers", "numeric-text"],
)
def test_a_flag_or_text_hidden_among_numbers_is_still_refused(
    values: list[object], needle: str
) -> None:
    # numpy would read True as 1.0 and "7" as 7.0: the fast path must not let them through.
    records = [{"amount": 1.5 + i, "count": v, "score": 0.5} for i, v in enumerate(values)]
    with pytest.raises(ValidationError, match=needle):
        InputSchema(SIGNATURE).from_records(records)


def test_zeros_and_ones_are_numbers_not_flags() -> None:
    records = [{"amount": 0, "count": 1, "score": 1.0}, {"amount": 1.0, "count": 0, "score": 0}]
    got = InputSchema(SIGNATURE).from_records(records).data
    np.testing.assert_array_equal(got, [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


def test_records_parsed_as_json_and_built_by_hand_read_the_same() -> None:
    import orjson

    built = [{"score": 0.5 * i, "amount": 2.0 + i, "count": 3 * i + 2} for i in range(50)]
    parsed = orjson.loads(orjson.dumps(built))  # one key object shared by every row
    schema = InputSchema(SIGNATURE)
    np.testing.assert_array_equal(schema.from_records(parsed).data, schema.from_records(built).data)
    parsed[7].pop("count")
    with pytest.raises(ValidationError, match=r"records\[7\]: missing column\(s\): count"):
        schema.from_records(parsed)
