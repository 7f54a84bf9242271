"""Infer a starting suite from a reference dataset."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from driftline.exceptions import ValidationError
from driftline.quality._base import Check
from driftline.quality._frame import Column, to_table
from driftline.quality.categories import AllowedValues
from driftline.quality.completeness import Completeness
from driftline.quality.ranges import ValueRange
from driftline.quality.row_count import RowCount
from driftline.quality.schema import Schema
from driftline.quality.suite import Suite
from driftline.quality.uniqueness import Uniqueness

__all__ = ["suggest"]


def _round_out(value: float, up: bool, digits: int = 6) -> float:
    """``value`` rounded away from the data to ``digits`` significant digits."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    scale = 10.0 ** (digits - math.ceil(math.log10(abs(value))))
    return (math.ceil if up else math.floor)(value * scale) / scale


def _range(col: Column, margin: float) -> ValueRange:
    present = col.present_values()
    low, high = float(present.min()), float(present.max())
    pad = margin * (high - low) if high > low else margin * max(abs(low), 1.0)
    lo, hi = low - pad, high + pad
    if low >= 0 > lo:
        lo = 0.0  # a quantity never seen negative (a count, a price) stays non-negative
    if np.issubdtype(present.dtype, np.integer) or bool(np.all(present == np.floor(present))):
        return ValueRange(col.name, min=math.floor(lo), max=math.ceil(hi))
    return ValueRange(col.name, min=_round_out(lo, up=False), max=_round_out(hi, up=True))


def _declared_type(col: Column, distinct: int | None, max_categories: int) -> str:
    if col.kind == "text":
        return "categorical" if distinct is not None and distinct <= max_categories else "text"
    return col.kind


def _column_checks(
    col: Column, n_rows: int, margin: float, slack: float, max_categories: int
) -> tuple[list[Check], str | None]:
    share = col.n_missing / n_rows if n_rows else 0.0
    checks: list[Check] = [
        Completeness(col.name, max_missing=min(1.0, math.ceil((share + slack) * 1e4) / 1e4))
    ]
    count = n_rows - col.n_missing
    if col.kind in ("null", "other") or count == 0:
        return checks, None
    distinct = col.codes()[1] if col.kind in ("text", "numeric") else None
    if col.kind == "numeric":
        checks.append(_range(col, margin))
        present = col.present_values()
        integral = bool(np.all(present == np.floor(present)))
        if integral and distinct == count and count >= 2:
            checks.append(Uniqueness(col.name))
    elif col.kind == "text" and distinct is not None:
        if distinct <= max_categories and distinct < count:
            values = col.present_values().unique().to_pylist()
            checks.append(AllowedValues(col.name, values=frozenset(values)))
        elif distinct == count and count >= 2:
            checks.append(Uniqueness(col.name))
    return checks, _declared_type(col, distinct, max_categories)


def suggest(
    reference: Any,
    *,
    margin: float = 0.1,
    slack: float = 0.01,
    max_categories: int = 20,
    empty_is_missing: bool = True,
    missing_markers: Mapping[str, Sequence[Any]] | None = None,
    scoring: str = "weighted",
) -> Suite:
    """A starting suite inferred from ``reference``; review it before relying on it.

    A schema of the observed types (undeclared columns warn), a row count of at least 1, then
    per column: completeness at the observed missing share plus ``slack``; numeric ranges
    widened by ``margin`` times the span on each side (not below 0 if no value was negative,
    whole numbers for integer-valued columns); allowed categories for text with at most
    ``max_categories`` values; uniqueness for id-like columns (text or whole numbers, all
    distinct).

    >>> import numpy as np
    >>> from driftline.quality import suggest
    >>> rng = np.random.default_rng(3)
    >>> frame = {"id": np.arange(200), "price": rng.uniform(10, 20, 200),
    ...          "tier": rng.choice(["a", "b"], 200)}
    >>> suite = suggest(frame)
    >>> [check.kind for check in suite.checks][:6]
    ['schema', 'row_count', 'completeness', 'range', 'unique', 'completeness']
    >>> suite.run(frame).passed
    True
    """
    if not margin >= 0 or not 0 <= slack <= 1 or max_categories < 1:
        raise ValidationError("suggest: margin >= 0, 0 <= slack <= 1 and max_categories >= 1")
    table = to_table(
        reference,
        empty_is_missing=empty_is_missing,
        missing_markers=missing_markers,
        what="reference data",
    )
    checks: list[Check] = []
    types: dict[str, str] = {}
    for name in table.names:
        col_checks, declared = _column_checks(
            table.column(name), table.n_rows, margin, slack, max_categories
        )
        checks.extend(col_checks)
        if declared is not None:
            types[name] = declared
    head: list[Check] = [Schema(types, unexpected="warn"), RowCount(min=1)]
    return Suite(
        head + checks,
        scoring=scoring,
        empty_is_missing=empty_is_missing,
        missing_markers=missing_markers,
    )
