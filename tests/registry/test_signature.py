from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftline.exceptions import ValidationError
from driftline.registry import ColumnSpec, Signature

SIG = Signature(
    inputs=(
        ColumnSpec("age", "long"),
        ColumnSpec("income", "double", nullable=True),
        ColumnSpec("city", "string"),
    )
)


def test_valid_input_is_reordered_for_the_model() -> None:
    frame = pd.DataFrame({"city": ["x"], "income": [None], "age": [3]})
    assert SIG.validate(frame).columns.tolist() == ["age", "income", "city"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"age": [1], "city": ["x"]}), "missing column(s): income"),
        (
            pd.DataFrame({"age": [1], "income": [1.0], "city": ["x"], "zip": [1]}),
            "unexpected column(s): zip",
        ),
        (
            pd.DataFrame({"age": [1, None], "income": [1.0, 2.0], "city": ["x", "y"]}),
            "column 'age' has null values (row 1) but is not nullable",
        ),
        (
            pd.DataFrame({"age": ["old"], "income": [1.0], "city": ["x"]}),
            "column 'age' must be numeric, got 'old'",
        ),
        (
            pd.DataFrame({"age": [1], "income": [np.inf], "city": ["x"]}),
            "column 'income' has infinite values",
        ),
        (pd.DataFrame({"age": [1], "income": [1.0], "city": [3]}), "column 'city' must be text"),
        (
            pd.DataFrame({"age": [True], "income": [1.0], "city": ["x"]}),
            "column 'age' must be numeric, got booleans",
        ),
    ],
    ids=["missing", "extra", "null", "type", "inf", "text", "bool"],
)
def test_mismatches_name_the_column(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        SIG.validate(frame)
    assert message in str(info.value)


def test_extra_columns_can_be_ignored_explicitly() -> None:
    lenient = Signature(inputs=SIG.inputs, extra_columns="ignore")
    frame = pd.DataFrame({"age": [1], "income": [1.0], "city": ["x"], "zip": [1]})
    assert lenient.validate(frame).columns.tolist() == ["age", "income", "city"]


def test_round_trip_and_inference() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, None], "c": ["u", "v"], "y": [0, 1]})
    sig = Signature.from_frame(frame, target="y")
    assert [(c.name, c.type, c.nullable) for c in sig.inputs] == [
        ("a", "long", False),
        ("b", "double", True),
        ("c", "string", False),
    ]
    assert sig.outputs[0].name == "y"
    assert Signature.from_dict(sig.to_dict()) == sig
