"""Referential integrity: values of a column exist in a column of a reference dataset."""

from __future__ import annotations

from collections.abc import Mapping
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
    closest,
    require_kind,
    row_outcome,
)
from driftline.quality._frame import Column, Table
from driftline.quality.categories import top_counts

__all__ = ["Referential"]

_KEY_KINDS = ("text", "numeric", "datetime", "boolean")


def _as_arrow(col: Column) -> pa.Array:
    values = col.values if col.kind == "text" else pa.array(col.values)
    return values.filter(pa.array(~col.missing)) if col.n_missing else values


@dataclass(frozen=True)
class Referential(Check):
    """Every present value of ``column`` exists in ``reference_column`` of a reference dataset.

    The reference frame is passed to ``Suite.run(frame, reference=...)``: the frame itself, or a
    mapping of names to frames when the check names a ``dataset``. Missing values are not judged
    (completeness covers them) and missing reference values never match. The observed value is
    the share of present rows without a match.

    >>> from driftline.quality import Referential, Suite
    >>> orders = {"customer": ["c1", "c2", "c9", None]}
    >>> customers = {"id": ["c1", "c2", "c3"]}
    >>> result = Suite([Referential("customer", "id")]).run(orders, reference=customers)
    >>> result.checks[0].failed_rows, result.checks[0].details["unmatched"]
    (1, {'c9': 1})
    """

    column: str
    reference_column: str
    dataset: str | None = None
    max_invalid: float = 0.0

    kind: ClassVar[str] = "referential"
    cost: ClassVar[int] = 4
    thread_safe: ClassVar[bool] = True
    shares: ClassVar[tuple[str, ...]] = ("max_invalid",)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("reference_column", "dataset"):
            value = getattr(self, name)
            if not (isinstance(value, str) and value) and not (name == "dataset" and value is None):
                raise ValidationError(f"{self.kind}: {name} must be a non-empty string")

    def _reference(self, table: Table, kind: str) -> Column:
        if self.reference_column not in table:
            raise ValidationError(
                f"{self.kind}: column {self.reference_column!r} is not in {table.what}"
                f"{closest(self.reference_column, table.names)}"
            )
        ref = table.column(self.reference_column)
        if ref.kind != kind and "null" not in (ref.kind, kind):
            raise ValidationError(
                f"{self.kind}: column {self.column!r} is {kind} but reference column "
                f"{self.reference_column!r} is {ref.kind}; they can never match"
            )
        return ref

    def evaluate(self, ctx: BatchContext) -> Outcome:
        col = ctx.column(self.column)
        require_kind(col, _KEY_KINDS, self)
        ref = self._reference(ctx.reference_table(self.dataset), col.kind)
        if col.kind == "null" or ref.kind == "null":
            inside = np.zeros(len(col), dtype=bool)
        else:
            known = pc.unique(_as_arrow(ref))
            values = col.values if col.kind == "text" else pa.array(col.values)
            if pa.types.is_floating(values.type) or pa.types.is_floating(known.type):
                values, known = values.cast(pa.float64()), known.cast(pa.float64())
            elif not pa.types.is_large_string(values.type):
                known = known.cast(values.type)
            inside = pc.is_in(values, value_set=known).to_numpy(zero_copy_only=False)
        bad = ~inside & ~col.missing
        details: dict[str, Any] = {}
        if bad.any():
            shown = col.values.filter(pa.array(bad)) if col.kind == "text" else col.values[bad]
            details["unmatched"] = top_counts(pa.array(shown))
        return row_outcome(bad, len(col) - col.n_missing, self.max_invalid, details)

    def record_rule(self, ctx: RecordContext) -> Rule:
        table = ctx.reference_table(self.dataset)
        ref_kind = table.kind(self.reference_column) if self.reference_column in table else "null"
        ref = self._reference(table, ref_kind)
        known = frozenset(_as_arrow(ref).to_pylist()) if ref.kind != "null" else frozenset()
        name = self.column

        def rule(cells: Mapping[str, Cell], record: Mapping[str, Any], now_us: int) -> bool:
            cell = cells[name]
            return cell.missing or (cell.kind == ref.kind and cell.value in known)

        return rule

    def expected(self) -> str:
        where = f"{self.dataset}." if self.dataset else "reference."
        target = f"{where}{self.reference_column}"
        return f"values exist in {target}, invalid share <= {self.max_invalid:g}"
