"""Row count: the batch holds between ``min`` and ``max`` rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from driftline.exceptions import ValidationError
from driftline.quality._base import BatchContext, Check, Outcome, RecordContext, Rule

__all__ = ["RowCount"]


@dataclass(frozen=True)
class RowCount(Check):
    """The batch holds at least ``min`` and at most ``max`` rows (either may be None).

    Batch-only: a single record has no row count; counting records over a window of live
    traffic belongs to monitoring, which knows the window. ``failed_rows`` is None.

    >>> from driftline.quality import RowCount, Suite
    >>> result = Suite([RowCount(min=3)]).run({"x": [1, 2]})
    >>> result.checks[0].observed, result.passed
    (2, False)
    """

    min: int | None = None
    max: int | None = None

    kind: ClassVar[str] = "row_count"
    cost: ClassVar[int] = 0
    thread_safe: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ValidationError(f"{self.kind}: {name} must be an integer >= 0, got {value!r}")
        if self.min is None and self.max is None:
            raise ValidationError(f"{self.kind}: give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValidationError(f"{self.kind}: min {self.min} is greater than max {self.max}")

    def evaluate(self, ctx: BatchContext) -> Outcome:
        n = ctx.n_rows
        ok = (self.min is None or n >= self.min) and (self.max is None or n <= self.max)
        return Outcome(passed=ok, observed=n)

    def record_rule(self, ctx: RecordContext) -> Rule | None:
        return None  # batch-only, see the class docstring

    def expected(self) -> str:
        lo = 0 if self.min is None else self.min
        hi = "inf" if self.max is None else self.max
        return f"row count in [{lo}, {hi}]"
