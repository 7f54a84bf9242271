"""Canary: the policy's configuration, its SLO, and the analysis of a window of requests."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from driftline.exceptions import ValidationError
from driftline.serving.routing._decision import (
    Clock,
    RouteDecision,
    check_draw,
    check_fraction,
    check_version,
    key_fraction,
)

if TYPE_CHECKING:
    from driftline.serving.routing._rollout import CanaryRollout

__all__ = ["Canary", "CanaryAnalysis", "CanarySLO", "Outcome", "analyze"]

_SALT = "canary"


@dataclass(frozen=True, slots=True)
class CanarySLO:
    """What a healthy canary looks like over the analysis window.

    The canary breaks the SLO when its error rate exceeds ``max_error_rate``, its p99 latency
    exceeds ``max_p99_latency_s``, or the share of its answers that disagree with the stable
    version exceeds ``max_disagreement`` (``None``: not checked). Nothing is judged before the
    window holds ``min_requests`` canary requests: a single early failure is noise.

    >>> CanarySLO(max_error_rate=0.01, max_p99_latency_s=0.25, min_requests=200).min_requests
    200
    """

    max_error_rate: float = 0.01
    max_p99_latency_s: float = 1.0
    max_disagreement: float | None = None
    min_requests: int = 100

    def __post_init__(self) -> None:
        check_fraction("CanarySLO.max_error_rate", self.max_error_rate)
        if self.max_disagreement is not None:
            check_fraction("CanarySLO.max_disagreement", self.max_disagreement)
        latency = self.max_p99_latency_s
        if isinstance(latency, bool) or not isinstance(latency, int | float) or not latency > 0:
            raise ValidationError(
                f"CanarySLO.max_p99_latency_s must be a number of seconds > 0, got {latency!r}"
            )
        if isinstance(self.min_requests, bool) or not isinstance(self.min_requests, int):
            raise ValidationError(
                f"CanarySLO.min_requests must be an int, got {self.min_requests!r}"
            )
        if self.min_requests < 1:
            raise ValidationError(f"CanarySLO.min_requests must be >= 1, got {self.min_requests}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One served request as the canary analysis sees it."""

    at: datetime
    ok: bool
    latency_s: float
    disagreed: bool | None = None


@dataclass(frozen=True, slots=True)
class CanaryAnalysis:
    """Request counts, error rate, p99 latency and disagreement of one version over a window.

    ``p99_latency_s`` is the nearest-rank 99th percentile (``None`` with no requests);
    ``disagreement`` is the share of compared requests whose answer differed from the stable
    version's (``None`` when none was compared).
    """

    version: int
    requests: int
    errors: int
    error_rate: float
    p99_latency_s: float | None
    compared: int
    disagreed: int
    disagreement: float | None

    def breaches(self, slo: CanarySLO) -> list[str]:
        """One sentence per SLO limit broken, with the measured number and the limit."""
        found = []
        if self.error_rate > slo.max_error_rate:
            found.append(
                f"error rate {self.error_rate:.4f} > {slo.max_error_rate:.4f} "
                f"({self.errors} of {self.requests} requests failed)"
            )
        if self.p99_latency_s is not None and self.p99_latency_s > slo.max_p99_latency_s:
            found.append(
                f"p99 latency {self.p99_latency_s:.4f}s > {slo.max_p99_latency_s:.4f}s "
                f"over {self.requests} requests"
            )
        limit = slo.max_disagreement
        if limit is not None and self.disagreement is not None and self.disagreement > limit:
            found.append(
                f"disagreement {self.disagreement:.4f} > {limit:.4f} "
                f"({self.disagreed} of {self.compared} compared answers differed)"
            )
        return found

    def summary(self) -> str:
        """The numbers on one line, for reasons and logs."""
        p99 = "n/a" if self.p99_latency_s is None else f"{self.p99_latency_s:.4f}s"
        agree = "n/a" if self.disagreement is None else f"{self.disagreement:.4f}"
        return (
            f"v{self.version}: {self.requests} requests, error rate {self.error_rate:.4f}, "
            f"p99 {p99}, disagreement {agree}"
        )


