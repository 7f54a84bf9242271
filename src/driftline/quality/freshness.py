"""Freshness: the newest timestamp is no older than a maximum age, relative to a clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
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
)
from driftline.quality._durations import format_duration, parse_duration
from driftline.quality._frame import us_to_datetime

__all__ = ["Freshness"]


@dataclass(frozen=True)
class Freshness(Check):
    """The data is at most ``max_age`` old at the suite's clock time.

    With a ``column`` the age is that of the newest timestamp in it; the check passes when the
    newest one is within ``max_age``, and ``failed_rows`` counts the rows older than that (the
    stale rows), which is also what a record-by-record run counts. Without a column the age is
    that of the ``data_timestamp`` given to ``Suite.run`` (e.g. the file's modification time)
    and the check is batch-only. The observed value is the age in seconds.

    >>> from datetime import datetime, timedelta, timezone
    >>> from driftline.quality import Freshness, Suite
    >>> now = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    >>> seen = [now - timedelta(hours=h) for h in (50, 30, 2)]
    >>> result = Suite([Freshness("36h", column="seen_at")]).run(
    ...     {"seen_at": seen}, clock=lambda: now)
    >>> result.checks[0].observed, result.checks[0].failed_rows, result.passed
    (7200.0, 1, True)
    """

    max_age: timedelta
    column: str | None = None

    kind: ClassVar[str] = "freshness"
    cost: ClassVar[int] = 2
    thread_safe: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        age = parse_duration(self.max_age, what=f"{self.kind}: max_age")
        if age <= timedelta(0):
            raise ValidationError(f"{self.kind}: max_age must be positive, got {self.max_age!r}")
        object.__setattr__(self, "max_age", age)

    @property
    def datetime_inputs(self) -> tuple[str, ...]:
        return self.data_columns

    def _max_age_us(self) -> int:
        return self.max_age // timedelta(microseconds=1)

    def evaluate(self, ctx: BatchContext) -> Outcome:
        now_us = datetime_to_us(ctx.now)
        cutoff = now_us - self._max_age_us()
        if self.column is None:
            if ctx.data_timestamp is None:
                raise ValidationError(
                    f"{self.kind}: no column given, so run() needs data_timestamp="
                )
            age = (now_us - datetime_to_us(ctx.data_timestamp)) / 1e6
            return Outcome(passed=age <= self.max_age.total_seconds(), observed=age)
        col = ctx.column(self.column)
        require_kind(col, ("datetime",), self)
        stats = col.stats()
        if stats is None:
            return Outcome(
                passed=False,
                observed=None,
                failed_rows=0,
                rows_checked=0,
                details={"reason": f"column {self.column!r} has no timestamps"},
            )
        oldest, newest, _ = stats
        # When even the oldest row is recent enough there are no stale rows to mark.
        stale = None if oldest >= cutoff else col.values < cutoff
        if stale is not None and col.n_missing:
            stale &= ~col.missing
        return Outcome(
            passed=newest >= cutoff,
            observed=(now_us - newest) / 1e6,
            failed_rows=0 if stale is None else int(np.count_nonzero(stale)),
            rows_checked=len(col) - col.n_missing,
            mask=stale,
            details={"newest": us_to_datetime(newest), "cutoff": us_to_datetime(cutoff)},
        )

    def record_rule(self, ctx: RecordContext) -> Rule | None:
        if self.column is None:
            return None  # the data's own timestamp is a property of the batch
        name, max_age = self.column, self._max_age_us()

        def rule(cells: Mapping[str, Cell], record: Mapping[str, Any], now_us: int) -> bool:
            cell = cells[name]
            if cell.missing:
                return True
            return cell.kind == "datetime" and cell.value >= now_us - max_age

        return rule

    def expected(self) -> str:
        return f"age <= {format_duration(self.max_age)}"

    def to_config(self) -> dict[str, Any]:
        config = super().to_config()
        config["max_age"] = format_duration(self.max_age)
        return config
