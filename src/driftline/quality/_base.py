"""The contract every check follows, and the contexts a suite hands to checks."""

from __future__ import annotations

import dataclasses
import difflib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal, NamedTuple, TypeVar

import numpy as np

from driftline.exceptions import ValidationError
from driftline.quality._frame import EPOCH, Column, Table, to_table
from driftline.quality._parallel import Workers

__all__ = [
    "BatchContext",
    "Cell",
    "Check",
    "Outcome",
    "RecordContext",
    "Rule",
    "Severity",
    "closest",
    "datetime_to_us",
    "row_outcome",
]

Severity = Literal["error", "warn"]
T = TypeVar("T")


class Cell(NamedTuple):
    """One record value after the missing-value rule: missing flag, kind, canonical value."""

    missing: bool
    kind: str
    value: Any


# A record rule gets the normalised cells, the raw record and "now" in microseconds.
Rule = Callable[[Mapping[str, Cell], Mapping[str, Any], int], bool]


def closest(name: str, candidates: Any) -> str:
    """A ``; did you mean 'x'?`` hint, or an empty string when nothing is close."""
    match = difflib.get_close_matches(name, [str(c) for c in candidates], n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def datetime_to_us(value: datetime | date) -> int:
    """Microseconds since the epoch; a naive datetime is read as UTC."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Outcome:
    """What one check found on a batch, before the suite adds examples and bookkeeping."""

    passed: bool
    observed: Any
    failed_rows: int | None = None
    rows_checked: int | None = None
    mask: np.ndarray | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def row_outcome(
    bad: np.ndarray, rows_checked: int, tolerance: float, details: Mapping[str, Any] | None = None
) -> Outcome:
    """Outcome of a row-wise check: the observed value is the share of checked rows that fail."""
    failed = int(np.count_nonzero(bad))
    share = failed / rows_checked if rows_checked else 0.0
    return Outcome(
        passed=share <= tolerance,
        observed=share,
        failed_rows=failed,
        rows_checked=rows_checked,
        mask=bad,
        details=dict(details or {}),
    )


def resolve_reference(reference: Any, dataset: str | None, empty_is_missing: bool) -> Table:
    """The reference frame a referential check compares against, normalised like the data."""
    if reference is None:
        name = f" {dataset!r}" if dataset else ""
        raise ValidationError(
            f"the reference dataset{name} was not given; pass reference= to run()/check_record()"
        )
    if dataset is not None:
        if not isinstance(reference, Mapping) or dataset not in reference:
            known = list(reference) if isinstance(reference, Mapping) else []
            raise ValidationError(
                f"reference dataset {dataset!r} is not in reference= "
                f"(pass a mapping of dataset name to frame){closest(dataset, known)}"
            )
        reference = reference[dataset]
    elif isinstance(reference, Mapping) and any(
        hasattr(value, "columns") or hasattr(value, "column_names") for value in reference.values()
    ):
        raise ValidationError(
            "reference= holds several datasets; name the one to use with dataset= "
            f"(one of {', '.join(map(repr, reference))})"
        )
    return to_table(
        reference, empty_is_missing=empty_is_missing, what=f"reference {dataset or ''}".strip()
    )


@dataclass
class BatchContext:
    """What a check may read while it runs on a batch."""

    table: Table
    now: datetime
    reference: Any = None
    data_timestamp: datetime | None = None
    empty_is_missing: bool = True
    workers: Workers | None = None
    _references: dict[str | None, Table] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def n_rows(self) -> int:
        return self.table.n_rows

    def column(self, name: str) -> Column:
        return self.table.column(name)

    def reference_table(self, dataset: str | None) -> Table:
        with self._lock:  # checks on other threads may want the same reference
            if dataset not in self._references:
                self._references[dataset] = resolve_reference(
                    self.reference, dataset, self.empty_is_missing
                )
            return self._references[dataset]

    def map_rows(self, fn: Callable[[int, int], T]) -> list[T]:
        """``fn(start, stop)`` over row ranges that cover the batch, in order.

        A long element-wise kernel split this way runs on the suite's threads; without them
        (or on a small batch) there is one range, the whole batch.
        """
        if self.workers is None:
            return [fn(0, self.n_rows)]
        return self.workers.map(lambda bounds: fn(*bounds), self.workers.slices(self.n_rows))


@dataclass
class RecordContext:
    """What a check may use while it compiles its record rule."""

    reference: Any = None
    empty_is_missing: bool = True
    declared_kinds: Mapping[str, str] = field(default_factory=dict)

    def reference_table(self, dataset: str | None) -> Table:
        return resolve_reference(self.reference, dataset, self.empty_is_missing)


def _check_share(check: Check, name: str) -> None:
    value = getattr(check, name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValidationError(
            f"{check.kind}: {name} must be a share between 0 and 1, got {value!r}"
        )


@dataclass(frozen=True)
class Check(ABC):
    """Base of every check: a frozen definition that evaluates a batch and compiles a record rule.

    ``severity="warn"`` reports a failure without failing the suite; ``weight`` is the check's
    weight in the weighted scores.
    """

    severity: Severity = field(default="error", kw_only=True)
    weight: float = field(default=1.0, kw_only=True)

    kind: ClassVar[str] = ""
    shares: ClassVar[tuple[str, ...]] = ()
    # Whether evaluate() may run on a pool thread next to other checks. Built-in checks say
    # True; a check that runs user code, or a subclass that does not say, runs on the calling
    # thread, one at a time.
    thread_safe: ClassVar[bool] = False
    # Rough work per row (0: none, 4: a string kernel); a threaded run starts costly ones first.
    cost: ClassVar[int] = 1

    def __post_init__(self) -> None:
        if self.severity not in ("error", "warn"):
            raise ValidationError(
                f"{self.kind}: severity must be 'error' or 'warn', got {self.severity!r}"
            )
        w = self.weight
        if isinstance(w, bool) or not isinstance(w, int | float) or not w >= 0:
            raise ValidationError(f"{self.kind}: weight must be a number >= 0, got {w!r}")
        for name in self.shares:
            _check_share(self, name)
        for name in self.data_columns:
            if not isinstance(name, str) or not name:
                raise ValidationError(f"{self.kind}: column names must be non-empty strings")

    @property
    def label(self) -> str:
        """The name results carry: the check kind (custom checks carry their own name)."""
        return self.kind

    @property
    def data_columns(self) -> tuple[str, ...]:
        """Columns of the checked frame this check reads."""
        column = getattr(self, "column", None)
        return (column,) if isinstance(column, str) else ()

    @property
    def column_label(self) -> str | None:
        """The one column a result is about, or None for dataset-level and multi-column checks."""
        cols = self.data_columns
        return cols[0] if len(cols) == 1 else None

    @property
    def datetime_inputs(self) -> tuple[str, ...]:
        """Record columns whose ISO strings are read as timestamps (JSON has no datetime)."""
        return ()

    @abstractmethod
    def evaluate(self, ctx: BatchContext) -> Outcome:
        """Run the check on a batch."""

    def record_rule(self, ctx: RecordContext) -> Rule | None:
        """A per-record predicate (True passes), or None when the check is batch-only."""
        return None

    @abstractmethod
    def expected(self) -> str:
        """The expectation in words, e.g. ``missing share <= 0.01``."""

    def to_config(self) -> dict[str, Any]:
        """The check's parameters as plain values, omitting defaults (for YAML)."""
        out: dict[str, Any] = {}
        # The check's own keys first, the shared ones (severity, weight) after them.
        for f in sorted(dataclasses.fields(self), key=lambda f: f.kw_only is True):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            out[f.name] = value
        return out


def require_kind(col: Column, kinds: tuple[str, ...], check: Check) -> None:
    """Raise a ValidationError when ``col`` is not one of ``kinds``."""
    if col.kind not in kinds and col.kind != "null":
        wanted = " or ".join(kinds)
        raise ValidationError(
            f"{check.kind}: column {col.name!r} is {col.kind}, this check needs a {wanted} column"
        )
