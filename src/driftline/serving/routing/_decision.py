"""The routing contract: a decision, the policy protocol, and the checks every policy shares."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from driftline.exceptions import ValidationError

__all__ = ["Clock", "RouteDecision", "RoutingPolicy", "key_fraction"]

Clock = Callable[[], datetime]

_SCALE = float(1 << 64)


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Which version answers a request, under which route name, and where to mirror it.

    ``route`` is ``"primary"``, ``"ab:<arm>"``, ``"canary"`` or ``"stable"``;
    ``shadow_versions`` get a copy of the request whose answers never reach the client.

    >>> RouteDecision(3, "primary")
    RouteDecision(version=3, route='primary', shadow_versions=())
    """

    version: int
    route: str
    shadow_versions: tuple[int, ...] = ()


@runtime_checkable
class RoutingPolicy(Protocol):
    """Anything that turns a request key and a uniform draw into a :class:`RouteDecision`."""

    def decide(self, key: str | None, draw: float) -> RouteDecision:
        """Route one request; ``draw`` is uniform in [0, 1), ``key`` makes the choice sticky."""
        ...


def key_fraction(key: str, salt: str = "") -> float:
    """Map ``key`` to a number in [0, 1) that is the same in every process and on every run.

    Python's ``hash()`` is salted per process, so several server workers would disagree;
    a keyed BLAKE2b digest is stable, fast and uniform. ``salt`` decorrelates policies that
    hash the same key (an A/B split and a canary should not pick the same users).

    >>> key_fraction("user-42") == key_fraction("user-42")
    True
    >>> 0.0 <= key_fraction("user-42", salt="canary") < 1.0
    True
    """
    digest = hashlib.blake2b(key.encode(), digest_size=8, person=salt.encode()[:16]).digest()
    return int.from_bytes(digest, "big") / _SCALE


def check_draw(draw: float) -> float:
    """``draw`` itself, or a ValidationError if it is not a number in [0, 1)."""
    if not 0.0 <= draw < 1.0:
        raise ValidationError(f"draw must be a uniform number in [0, 1), got {draw!r}")
    return draw


def check_version(name: str, version: object) -> int:
    """``version`` itself if it is a non-negative int (bools are refused), else ValidationError."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValidationError(f"{name} must be a model version number (int >= 0), got {version!r}")
    return version


def check_fraction(name: str, value: object, *, allow_zero: bool = True) -> float:
    """``value`` as a float in [0, 1] (or (0, 1] without ``allow_zero``), else ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"{name} must be a number between 0 and 1, got {value!r}")
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        bounds = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValidationError(f"{name} must be in {bounds}, got {value!r}")
    return float(value)
