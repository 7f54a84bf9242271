"""Checks and keys for metric samples: names, labels, values, times, series identity."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from driftline._canonical import canonical_json
from driftline.exceptions import ValidationError

__all__ = [
    "check_labels",
    "check_metric_name",
    "check_value",
    "floor_hour",
    "hours_between",
    "parse_time",
    "series_key",
    "to_utc",
]

_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,199}")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,99}")
MAX_LABEL_VALUE = 500


def check_metric_name(name: Any) -> str:
    """``name`` if it is a valid Prometheus metric name, else a ValidationError."""
    if not isinstance(name, str) or not _METRIC.fullmatch(name):
        raise ValidationError(
            f"metric name {name!r} is not valid: use letters, digits, '_' and ':' "
            "(not starting with a digit), at most 200 characters"
        )
    return name


def check_labels(
    labels: Mapping[str, Any] | None, *, metric: str | None = None, limit: int = MAX_LABEL_VALUE
) -> dict[str, str]:
    """A plain ``{str: str}`` copy of ``labels``, or a ValidationError naming the bad label."""
    where = f"metric {metric!r}: " if metric else ""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise ValidationError(f"{where}labels must be a mapping, not {labels!r}")
    out = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL.fullmatch(key) or key.startswith("__"):
            raise ValidationError(
                f"{where}label name {key!r} is not valid "
                "(letters, digits and '_', not starting with a digit or '__')"
            )
        if not isinstance(value, str):
            raise ValidationError(
                f"{where}label {key!r} must be a string, got {type(value).__name__} {value!r}"
            )
        if len(value) > limit:
            raise ValidationError(f"{where}label {key!r} is longer than {limit} characters")
        out[key] = value
    return out


def check_value(value: Any, *, metric: str) -> float:
    """``value`` as a finite float, or a ValidationError naming the metric."""
    number = None
    if not isinstance(value, bool | str | bytes):
        try:
            number = float(value)  # ints, floats and numpy scalars
        except (TypeError, ValueError):
            number = None
    if number is None:
        raise ValidationError(
            f"metric {metric!r}: value must be a number, got {type(value).__name__} {value!r}"
        )
    if not math.isfinite(number):
        raise ValidationError(f"metric {metric!r}: value must be finite, got {number!r}")
    return number


def series_key(name: str, labels: Mapping[str, str]) -> str:
    """A stable hex key for one series: the metric name and its labels."""
    return hashlib.sha256(canonical_json({"name": name, "labels": dict(labels)})).hexdigest()


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; naive datetimes are taken to be UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_time(text: str) -> datetime:
    """A stored ISO time back as an aware UTC datetime."""
    return to_utc(datetime.fromisoformat(text))


def floor_hour(moment: datetime) -> datetime:
    """The start of the UTC hour holding ``moment``."""
    return to_utc(moment).replace(minute=0, second=0, microsecond=0)


def hours_between(start: datetime, end: datetime) -> float:
    """``end - start`` in hours."""
    return (end - start) / timedelta(hours=1)
