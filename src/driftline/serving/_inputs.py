"""From request rows (records, columns, bare rows, tensors) to the model's validated input.

Models whose inputs are all numeric take a float64 matrix built straight from the parsed
JSON (no pandas for a single row): the checks a signature makes (missing or extra columns,
types, nulls, infinities) run on plain lists here, and anything unusual falls back to
:meth:`Signature.validate` so the message is the registry's own, naming the column. Models
with text, boolean or datetime inputs get a validated DataFrame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from driftline.exceptions import ValidationError
from driftline.registry import Signature

__all__ = ["InputSchema", "ModelInput"]

_NUMBERS = frozenset({int, float})
_NUMBERS_OR_NULL = frozenset({int, float, type(None)})
_NUMERIC_TYPES = ("double", "long")


@dataclass(frozen=True)
class ModelInput:
    """Rows ready for the model: a float64 matrix or a DataFrame, columns in model order."""

    data: np.ndarray | pd.DataFrame
    columns: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        """How many rows."""
        return int(self.data.shape[0])

    def feature_rows(self) -> list[dict[str, Any]]:
        """One ``{column: value}`` dict per row, for the prediction log."""
        if isinstance(self.data, np.ndarray):
            names = self.columns
            return [dict(zip(names, row, strict=True)) for row in self.data.tolist()]
        frame = self.data.astype(object).where(self.data.notna(), None)
        return frame.to_dict("records")


class InputSchema:
    """The columns a served model takes, their order and rules, worked out once per version.

    >>> sig = Signature.from_frame(pd.DataFrame({"a": [1.0], "b": [2]}))
    >>> schema = InputSchema(sig)
    >>> schema.from_records([{"b": 3, "a": 0.5}]).data.tolist()
    [[0.5, 3.0]]
    """

    def __init__(
        self,
        signature: Signature | None,
        *,
        feature_names: Sequence[str] | None = None,
        max_rows: int = 10_000,
    ) -> None:
        self.signature = signature
        self.max_rows = max_rows
        specs = {c.name: c for c in signature.inputs} if signature else {}
        names = list(feature_names) if feature_names else None
        if signature is not None and (names is None or set(names) != set(specs)):
            names = signature.columns  # the signature is the contract the client sees
        self.columns: tuple[str, ...] | None = tuple(names) if names else None
        self.numeric = signature is None or all(c.type in _NUMERIC_TYPES for c in specs.values())
        self.nullable = np.array([specs[c].nullable if c in specs else False for c in names or ()])
        self.allow_infinite = bool(signature.allow_infinite) if signature else False
        self.ignore_extra = bool(signature and signature.extra_columns == "ignore")

    # -- entry points, one per request shape ----------------------------------------------
    def from_records(self, records: Any, *, what: str = "records") -> ModelInput:
        """Rows given as a list of ``{column: value}`` objects."""
        if not isinstance(records, list):
            raise ValidationError(f"{what} must be a list of objects, got {_kind(records)}")
        self._check_count(len(records), what)
        if set(map(type, records)) != {dict}:
            for i, record in enumerate(records):
                if not isinstance(record, dict):
                    raise ValidationError(f"{what}[{i}] must be an object, got {_kind(record)}")
        columns = self.columns or tuple(records[0])
        if not self.numeric:
            return self._general(pd.DataFrame.from_records(records), what)
        if not columns:
            raise ValidationError(f"{what}[0] has no columns: nothing to predict from")
        # itemgetter and map keep the per-row loop in C (a tuple per row, in model order),
        # and keys that are the very objects the parser put in the rows (orjson reuses one
        # str per key) are found by identity, without comparing text: ~3x faster lookups.
        same = {key: key for key in records[0]}
        keys = [same.get(c, c) for c in columns]
        getter = itemgetter(*keys) if len(keys) > 1 else _one(keys[0])
        try:
            rows = list(map(getter, records))
        except KeyError:
            raise self._column_error(records, columns, what) from None
        width = len(columns)
        if not self.ignore_extra and set(map(len, records)) != {width}:
            raise self._column_error(records, columns, what)
        return self._matrix(rows, columns, what)

    def from_columns(self, data: Any, *, what: str = "columns") -> ModelInput:
        """Rows given column-wise: ``{column: [values...]}``."""
        if not isinstance(data, dict) or not data:
            raise ValidationError(f"{what} must be an object of column -> list of values")
        lengths = {}
        for name, values in data.items():
            if not isinstance(values, list):
                raise ValidationError(f"{what}: column {name!r} must be a list of values")
            lengths[name] = len(values)
        if len(set(lengths.values())) != 1:
            sizes = ", ".join(f"{k}={v}" for k, v in lengths.items())
            raise ValidationError(f"{what}: columns have different lengths ({sizes})")
        self._check_count(next(iter(lengths.values())), what)
        columns = self.columns or tuple(data)
        self._check_names(list(data), columns, what)
        if not self.numeric:
            return self._general(pd.DataFrame(data), what)
        values = [data[c] for c in columns]
        if not self._plain_numbers(chain.from_iterable(values)):
            return self._general(pd.DataFrame(data), what)
        matrix = _as_float(values, columns, what, transpose=True)
        return self._finish(matrix, columns, what)

    def from_rows(
        self, rows: Any, columns: Sequence[Any] | None = None, *, what: str = "data"
    ) -> ModelInput:
        """Rows given as lists of values, in ``columns`` order (the model's when None)."""
        if not isinstance(rows, list):
            raise ValidationError(f"{what} must be a list of rows, got {_kind(rows)}")
        self._check_count(len(rows), what)
        names = self._row_names(columns, what)
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(names):
                raise ValidationError(
                    f"{what}[{i}] must be a list of {len(names)} values "
                    f"({', '.join(names)}), got {_kind(row)}"
                    + (f" of length {len(row)}" if isinstance(row, list) else "")
                )
        frame_needed = not self.numeric or (
            self.columns is not None and tuple(names) != self.columns
        )
        if frame_needed:
            return self._general(pd.DataFrame(rows, columns=list(names)), what)
        return self._matrix(rows, tuple(names), what)

    def from_frame(self, frame: pd.DataFrame, *, what: str = "data") -> ModelInput:
        """Rows already in a DataFrame (parsed CSV)."""
        self._check_count(len(frame), what)
        frame.columns = [str(c) for c in frame.columns]
        return self._general(frame, what)

    def from_matrix(self, matrix: np.ndarray, *, what: str = "input") -> ModelInput:
        """A 2-D numeric tensor whose columns are the model's, in its order."""
        columns = self.columns
        if matrix.ndim != 2:
            raise ValidationError(f"{what} must be 2-D (rows x columns), got shape {matrix.shape}")
        self._check_count(matrix.shape[0], what)
        if columns is None:
            columns = tuple(f"x{i}" for i in range(matrix.shape[1]))
        if matrix.shape[1] != len(columns):
            raise ValidationError(
                f"{what} has {matrix.shape[1]} columns but the model takes {len(columns)} "
                f"({', '.join(columns)})"
            )
        if not self.numeric:
            return self._general(pd.DataFrame(matrix, columns=list(columns)), what)
        if matrix.dtype.kind not in "iuf":
            raise ValidationError(f"{what} must be numeric, got {matrix.dtype} values")
        return self._finish(np.asarray(matrix, dtype=np.float64), columns, what)

    # -- the numeric fast path ------------------------------------------------------------
    def _matrix(
        self, rows: Sequence[Sequence[Any]], columns: tuple[str, ...], what: str
    ) -> ModelInput:
        matrix = _numbers_only(rows)
        if matrix is None:
            if not self._plain_numbers(chain.from_iterable(rows)):
                return self._general(pd.DataFrame(rows, columns=list(columns)), what)
            matrix = _as_float(rows, columns, what)
        return self._finish(matrix, columns, what)

    def _plain_numbers(self, values: Any) -> bool:
        allowed = _NUMBERS_OR_NULL if self.nullable.any() else _NUMBERS
        return set(map(type, values)) <= allowed

    def _finish(self, matrix: np.ndarray, columns: tuple[str, ...], what: str) -> ModelInput:
        finite = np.isfinite(matrix)
        if not finite.all():
            missing = np.isnan(matrix)
            for j, name in enumerate(columns):
                nullable = bool(self.nullable[j]) if j < len(self.nullable) else False
                if missing[:, j].any() and not nullable:
                    rows = ", ".join(map(str, np.flatnonzero(missing[:, j])[:5]))
                    raise ValidationError(
                        f"{what}: column {name!r} has null or NaN values (row {rows}) but is "
                        "not nullable"
                    )
                if np.isinf(matrix[:, j]).any() and not self.allow_infinite:
                    raise ValidationError(
                        f"{what}: column {name!r} has infinite values, which the model does "
                        "not accept"
                    )
        return ModelInput(matrix, columns)

    # -- the general path ----------------------------------------------------------------
    def _general(self, frame: pd.DataFrame, what: str) -> ModelInput:
        """Validate a frame; numeric models still get a float matrix."""
        checked = self._frame(frame, what)
        if not self.numeric:
            return checked
        data = pd.DataFrame(checked.data)
        for name in data.columns:
            # JSON text that merely looks like a number is still the wrong type.
            if not is_numeric_dtype(data[name]) and data[name].map(_not_a_number).any():
                bad = data[name][data[name].map(_not_a_number)]
                raise ValidationError(
                    f"{what}: column {name!r} must be numeric, got {bad.iloc[0]!r} "
                    f"(row {bad.index[0]})"
                )
        try:
            matrix = data.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{what}: values must be numbers ({exc})") from None
        return self._finish(matrix, checked.columns, what)

    def _frame(self, frame: pd.DataFrame, what: str) -> ModelInput:
        if self.signature is None:
            columns = self.columns or tuple(str(c) for c in frame.columns)
            self._check_names([str(c) for c in frame.columns], columns, what)
            return ModelInput(frame[list(columns)], columns)
        try:
            checked = self.signature.validate(frame)
        except ValidationError as exc:
            raise ValidationError(f"{what}: {exc}") from None
        columns = self.columns or tuple(checked.columns)
        return ModelInput(checked[list(columns)], columns)

    # -- checks --------------------------------------------------------------------------
    def _check_count(self, n: int, what: str) -> None:
        if n == 0:
            raise ValidationError(f"{what} has no rows: nothing to predict")
        if n > self.max_rows:
            raise ValidationError(
                f"{what} has {n} rows, more than the limit of {self.max_rows} per request; "
                "split it into smaller requests"
            )

    def _check_names(self, given: list[str], columns: Sequence[str], what: str) -> None:
        missing = [c for c in columns if c not in set(given)]
        extra = [] if self.ignore_extra else [c for c in given if c not in set(columns)]
        if missing or extra:
            raise ValidationError(_names_message(what, missing, extra, columns))

    def _column_error(
        self, records: list[dict[str, Any]], columns: Sequence[str], what: str
    ) -> ValidationError:
        for i, record in enumerate(records):
            missing = [c for c in columns if c not in record]
            extra = [] if self.ignore_extra else [str(k) for k in record if k not in columns]
            if missing or extra:
                return ValidationError(_names_message(f"{what}[{i}]", missing, extra, columns))
        return ValidationError(f"{what}: records do not match the model's columns")

    def _row_names(self, columns: Sequence[Any] | None, what: str) -> tuple[str, ...]:
        if columns is None:
            if self.columns is None:
                raise ValidationError(f"{what}: name the columns; this model has no signature")
            return self.columns
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise ValidationError(f"{what}: columns must be a list of column names")
        if len(set(columns)) != len(columns):
            raise ValidationError(f"{what}: column names repeat ({', '.join(columns)})")
        self._check_names(columns, self.columns or columns, what)
        return tuple(columns)


def _one(column: str) -> Callable[[dict[str, Any]], tuple[Any]]:
    """Like ``itemgetter(column)`` but giving a 1-tuple, so rows are always sequences."""
    return lambda record: (record[column],)


def _as_float(
    values: Sequence[Any], columns: Sequence[str], what: str, *, transpose: bool = False
) -> np.ndarray:
    try:
        matrix = np.array(values, dtype=np.float64)
    except OverflowError:
        raise ValidationError(f"{what}: a number is too large for a 64-bit float") from None
    return np.ascontiguousarray(matrix.T) if transpose else matrix


def _numbers_only(rows: Sequence[Sequence[Any]]) -> np.ndarray | None:
    """The float matrix when the values are surely all ints and floats, else None.

    numpy's own type discovery (C speed) gives an int or float array only for numbers and
    booleans, and a boolean would show up as an exact 0 or 1: with neither present no value
    can have been anything but a number. Otherwise the caller checks every value's type.
    """
    try:
        matrix = np.array(rows)
    except (ValueError, OverflowError):
        return None
    if matrix.dtype.kind not in "iuf" or matrix.ndim != 2:
        return None
    if ((matrix == 0) | (matrix == 1)).any():
        return None
    return matrix.astype(np.float64, copy=False)


def _not_a_number(value: Any) -> bool:
    return value is not None and (isinstance(value, bool) or not isinstance(value, int | float))


def _names_message(
    what: str, missing: Sequence[str], extra: Sequence[str], columns: Sequence[str]
) -> str:
    parts = []
    if missing:
        parts.append(f"missing column(s): {', '.join(missing)}")
    if extra:
        parts.append(f"unexpected column(s): {', '.join(extra)}")
    return f"{what}: {'; '.join(parts)} (the model takes: {', '.join(columns)})"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )
