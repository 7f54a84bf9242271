"""A suite: an ordered set of checks, run on a batch or on one record at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from driftline.exceptions import ValidationError
from driftline.quality._base import BatchContext, Check, Outcome, closest
from driftline.quality._frame import Column, Table, to_table
from driftline.quality._parallel import Workers, resolve_workers, task
from driftline.quality._record import RecordChecker
from driftline.quality.result import CheckResult, ColumnMetrics, QualityResult, RecordResult
from driftline.quality.scoring import SCORING_RULES, score

__all__ = ["Clock", "Suite"]

Clock = Callable[[], datetime]
MAX_EXAMPLES = 5


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _aware(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError(f"{what} must be a datetime, got {type(value).__name__}")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _markers(value: Any) -> dict[str, tuple[Any, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("missing_markers must map column names to lists of markers")
    out: dict[str, tuple[Any, ...]] = {}
    for name, markers in value.items():
        items = (markers,) if isinstance(markers, str | int | float) else tuple(markers)
        for m in items:
            if isinstance(m, bool) or not isinstance(m, str | int | float):
                raise ValidationError(
                    f"missing_markers[{name!r}]: marker {m!r} is not a string or a number"
                )
        out[str(name)] = items
    return out


def _metrics(table: Table, workers: Workers) -> dict[str, ColumnMetrics]:
    columns = table.converted()

    def metrics(col: Column) -> ColumnMetrics:
        count = len(col) - col.n_missing
        low = high = total = None
        stats = col.stats() if col.kind == "numeric" else None
        if stats is not None:
            low, high, total = (float(v) for v in stats)
        return ColumnMetrics(col.n_missing, count, col.known_distinct(), low, high, total)

    return dict(zip(columns, workers.map(metrics, columns.values()), strict=True))


def _first_true(mask: np.ndarray, k: int) -> list[int]:
    """Positions of the first ``k`` true values, scanning blocks of growing size.

    Failing rows are seldom rare enough to need the whole mask scanned for five of them.
    """
    found: list[int] = []
    start, step = 0, 4096
    while start < len(mask) and len(found) < k:
        stop = min(len(mask), start + step)
        hits = np.flatnonzero(mask[start:stop])[: k - len(found)]
        found.extend((hits + start).tolist())
        start, step = stop, step * 4
    return found


@dataclass(frozen=True)
class Suite:
    """Checks declared once, run on batches (``run``) and on single records (``check_record``).

    ``empty_is_missing`` makes ``""`` missing in text columns; ``missing_markers`` maps a column
    to extra values that mean missing there (``{"workclass": ["?"]}``). ``scoring`` picks the
    score rule (``weighted``, ``soft`` or ``seed``, see :mod:`driftline.quality.scoring`).
    ``workers`` is how many threads a batch run may use (default: one per core, at most four,
    and one for batches under 100,000 rows); checks and their results do not depend on it.

    >>> import numpy as np
    >>> from driftline.quality import AllowedValues, Completeness, Suite, ValueRange
    >>> rng = np.random.default_rng(0)
    >>> frame = {"age": rng.integers(18, 90, 100), "plan": rng.choice(["free", "pro"], 100)}
    >>> suite = Suite([Completeness("age"), ValueRange("age", min=18, max=120),
    ...                AllowedValues("plan", values={"free", "pro", "team"})])
    >>> result = suite.run(frame)
    >>> result.passed, result.score
    (True, 1.0)
    >>> suite.check_record({"age": 12, "plan": "pro"}).failed[0].name
    'range'
    """

    checks: Sequence[Check]
    scoring: str = "weighted"
    empty_is_missing: bool = True
    missing_markers: Mapping[str, Sequence[Any]] | None = None
    workers: int | None = field(default=None, kw_only=True, compare=False)
    _lines: tuple[int | None, ...] = field(default=(), init=False, compare=False, repr=False)
    _source: str | None = field(default=None, init=False, compare=False, repr=False)
    _checkers: dict[tuple[int, int], tuple[Any, Any, RecordChecker]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if isinstance(self.checks, Check) or not isinstance(self.checks, Iterable):
            raise ValidationError("Suite takes a list of checks")
        checks = tuple(self.checks)
        for i, check in enumerate(checks, 1):
            if not isinstance(check, Check):
                raise ValidationError(
                    f"check {i} is a {type(check).__name__}, not a driftline.quality check"
                )
        if self.scoring not in SCORING_RULES:
            raise ValidationError(
                f"unknown scoring rule {self.scoring!r}{closest(str(self.scoring), SCORING_RULES)}"
                f" (rules: {', '.join(SCORING_RULES)})"
            )
        if not isinstance(self.empty_is_missing, bool):
            raise ValidationError("empty_is_missing must be true or false")
        resolve_workers(self.workers, 0)  # rejects a bad count when the suite is declared
        object.__setattr__(self, "checks", checks)
        object.__setattr__(self, "missing_markers", _markers(self.missing_markers))

    def __len__(self) -> int:
        return len(self.checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    # -- YAML -------------------------------------------------------------------------------

    @classmethod
    def from_yaml(
        cls, source: str | Path, *, functions: Mapping[str, Callable[..., Any]] | None = None
    ) -> Suite:
        """A suite from YAML text or a ``.yaml``/``.yml`` path (see :mod:`driftline.quality`).

        ``functions`` maps custom check names to their callables.
        """
        from driftline.quality._config import load_suite

        return load_suite(source, functions=functions or {})

    def to_yaml(self) -> str:
        """The suite as YAML (custom checks keep their name; pass the function back on load)."""
        from driftline.quality._config import dump_suite

        return dump_suite(self)

    def describe_check(self, index: int) -> str:
        """``check 3 'range' on 'age' (suite.yaml line 12)``, for error messages."""
        check = self.checks[index]
        cols = ", ".join(repr(c) for c in check.data_columns)
        text = f"check {index + 1} {check.label!r}" + (f" on {cols}" if cols else "")
        line = self._lines[index] if index < len(self._lines) else None
        if line is not None:
            text += f" ({self._source or 'suite YAML'} line {line})"
        return text

    # -- batches ----------------------------------------------------------------------------

    def _require_columns(self, table: Table) -> None:
        for index, check in enumerate(self.checks):
            for name in check.data_columns:
                if name not in table:
                    raise ValidationError(
                        f"{self.describe_check(index)}: column {name!r} is not in the data"
                        f"{closest(name, table.names)}"
                    )

    def _evaluate(self, index: int, check: Check, ctx: BatchContext) -> Outcome:
        try:
            return check.evaluate(ctx)
        except ValidationError as exc:
            raise ValidationError(f"{self.describe_check(index)}: {exc}") from exc

    @staticmethod
    def _examples(table: Table, outcomes: Sequence[Outcome]) -> list[list[dict[str, Any]]]:
        """Up to MAX_EXAMPLES failing rows per check, all fetched from the frame in one go."""
        positions = [
            _first_true(o.mask, MAX_EXAMPLES) if o.mask is not None and o.failed_rows else []
            for o in outcomes
        ]
        wanted = sorted({p for ps in positions for p in ps})
        rows = dict(zip(wanted, table.rows(wanted), strict=True))
        return [[rows[p] for p in ps] for ps in positions]

    @staticmethod
    def _result(check: Check, outcome: Outcome, examples: list[dict[str, Any]]) -> CheckResult:
        return CheckResult(
            name=check.label,
            kind=check.kind,
            column=check.column_label,
            columns=check.data_columns,
            passed=outcome.passed,
            observed=outcome.observed,
            failed_rows=outcome.failed_rows,
            rows_checked=outcome.rows_checked,
            expected=check.expected(),
            severity=check.severity,
            weight=check.weight,
            examples=tuple(examples),
            details=outcome.details,
            warnings=outcome.warnings,
        )

    def _outcomes(self, ctx: BatchContext, workers: Workers) -> list[Outcome]:
        def evaluate(index: int) -> Outcome:
            return task(index, lambda: self._evaluate(index, self.checks[index], ctx))

        # Expensive checks start first so that the threads finish together; checks that run user
        # code stay on the calling thread, one at a time, as without threads.
        order = sorted(range(len(self.checks)), key=lambda i: -self.checks[i].cost)
        return workers.map(
            evaluate,
            range(len(self.checks)),
            local=lambda i: not self.checks[i].thread_safe,
            order=order,
        )

    def run(
        self,
        data: Any,
        *,
        clock: Clock | None = None,
        reference: Any = None,
        data_timestamp: datetime | None = None,
        workers: int | None = None,
    ) -> QualityResult:
        """Run every check on ``data`` (pandas, polars, pyarrow or a dict of arrays).

        ``clock`` gives "now" for freshness (default: the system clock, UTC); ``reference`` is
        the frame (or name-to-frame mapping) referential checks compare with; ``data_timestamp``
        is the data's own time for a freshness check without a column. ``workers`` overrides
        the suite's thread count for this run; the result is the same for any count.
        """
        table = to_table(
            data, empty_is_missing=self.empty_is_missing, missing_markers=self.missing_markers
        )
        self._require_columns(table)
        now = _aware((clock or _system_clock)(), "clock()")
        stamp = None if data_timestamp is None else _aware(data_timestamp, "data_timestamp")
        size = resolve_workers(self.workers if workers is None else workers, table.n_rows)
        with Workers(size) as pool:
            ctx = BatchContext(
                table, now, reference, stamp, self.empty_is_missing, pool if size > 1 else None
            )
            outcomes = self._outcomes(ctx, pool)
            metrics = _metrics(table, pool)
        examples = self._examples(table, outcomes)
        results = tuple(
            self._result(check, outcome, rows)
            for check, outcome, rows in zip(self.checks, outcomes, examples, strict=True)
        )
        return QualityResult(
            passed=all(r.passed or r.severity == "warn" for r in results),
            score=score(results, self.scoring),
            scoring=self.scoring,
            rows=table.n_rows,
            checks=results,
            metrics=metrics,
            evaluated_at=now,
        )

    # -- records ----------------------------------------------------------------------------

    def record_checker(self, *, clock: Clock | None = None, reference: Any = None) -> RecordChecker:
        """The suite compiled for single records (compile once, call per record)."""
        return RecordChecker(self, clock=clock or _system_clock, reference=reference)

    def check_record(
        self, record: Mapping[str, Any], *, clock: Clock | None = None, reference: Any = None
    ) -> RecordResult:
        """Check one record; the compiled checker is reused while clock and reference stay."""
        key = (id(clock), id(reference))
        cached = self._checkers.get(key)
        if cached is None or cached[0] is not clock or cached[1] is not reference:
            if len(self._checkers) >= 8:
                self._checkers.clear()  # bounded: callers passing a new reference each time
            cached = (clock, reference, self.record_checker(clock=clock, reference=reference))
            self._checkers[key] = cached
        return cached[2](record)
