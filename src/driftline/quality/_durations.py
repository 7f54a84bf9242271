"""Durations written as ``90s``, ``15m``, ``36h``, ``7d``, ``2w`` or combined (``1d12h``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from driftline.exceptions import ValidationError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


def parse_duration(value: Any, *, what: str = "duration") -> timedelta:
    """A timedelta from a timedelta, a number of seconds or a string such as ``1d12h``."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.replace(" ", "").lower()
        parts = _PART.findall(text)
        if text and "".join(n + u for n, u in parts) == text:
            return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))
    raise ValidationError(
        f"{what}: {value!r} is not a duration; write e.g. '90s', '15m', '36h', '7d', '1d12h' "
        "or a number of seconds"
    )


def format_duration(value: timedelta) -> str:
    """The shortest ``1d12h``-style spelling of ``value``."""
    micros = round(value.total_seconds() * 1_000_000)
    if micros % 1_000_000:
        return f"{micros / 1_000_000:g}s"
    seconds, out = micros // 1_000_000, []
    for unit, size in _UNITS.items():
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"