def analyze(version: int, outcomes: Iterable[Outcome]) -> CanaryAnalysis:
    """Summarise ``outcomes`` of ``version``: counts, error rate, p99 latency, disagreement.

    >>> t = datetime(2024, 1, 1)
    >>> rows = [Outcome(t, ok=i != 0, latency_s=i / 100) for i in range(100)]
    >>> a = analyze(4, rows)
    >>> a.error_rate, a.p99_latency_s
    (0.01, 0.98)
    """
    requests = errors = compared = disagreed = 0
    latencies: list[float] = []
    for outcome in outcomes:
        requests += 1
        errors += not outcome.ok
        latencies.append(outcome.latency_s)
        if outcome.disagreed is not None:
            compared += 1
            disagreed += bool(outcome.disagreed)
    p99 = None
    if latencies:
        # Nearest rank: the ceil(0.99 n)-th smallest is the smallest of the top n - rank + 1.
        top = requests - math.ceil(0.99 * requests) + 1
        p99 = min(heapq.nlargest(top, latencies))
    return CanaryAnalysis(
        version=version,
        requests=requests,
        errors=errors,
        error_rate=errors / requests if requests else 0.0,
        p99_latency_s=p99,
        compared=compared,
        disagreed=disagreed,
        disagreement=disagreed / compared if compared else None,
    )


@dataclass(frozen=True)
class Canary:
    """Route a growing share of traffic to ``canary`` while ``stable`` answers the rest.

    ``steps`` are the canary's shares, strictly increasing in (0, 1]; each is held for
    ``bake_time`` while the canary meets ``slo`` over the last ``window`` (default: the bake
    time). With a request key the choice is sticky and monotone: a key sent to the canary at
    10% is still sent there at 50%. This object is the configuration; :meth:`rollout` makes
    the state machine that steps up, promotes or rolls back. :meth:`decide` routes like a
    rollout that has just started (the first step).

    >>> canary = Canary(stable=3, canary=4, steps=(0.1, 0.5, 1.0), bake_time=timedelta(minutes=5))
    >>> canary.decide(None, 0.05).route, canary.decide(None, 0.5).route
    ('canary', 'stable')
    """

    stable: int
    canary: int
    steps: tuple[float, ...] = (0.1, 0.5, 1.0)
    bake_time: timedelta = timedelta(minutes=10)
    slo: CanarySLO = field(default_factory=CanarySLO)
    window: timedelta | None = None

    def __post_init__(self) -> None:
        check_version("Canary.stable", self.stable)
        check_version("Canary.canary", self.canary)
        if self.stable == self.canary:
            raise ValidationError(
                f"Canary.canary must differ from Canary.stable (both are {self.stable})"
            )
        steps = tuple(self.steps)
        if not steps:
            raise ValidationError("Canary.steps must hold at least one share, e.g. (0.1, 0.5, 1.0)")
        for i, step in enumerate(steps):
            check_fraction(f"Canary.steps[{i}]", step, allow_zero=False)
        if any(b <= a for a, b in itertools.pairwise(steps)):
            raise ValidationError(f"Canary.steps must be strictly increasing, got {steps}")
        object.__setattr__(self, "steps", tuple(float(s) for s in steps))
        for name in ("bake_time", "window"):
            value = getattr(self, name)
            if value is None and name == "window":
                continue
            if not isinstance(value, timedelta) or value <= timedelta(0):
                raise ValidationError(f"Canary.{name} must be a positive timedelta, got {value!r}")
        if not isinstance(self.slo, CanarySLO):
            raise ValidationError(f"Canary.slo must be a CanarySLO, got {self.slo!r}")

    @property
    def analysis_window(self) -> timedelta:
        """The sliding window the SLO is judged over."""
        return self.window if self.window is not None else self.bake_time

    def route(self, percent: float, key: str | None, draw: float) -> RouteDecision:
        """The canary when the key's fraction (or ``draw``) is below ``percent``, else stable."""
        point = key_fraction(key, _SALT) if key is not None else check_draw(draw)
        if point < percent:
            return RouteDecision(self.canary, "canary")
        return RouteDecision(self.stable, "stable")

    def decide(self, key: str | None, draw: float) -> RouteDecision:
        """Route at the first step, as a rollout that has just started would."""
        return self.route(self.steps[0], key, draw)

    def rollout(
        self, *, started_at: datetime | None = None, clock: Clock | None = None
    ) -> CanaryRollout:
        """A new :class:`CanaryRollout` of this canary, at its first step."""
        from driftline.serving.routing._rollout import CanaryRollout

        return CanaryRollout(self, started_at=started_at, clock=clock)
