"""A/B split: weighted arms, sticky by request key."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from driftline.exceptions import ValidationError
from driftline.serving.routing._decision import (
    RouteDecision,
    check_draw,
    check_version,
    key_fraction,
)

__all__ = ["ABSplit"]

_SALT = "ab"


@dataclass(frozen=True)
class ABSplit:
    """Split traffic between named arms in proportion to their weights.

    ``arms`` maps an arm name to ``(version, weight)``; weights are relative (they need not
    sum to 1) and an arm may have weight 0 (switched off). With a request key the arm is a
    function of the key alone, so a user stays in one arm on every worker and after a
    restart; without a key the caller's ``draw`` picks the arm. Arms are laid out on [0, 1)
    in name order so that the layout does not depend on how the mapping was built.

    >>> split = ABSplit({"control": (3, 0.5), "treatment": (4, 0.5)})
    >>> split.decide(None, 0.2)
    RouteDecision(version=3, route='ab:control', shadow_versions=())
    >>> split.decide("user-7", 0.0) == split.decide("user-7", 0.99)
    True
    """

    arms: dict[str, tuple[int, float]]
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _bounds: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _decisions: tuple[RouteDecision, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.arms, dict) or not self.arms:
            raise ValidationError(
                "ABSplit.arms must be a non-empty mapping of name -> (version, weight)"
            )
        names = tuple(sorted(self.arms))
        weights = [_checked_arm(name, self.arms[name]) for name in names]
        total = math.fsum(weights)
        if total <= 0:
            raise ValidationError(
                f"ABSplit.arms: weights sum to 0; give at least one arm of {names} a weight > 0"
            )
        bounds, running = [], 0.0
        for weight in weights:
            running += weight / total
            bounds.append(running)
        # Rounding must neither leave a sliver of [0, 1) without an arm nor hand one to a
        # trailing zero-weight arm: the last live arm ends exactly at 1.
        last_live = max(i for i, weight in enumerate(weights) if weight > 0)
        bounds[last_live:] = [1.0] * (len(bounds) - last_live)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_bounds", tuple(bounds))
        decisions = tuple(RouteDecision(self.arms[n][0], f"ab:{n}") for n in names)
        object.__setattr__(self, "_decisions", decisions)

    @property
    def shares(self) -> dict[str, float]:
        """Each arm's normalised share of traffic."""
        lows = (0.0, *self._bounds[:-1])
        return {n: hi - lo for n, lo, hi in zip(self._names, lows, self._bounds, strict=True)}

    def decide(self, key: str | None, draw: float) -> RouteDecision:
        """The arm that owns the key's fraction (or ``draw`` when there is no key)."""
        point = key_fraction(key, _SALT) if key is not None else check_draw(draw)
        # bisect_right skips zero-width arms: a point equal to a bound belongs to the next arm.
        return self._decisions[bisect.bisect_right(self._bounds, point)]


def _checked_arm(name: object, arm: object) -> float:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"ABSplit.arms: arm names must be non-empty strings, got {name!r}")
    if not isinstance(arm, tuple | list) or len(arm) != 2:
        raise ValidationError(f"ABSplit.arms[{name!r}] must be (version, weight), got {arm!r}")
    version, weight = arm
    check_version(f"ABSplit.arms[{name!r}] version", version)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ValidationError(f"ABSplit.arms[{name!r}] weight must be a number, got {weight!r}")
    if not math.isfinite(weight) or weight < 0:
        raise ValidationError(
            f"ABSplit.arms[{name!r}] weight must be a finite number >= 0, got {weight!r}"
        )
    return float(weight)
