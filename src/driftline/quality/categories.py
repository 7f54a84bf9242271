"""Allowed values: every present value of a column is one of a declared set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftline.exceptions import ValidationError
from driftline.quality._base import (
    BatchContext,
    Cell,
    Check,
    Outcome,
    RecordContext,
    Rule,
    require_kind,
    row_outcome,
)

__all__ = ["AllowedValues"]


def _sorted(values: Iterable[Any]) -> list[Any]:
    return sorted(values, key=lambda v: (type(v).__name__, v))


def top_counts(values: pa.Array, limit: int = 5) -> dict[str, int]:
    """The ``limit`` most frequent values as ``{str(value): count}``, ties in first-seen order."""
    counted = pc.value_counts(values)
    counts = counted.field("counts").to_numpy()
    order = np.argsort(-counts, kind="stable")[:limit]
    uniques = counted.field("values").to_pylist()
    return {str(uniques[i]): int(counts[i]) for i in order}


@dataclass(frozen=True)
class AllowedValues(Check):
    """Every present value of ``column`` is in ``values`` (strings, numbers or booleans).

    Strings are compared with text columns and numbers/booleans with numeric and boolean ones.
    The observed value is the share of present rows holding another value; ``details`` lists
    the most frequent unexpected values.

    >>> import polars as pl
    >>> from driftline.quality import AllowedValues, Suite
    >>> frame = pl.DataFrame({"ocean": ["NEAR BAY", "INLAND", "ISLAND", None, "OCEAN"]})
    >>> check = AllowedValues("ocean", values={"NEAR BAY", "INLAND", "ISLAND"})
    >>> result = Suite([check]).run(frame)
    >>> result.checks[0].failed_rows, result.checks[0].details["unexpected"]
    (1, {'OCEAN': 1})
    """

    column: str
    values: frozenset[Any] = frozenset()
    max_invalid: float = 0.0

    kind: ClassVar[str] = "allowed_values"
    cost: ClassVar[int] = 4
    thread_safe: ClassVar[bool] = True
    shares: ClassVar[tuple[str, ...]] = ("max_invalid",)

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.values, str) or not isinstance(self.values, Iterable):
            raise ValidationError(f"{self.kind}: values must be a list of allowed values")
        values = frozenset(self.values)
        if not values:
            raise ValidationError(f"{self.kind}: values for column {self.column!r} is empty")
        for v in values:
            if not isinstance(v, str | int | float) or v != v:
                raise ValidationError(
                    f"{self.kind}: allowed value {v!r} is not a string, number or boolean"
                )
        object.__setattr__(self, "values", values)

    @property
    def _text(self) -> list[str]:
        return _sorted(v for v in self.values if isinstance(v, str))

    @property
    def _numbers(self) -> list[Any]:
        return _sorted(v for v in self.values if not isinstance(v, str))

    def evaluate(self, ctx: BatchContext) -> Outcome:
        col = ctx.column(self.column)
        require_kind(col, ("text", "numeric", "boolean"), self)
        if col.kind == "text":
            values, allowed = col.values, pa.array(self._text, pa.large_string())

            def is_in(start: int, stop: int) -> np.ndarray:
                hit = pc.is_in(values.slice(start, stop - start), value_set=allowed)
                return hit.to_numpy(zero_copy_only=False)

            inside = np.concatenate(ctx.map_rows(is_in))
        elif col.kind == "null":
            inside = np.ones(len(col), dtype=bool)
        else:
            inside = np.isin(col.values, self._numbers)
        bad = ~inside & ~col.missing
        details: dict[str, Any] = {}
        if bad.any():
            shown = col.values.filter(pa.array(bad)) if col.kind == "text" else col.values[bad]
            details["unexpected"] = top_counts(pa.array(shown))
        return row_outcome(bad, len(col) - col.n_missing, self.max_invalid, details)

    def record_rule(self, ctx: RecordContext) -> Rule:
        name = self.column
        text, numbers = frozenset(self._text), frozenset(self._numbers)

        def rule(cells: Mapping[str, Cell], record: Mapping[str, Any], now_us: int) -> bool:
            cell = cells[name]
            if cell.missing:
                return True
            if cell.kind == "text":
                return cell.value in text
            return cell.kind in ("numeric", "boolean") and cell.value in numbers

        return rule

    def expected(self) -> str:
        shown = ", ".join(repr(v) for v in _sorted(self.values)[:10])
        more = ", ..." if len(self.values) > 10 else ""
        return f"values in {{{shown}{more}}}, invalid share <= {self.max_invalid:g}"
