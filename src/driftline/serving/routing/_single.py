"""Single: every request goes to one version."""

from __future__ import annotations

from dataclasses import dataclass

from driftline.serving.routing._decision import RouteDecision, check_version

__all__ = ["Single"]


@dataclass(frozen=True, slots=True)
class Single:
    """Send every request to ``version`` under the route ``"primary"``.

    >>> Single(3).decide(None, 0.5)
    RouteDecision(version=3, route='primary', shadow_versions=())
    """

    version: int

    def __post_init__(self) -> None:
        check_version("Single.version", self.version)

    def decide(self, key: str | None, draw: float) -> RouteDecision:
        """The one version, whatever the key and draw."""
        return RouteDecision(self.version, "primary")
