"""Value range: the values of a numeric or datetime column lie within inclusive bounds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
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
    datetime_to_us,
    require_kind,
    row_outcome,
)
from driftline.quality._frame import us_to_datetime

__all__ = ["ValueRange"]

Bound = float | datetime | None


def _coerce_bound(check: str, name: str, value: Any) -> Bound:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(
                f"{check}: {name} {value!r} is neither a number nor an ISO date/time"
            ) from exc
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValidationError(f"{check}: {name} must be a number or a datetime, got {value!r}")
    return value


@dataclass(frozen=True)
class ValueRange(Check):
    """Values of ``column`` lie in ``[min, max]`` (either bound may be None).

    Bounds are numbers for numeric columns and datetimes (or ISO strings) for datetime columns.
    Missing rows are not judged. The observed value is the share of present rows outside the
    bounds, which may be at most ``max_invalid``.

    >>> import numpy as np
    >>> from driftline.quality import Suite, ValueRange
    >>> ages = np.random.default_rng(7).integers(0, 100, size=50).tolist() + [-3, 250]
    >>> result = Suite([ValueRange("age", min=0, max=120)]).run({"age": ages})
    >>> result.checks[0].failed_rows, [ex["values"]["age"] for ex in result.checks[0].examples]
    (2, [-3, 250])
    """

    column: str
    min: Bound = None
    max: Bound = None
    max_invalid: float = 0.0

    kind: ClassVar[str] = "range"
    cost: ClassVar[int] = 2
    thread_safe: ClassVar[bool] = True
    shares: ClassVar[tuple[str, ...]] = ("max_invalid",)

    def __post_init__(self) -> None:
        super().__post_init__()
        lo = _coerce_bound(self.kind, "min", self.min)
        hi = _coerce_bound(self.kind, "max", self.max)
        object.__setattr__(self, "min", lo)
        object.__setattr__(self, "max", hi)
        if lo is None and hi is None:
            raise ValidationError(f"{self.kind}: give min, max or both for column {self.column!r}")
        if lo is not None and hi is not None:
            if isinstance(lo, datetime) != isinstance(hi, datetime):
                raise ValidationError(f"{self.kind}: min and max must both be numbers or datetimes")
            low, high = self._bounds()
            if low > high:  # type: ignore[operator]
                raise ValidationError(f"{self.kind}: min {lo!r} is greater than max {hi!r}")

    @property
    def on_datetimes(self) -> bool:
        return isinstance(self.min, datetime) or isinstance(self.max, datetime)

    @property
    def datetime_inputs(self) -> tuple[str, ...]:
        return (self.column,) if self.on_datetimes else ()

    def _bounds(self) -> tuple[float | None, float | None]:
        def conv(b: Bound) -> float | None:
            return datetime_to_us(b) if isinstance(b, datetime) else b

        return conv(self.min), conv(self.max)

    def evaluate(self, ctx: BatchContext) -> Outcome:
        col = ctx.column(self.column)
        require_kind(col, ("datetime",) if self.on_datetimes else ("numeric",), self)
        lo, hi = self._bounds()
        checked = len(col) - col.n_missing
        stats = col.stats()
        if stats is None:
            return row_outcome(np.zeros(len(col), dtype=bool), checked, self.max_invalid)
        low, high, _ = stats
        details = {"min": low, "max": high}
        if col.kind == "datetime":
            details = {"min": us_to_datetime(low), "max": us_to_datetime(high)}
        if (lo is None or low >= lo) and (hi is None or high <= hi):
            # Every value is inside: no need to build a per-row mask.
            return Outcome(True, 0.0, 0, checked, None, details)
        values = col.values
        bad = (values < lo) if lo is not None else np.zeros(len(col), dtype=bool)
        if hi is not None:
            bad |= values > hi
        if col.n_missing:
            bad &= ~col.missing
        return row_outcome(bad, checked, self.max_invalid, details)

    def record_rule(self, ctx: RecordContext) -> Rule:
        name, (lo, hi) = self.column, self._bounds()
        wanted = "datetime" if self.on_datetimes else "numeric"

        def rule(cells: Mapping[str, Cell], record: Mapping[str, Any], now_us: int) -> bool:
            cell = cells[name]
            if cell.missing:
                return True
            if cell.kind != wanted:
                return False
            v = cell.value
            return (lo is None or v >= lo) and (hi is None or v <= hi)

        return rule

    def expected(self) -> str:
        lo = "-inf" if self.min is None else str(self.min)
        hi = "inf" if self.max is None else str(self.max)
        return f"values in [{lo}, {hi}], invalid share <= {self.max_invalid:g}"
