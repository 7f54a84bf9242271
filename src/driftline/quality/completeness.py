"""Completeness: at most a given share of a column's rows may be missing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from driftline.quality._base import BatchContext, Cell, Check, Outcome, RecordContext, Rule

__all__ = ["Completeness"]


@dataclass(frozen=True)
class Completeness(Check):
    """At most ``max_missing`` (a share, 0 to 1) of the rows of ``column`` may be missing.

    What counts as missing (null, NaN, NaT, ``""`` in text, declared markers) is decided once, by
    the suite, identically for every kind of input. The observed value is the missing share
    (0 for an empty frame); the failing rows are the missing ones.

    >>> import pandas as pd
    >>> from driftline.quality import Completeness, Suite
    >>> frame = pd.DataFrame({"age": [31.0, None, 47.0, float("nan")]})
    >>> result = Suite([Completeness("age", max_missing=0.25)]).run(frame)
    >>> result.checks[0].observed, result.checks[0].failed_rows, result.passed
    (0.5, 2, False)
    """

    column: str
    max_missing: float = 0.0

    kind: ClassVar[str] = "completeness"
    cost: ClassVar[int] = 0
    thread_safe: ClassVar[bool] = True
    shares: ClassVar[tuple[str, ...]] = ("max_missing",)

    def evaluate(self, ctx: BatchContext) -> Outcome:
        col = ctx.column(self.column)
        missing = col.n_missing
        share = missing / ctx.n_rows if ctx.n_rows else 0.0
        return Outcome(
            passed=share <= self.max_missing,
            observed=share,
            failed_rows=missing,
            rows_checked=ctx.n_rows,
            mask=col.missing,
        )

    def record_rule(self, ctx: RecordContext) -> Rule:
        name = self.column

        def rule(cells: Mapping[str, Cell], record: Mapping[str, Any], now_us: int) -> bool:
            return not cells[name].missing

        return rule

    def expected(self) -> str:
        return f"missing share <= {self.max_missing:g}"
