"""Durations in Prometheus' spelling (``90s``, ``5m``, ``1h30m``, ``7d``, ``250ms``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from driftline.exceptions import ValidationError

__all__ = ["format_duration", "parse_duration"]

_UNITS_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1}
_PART = re.compile(r"(\d+)(ms|[wdhms])")


def parse_duration(value: Any, *, what: str = "duration") -> timedelta:
    """A non-negative timedelta from a timedelta, a number of seconds or a string like ``1h30m``.

    >>> parse_duration("1h30m"), parse_duration(90)
    (datetime.timedelta(seconds=5400), datetime.timedelta(seconds=90))
    """
    result: timedelta | None = None
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = timedelta(seconds=value)
    elif isinstance(value, str):
        text = value.strip()
        parts = _PART.findall(text)
        if text and "".join(n + u for n, u in parts) == text:
            result = timedelta(milliseconds=sum(int(n) * _UNITS_MS[u] for n, u in parts))
    if result is None or result < timedelta(0):
        raise ValidationError(
            f"{what}: {value!r} is not a duration; write e.g. '30s', '5m', '1h30m', '7d' "
            "or a number of seconds"
        )
    return result


def format_duration(value: timedelta) -> str:
    """The Prometheus spelling of ``value`` (whole milliseconds), e.g. ``1h30m``.

    >>> format_duration(timedelta(minutes=90)), format_duration(timedelta(0))
    ('1h30m', '0s')
    """
    remaining = round(value.total_seconds() * 1000)
    out = []
    for unit, size in _UNITS_MS.items():
        if unit != "w" and remaining >= size:
            out.append(f"{remaining // size}{unit}")
            remaining %= size
    return "".join(out) or "0s"
