"""Custom checks: a vectorised function of the columns that returns a boolean mask."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from driftline.exceptions import ValidationError
from driftline.quality._base import (
    BatchContext,
    Cell,
    Check,
    Outcome,
    RecordContext,
    Rule,
    closest,
    row_outcome,
)
from driftline.quality._frame import Column, Table

__all__ = ["Columns", "Custom"]

_MISSING_BY_KIND: dict[str, tuple[Any, str]] = {
    "text": (None, "object"),
    "boolean": (None, "object"),
    "datetime": (np.datetime64("NaT", "us"), "datetime64[us]"),
}


def decode(col: Column) -> np.ndarray:
    """The column as one numpy array, missing as NaN (numbers), None (text) or NaT."""
    missing = col.missing if col.n_missing else None
    if col.kind == "numeric":
        if missing is None:
            return col.values
        return np.where(missing, np.nan, col.values.astype(np.float64, copy=False))
    if col.kind == "datetime":
        out = col.values.astype("datetime64[us]")
    elif col.kind == "text":
        out = col.values.to_numpy(zero_copy_only=False).astype(object)
    elif col.kind == "boolean":
        out = col.values if missing is None else col.values.astype(object)
    elif col.kind == "null":
        return np.full(len(col), np.nan)
    else:
        out = np.asarray(col.values.to_pylist(), dtype=object)
    if missing is not None:
        out = out.copy() if out is col.values else out
        out[missing] = _MISSING_BY_KIND.get(col.kind, (None, "object"))[0]
    return out


def decode_cell(cell: Cell, declared: str | None) -> np.ndarray:
    """A one-element array for a record value, shaped like :func:`decode` would give."""
    if cell.missing:
        value, dtype = _MISSING_BY_KIND.get(declared or "", (np.nan, "float64"))
        return np.array([value], dtype=dtype)
    if cell.kind == "datetime":
        return np.array([cell.value], dtype="datetime64[us]")
    if cell.kind == "text":
        return np.array([cell.value], dtype=object)
    return np.array([cell.value])


class Columns(Mapping[str, np.ndarray]):
    """Read-only mapping of column name to a numpy array, decoded on first access."""

    def __init__(self, names: tuple[str, ...], get: Callable[[str], np.ndarray]) -> None:
        self._names = names
        self._get = get
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._names:
            raise ValidationError(f"column {name!r} is not available{closest(name, self._names)}")
        if name not in self._cache:
            self._cache[name] = self._get(name)
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass(frozen=True)
class Custom(Check):
    """Rows pass where ``fn(columns)`` is True; ``columns`` maps names to numpy arrays.

    Missing values reach ``fn`` as NaN in numeric columns, None in text and boolean columns and
    NaT in datetime columns. The same function checks single records, called with one-element
    arrays, so write it with numpy operations that work at any length. List the ``columns`` it
    reads so a typo is reported before it runs. The observed value is the share of failing rows.

    >>> import numpy as np
    >>> from driftline.quality import Custom, Suite
    >>> frame = {"rooms": [3.0, 5.0, 2.0], "bedrooms": [1.0, 6.0, float("nan")]}
    >>> check = Custom("bedrooms_fit", lambda c: ~(c["bedrooms"] > c["rooms"]),
    ...                columns=("rooms", "bedrooms"))
    >>> Suite([check]).run(frame).checks[0].failed_rows
    1
    """

    name: str
    fn: Callable[[Columns], Any]
    columns: tuple[str, ...] = ()
    max_invalid: float = 0.0

    kind: ClassVar[str] = "custom"
    shares: ClassVar[tuple[str, ...]] = ("max_invalid",)
    thread_safe: ClassVar[bool] = False  # fn may keep state: it runs on the calling thread

    def __post_init__(self) -> None:
        cols = (self.columns,) if isinstance(self.columns, str) else tuple(self.columns)
        object.__setattr__(self, "columns", cols)
        super().__post_init__()
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError(f"{self.kind}: name must be a non-empty string")
        if not callable(self.fn):
            raise ValidationError(f"{self.kind} {self.name!r}: fn must be callable")

    @property
    def label(self) -> str:
        return self.name

    @property
    def data_columns(self) -> tuple[str, ...]:
        return self.columns

    def _mask(self, result: Any, n: int) -> np.ndarray:
        mask = np.asarray(result)
        if mask.dtype != np.bool_ or mask.shape != (n,):
            raise ValidationError(
                f"custom check {self.name!r}: the function must return a boolean mask of "
                f"length {n}, got dtype {mask.dtype} and shape {mask.shape}"
            )
        return mask

    def evaluate(self, ctx: BatchContext) -> Outcome:
        table: Table = ctx.table
        names = self.columns or table.names
        view = Columns(tuple(names), lambda name: decode(table.column(name)))
        bad = ~self._mask(self.fn(view), ctx.n_rows)
        return row_outcome(bad, ctx.n_rows, self.max_invalid)

    def record_rule(self, ctx: RecordContext) -> Rule:
        names, fn, declared = self.columns, self.fn, ctx.declared_kinds

        def rule(cells: Mapping[str, Cell], record: Mapping[str, Any], now_us: int) -> bool:
            view = Columns(names or tuple(record), lambda n: decode_cell(cells[n], declared.get(n)))
            return bool(self._mask(fn(view), 1)[0])

        return rule

    def expected(self) -> str:
        return f"{self.name} holds, invalid share <= {self.max_invalid:g}"

    def to_config(self) -> dict[str, Any]:
        config = super().to_config()
        config.pop("fn")
        config["columns"] = list(self.columns)
        return config
