"""Shadow: the primary answers; a share of requests is also mirrored to another version."""

from __future__ import annotations

from dataclasses import dataclass

from driftline.exceptions import ValidationError
from driftline.serving.routing._decision import (
    RouteDecision,
    check_draw,
    check_fraction,
    check_version,
)

__all__ = ["Shadow"]


@dataclass(frozen=True, slots=True)
class Shadow:
    """``primary`` answers every request; a ``percent`` share is mirrored to ``shadow``.

    ``percent`` is a fraction in [0, 1]. The mirror is chosen by ``draw`` (not by key): a
    shadow is there to compare versions on a sample of live traffic, not to follow users.
    The caller sends mirrored requests fire-and-forget; their answers never reach the client.

    >>> policy = Shadow(primary=3, shadow=4, percent=0.25)
    >>> policy.decide(None, 0.1).shadow_versions, policy.decide(None, 0.9).shadow_versions
    ((4,), ())
    """

    primary: int
    shadow: int
    percent: float

    def __post_init__(self) -> None:
        check_version("Shadow.primary", self.primary)
        check_version("Shadow.shadow", self.shadow)
        check_fraction("Shadow.percent", self.percent)
        if self.primary == self.shadow:
            raise ValidationError(
                f"Shadow.shadow must differ from Shadow.primary (both are {self.primary})"
            )

    def decide(self, key: str | None, draw: float) -> RouteDecision:
        """The primary, with the shadow version attached when ``draw < percent``."""
        mirror = (self.shadow,) if check_draw(draw) < self.percent else ()
        return RouteDecision(self.primary, "primary", mirror)
