"""Checking one record at a time: the missing-value rule for single values, and the runner."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from driftline.exceptions import ValidationError
from driftline.quality._base import Cell, RecordContext, Rule, datetime_to_us
from driftline.quality.result import RecordResult

if TYPE_CHECKING:
    from driftline.quality.suite import Suite

__all__ = ["RecordChecker", "normalise_value"]

_MISSING_TYPES = frozenset({"NAType", "NaTType", "NoneType"})
_MISSING = Cell(True, "null", None)


def normalise_value(
    value: Any, *, empty_is_missing: bool, markers: frozenset[Any], parse_datetime: bool = False
) -> Cell:
    """Apply the batch missing-value rule (see ``driftline.quality._frame``) to one value."""
    if type(value).__name__ in _MISSING_TYPES:
        return _MISSING
    if isinstance(value, str):
        if (empty_is_missing and value == "") or value in markers:
            return Cell(True, "text", value)
        if parse_datetime:
            try:
                return Cell(False, "datetime", datetime_to_us(datetime.fromisoformat(value)))
            except ValueError:
                pass
        return Cell(False, "text", value)
    if isinstance(value, bool | np.bool_):
        return Cell(False, "boolean", bool(value))
    if isinstance(value, int | np.integer):
        return Cell(value in markers, "numeric", int(value))
    if isinstance(value, float | np.floating | Decimal):
        number = float(value)
        return Cell(math.isnan(number) or number in markers, "numeric", number)
    if isinstance(value, datetime | date):
        return Cell(False, "datetime", datetime_to_us(value))
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return Cell(True, "datetime", None)
        return Cell(False, "datetime", int(value.astype("datetime64[us]").astype(np.int64)))
    return Cell(False, "other", value)


class _Cells(dict[str, Cell]):
    """The record's values, each normalised on first use, so a rule pays only for what it reads.

    A dict subclass: a value already normalised is a plain C-level dict lookup.
    """

    __slots__ = ("_normalise", "_record")

    def __init__(self, record: Mapping[str, Any], normalise: Callable[[str, Any], Cell]) -> None:
        super().__init__()
        self._record = record
        self._normalise = normalise

    def __missing__(self, name: str) -> Cell:
        cell = self[name] = self._normalise(name, self._record.get(name))
        return cell


class RecordChecker:
    """A suite compiled for single records: regexes, sets and reference keys built once.

    Call it with a mapping of column to value; the cost per record is constant for every
    check it runs. ``names`` and ``columns`` list the checks that run on records, in suite
    order; batch-only checks (uniqueness, row count, freshness of the data's own timestamp)
    are listed in ``skipped``.
    """

    def __init__(
        self, suite: Suite, *, clock: Callable[[], datetime], reference: Any = None
    ) -> None:
        from driftline.quality.schema import Schema  # a cycle at import time otherwise

        declared: dict[str, str] = {}
        for check in suite.checks:
            if isinstance(check, Schema):
                declared.update(check.types)
        ctx = RecordContext(
            reference=reference, empty_is_missing=suite.empty_is_missing, declared_kinds=declared
        )
        self._clock = clock
        self._rules: list[tuple[Rule, bool]] = []
        names: list[str] = []
        columns: list[str | None] = []
        skipped: list[str] = []
        for index, check in enumerate(suite.checks):
            try:
                rule = check.record_rule(ctx)
            except ValidationError as exc:
                raise ValidationError(f"{suite.describe_check(index)}: {exc}") from exc
            if rule is None:
                skipped.append(check.label)
            else:
                self._rules.append((rule, check.severity == "error"))
                names.append(check.label)
                columns.append(check.column_label)
        self.names: tuple[str, ...] = tuple(names)
        self.columns: tuple[str | None, ...] = tuple(columns)
        self.skipped: tuple[str, ...] = tuple(skipped)
        self._empty = suite.empty_is_missing
        markers = suite.missing_markers or {}
        self._markers = {name: frozenset(values) for name, values in markers.items()}
        self._datetimes = frozenset(c for check in suite.checks for c in check.datetime_inputs)

    def _normalise(self, name: str, value: Any) -> Cell:
        return normalise_value(
            value,
            empty_is_missing=self._empty,
            markers=self._markers.get(name, frozenset()),
            parse_datetime=name in self._datetimes,
        )

    def __call__(self, record: Mapping[str, Any]) -> RecordResult:
        if not isinstance(record, Mapping):
            raise ValidationError(
                f"a record must be a mapping of column name to value, got {type(record).__name__}"
            )
        now_us = datetime_to_us(self._clock())
        cells = _Cells(record, self._normalise)
        outcomes: list[bool] = []
        passed = True
        for rule, blocking in self._rules:
            ok = bool(rule(cells, record, now_us))
            outcomes.append(ok)
            passed = passed and (ok or not blocking)
        return RecordResult(passed, self.names, self.columns, tuple(outcomes), self.skipped)

    def run_many(self, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Check each record in turn."""
        return [self(record) for record in records]
