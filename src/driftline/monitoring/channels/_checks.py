"""Checks of channel settings shared by every channel."""

from __future__ import annotations

from typing import Any

from driftline.exceptions import ValidationError

__all__ = ["check_name", "check_timeout"]


def check_name(name: Any) -> str:
    """A channel name: a short non-empty token (it labels deliveries and metrics)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ValidationError(f"channel name {name!r} must be a non-empty string of <= 100 chars")
    return name


def check_timeout(value: Any, *, channel: str) -> float:
    """A positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(f"channel {channel!r}: field 'timeout' must be seconds > 0")
    return float(value)
