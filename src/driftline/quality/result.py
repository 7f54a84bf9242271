"""What a suite run returns: per-check results, column metrics, the score, and exports."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

__all__ = ["CheckResult", "ColumnMetrics", "QualityResult", "RecordCheckResult", "RecordResult"]


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, datetimes, tuples and sets turned into JSON types."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one batch.

    ``observed`` is the quantity the check compares with its tolerance (a share, a count or an
    age in seconds, see each check). ``failed_rows`` is None for checks that judge the batch as
    a whole (schema, row count, freshness of the data's own timestamp). ``examples`` holds up to
    five failing rows as ``{"row": position, "values": {column: value}}``; positions count from
    0 in the order of the input, whatever its index.
    """

    name: str
    kind: str
    column: str | None
    columns: tuple[str, ...]
    passed: bool
    observed: Any
    failed_rows: int | None
    rows_checked: int | None
    expected: str
    severity: str = "error"
    weight: float = 1.0
    examples: tuple[Mapping[str, Any], ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: name, column, passed, observed, failed_rows and the rest."""
        return jsonable(
            {
                "name": self.name,
                "column": self.column,
                "passed": self.passed,
                "observed": self.observed,
                "failed_rows": self.failed_rows,
                "kind": self.kind,
                "columns": list(self.columns),
                "rows_checked": self.rows_checked,
                "expected": self.expected,
                "severity": self.severity,
                "weight": self.weight,
                "examples": list(self.examples),
                "details": self.details,
                "warnings": list(self.warnings),
            }
        )


@dataclass(frozen=True)
class ColumnMetrics:
    """Simple per-column metrics gathered while the checks ran (for OpenLineage and reports)."""

    null_count: int
    count: int
    distinct_count: int | None = None
    min: float | None = None
    max: float | None = None
    sum: float | None = None


@dataclass(frozen=True)
class QualityResult:
    """The outcome of a suite on one batch.

    ``passed`` is true when no check of severity ``error`` failed. ``score`` (0 to 1) follows
    the suite's scoring rule, see :mod:`driftline.quality.scoring`.
    """

    passed: bool
    score: float
    scoring: str
    rows: int
    checks: tuple[CheckResult, ...]
    metrics: Mapping[str, ColumnMetrics] = field(default_factory=dict)
    evaluated_at: datetime | None = None

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        """The checks that failed, whatever their severity."""
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        """``{"passed", "score", "checks": [{"name", "column", "passed", "observed",
        "failed_rows", ...}], ...}``, JSON-ready."""
        return {
            "passed": self.passed,
            "score": self.score,
            "checks": [c.to_dict() for c in self.checks],
            "scoring": self.scoring,
            "rows": self.rows,
            "evaluated_at": jsonable(self.evaluated_at),
        }

    def to_openlineage_facets(
        self, *, producer: str = "https://github.com/driftline/driftline"
    ) -> dict[str, dict[str, Any]]:
        """The ``dataQualityAssertions`` and ``dataQualityMetrics`` input dataset facets."""
        from driftline.quality._openlineage import facets

        return facets(self, producer)


@dataclass(frozen=True)
class RecordCheckResult:
    """One check's verdict on one record."""

    name: str
    column: str | None
    passed: bool


@dataclass(frozen=True)
class RecordResult:
    """A suite's verdict on one record; ``skipped`` names the batch-only checks.

    Per-check verdicts are kept as parallel tuples (``names``, ``columns``, ``outcomes``) and
    turned into :class:`RecordCheckResult` objects only when asked for, which keeps the cost of
    checking a record low.
    """

    passed: bool
    names: tuple[str, ...]
    columns: tuple[str | None, ...]
    outcomes: tuple[bool, ...]
    skipped: tuple[str, ...] = ()

    @property
    def checks(self) -> tuple[RecordCheckResult, ...]:
        """One result per check that ran on the record."""
        return tuple(
            RecordCheckResult(name, column, ok)
            for name, column, ok in zip(self.names, self.columns, self.outcomes, strict=True)
        )

    @property
    def failed(self) -> tuple[RecordCheckResult, ...]:
        """The checks this record failed."""
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "passed": self.passed,
            "checks": [
                {"name": c.name, "column": c.column, "passed": c.passed} for c in self.checks
            ],
            "skipped": list(self.skipped),
        }
