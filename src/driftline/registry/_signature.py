"""Model signatures: the input columns a model takes (type, nullability) and its output.

Unlike MLflow's enforcement, which drops unexpected columns and lets None through required
ones, a driftline signature refuses both by default and names every offending column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from driftline.exceptions import ValidationError

__all__ = ["ColumnSpec", "Signature", "SpecType"]

SpecType = Literal["double", "long", "boolean", "string", "datetime"]
_NUMERIC = ("double", "long")
_FROM_LOGICAL = {
    "numeric": "double",
    "boolean": "boolean",
    "categorical": "string",
    "text": "string",
    "datetime": "datetime",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One input or output column."""

    name: str
    type: SpecType
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"name": self.name, "type": self.type, "nullable": self.nullable}


@dataclass(frozen=True)
class Signature:
    """Input columns in model order, optional outputs, and what to do with extra columns.

    >>> sig = Signature.from_frame(pd.DataFrame({"a": [1.0], "b": ["x"]}))
    >>> sig.validate(pd.DataFrame({"b": ["y"], "a": [2]})).columns.tolist()
    ['a', 'b']
    """

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()
    extra_columns: Literal["error", "ignore"] = "error"
    allow_infinite: bool = False

    @property
    def columns(self) -> list[str]:
        """Input column names in the order the model takes them."""
        return [c.name for c in self.inputs]

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, *, target: str | None = None, nullable: bool | None = None
    ) -> Signature:
        """Infer a signature from example data (``target`` becomes the output)."""
        inputs = tuple(
            ColumnSpec(
                str(name),
                _spec_type(frame[name]),
                bool(frame[name].isna().any()) if nullable is None else nullable,
            )
            for name in frame.columns
            if name != target
        )
        outputs = (ColumnSpec(target, _spec_type(frame[target])),) if target else ()
        return cls(inputs=inputs, outputs=outputs)

    @classmethod
    def from_schema(cls, columns: Sequence[Any], *, target: str | None = None) -> Signature:
        """From a dataset version's column schemas (``target`` becomes the output)."""
        names = [c.name for c in columns]
        if target is not None and target not in names:
            raise ValidationError(
                f"target column {target!r} is not in the dataset (columns: {', '.join(names)})"
            )
        specs = {c.name: ColumnSpec(c.name, _schema_type(c), c.nullable) for c in columns}
        inputs = tuple(spec for name, spec in specs.items() if name != target)
        return cls(inputs=inputs, outputs=(specs[target],) if target else ())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
            "extra_columns": self.extra_columns,
            "allow_infinite": self.allow_infinite,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            inputs=tuple(ColumnSpec(**c) for c in data["inputs"]),
            outputs=tuple(ColumnSpec(**c) for c in data.get("outputs", ())),
            extra_columns=data.get("extra_columns", "error"),
            allow_infinite=data.get("allow_infinite", False),
        )

    def validate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` checked and ordered for the model; a ValidationError names each problem."""
        problems = self._column_problems([str(c) for c in frame.columns])
        if not problems:
            problems = [
                p
                for spec in self.inputs
                if (p := _value_problem(spec, frame[spec.name], self.allow_infinite))
            ]
        if problems:
            raise ValidationError(
                "input does not match the model signature: " + "; ".join(problems)
            )
        return frame[self.columns]

    def _column_problems(self, given: list[str]) -> list[str]:
        expected = self.columns
        problems = []
        missing = [c for c in expected if c not in set(given)]
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        extra = [c for c in given if c not in set(expected)]
        if extra and self.extra_columns == "error":
            problems.append(
                f"unexpected column(s): {', '.join(extra)} (the model takes: {', '.join(expected)})"
            )
        return problems


def _spec_type(series: pd.Series) -> SpecType:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "long"
    if pd.api.types.is_float_dtype(series):
        return "double"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "string"


def _schema_type(column: Any) -> SpecType:
    if column.logical_type == "numeric" and "int" in column.arrow_type:
        return "long"
    return _FROM_LOGICAL[column.logical_type]  # type: ignore[return-value]


def _value_problem(spec: ColumnSpec, values: pd.Series, allow_infinite: bool) -> str | None:
    missing = values.isna().to_numpy()
    if missing.any() and not spec.nullable:
        return f"column {spec.name!r} has null values (row {_rows(missing)}) but is not nullable"
    present = values[~missing]
    if spec.type in _NUMERIC:
        return _numeric_problem(spec, present, allow_infinite)
    if spec.type == "boolean" and not present.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return f"column {spec.name!r} must be boolean"
    if spec.type == "string" and not present.map(lambda v: isinstance(v, str)).all():
        bad = present[~present.map(lambda v: isinstance(v, str))]
        return f"column {spec.name!r} must be text, got {bad.iloc[0]!r} (row {bad.index[0]})"
    return None


def _numeric_problem(spec: ColumnSpec, present: pd.Series, allow_infinite: bool) -> str | None:
    if pd.api.types.is_bool_dtype(present) or (
        present.dtype == object and present.map(lambda v: isinstance(v, bool)).any()
    ):
        return f"column {spec.name!r} must be numeric, got booleans"
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.isna().any():
        bad = present[numbers.isna()]
        return f"column {spec.name!r} must be numeric, got {bad.iloc[0]!r} (row {bad.index[0]})"
    if not allow_infinite and np.isinf(numbers.to_numpy(dtype=float)).any():
        return f"column {spec.name!r} has infinite values, which the model does not accept"
    return None


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:5])
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
