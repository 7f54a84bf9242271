"""CanaryRollout: the state machine that bakes, steps up, promotes or rolls back a canary."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from driftline.exceptions import ValidationError
from driftline.serving.routing._canary import Canary, CanaryAnalysis, Outcome, analyze
from driftline.serving.routing._decision import Clock, RouteDecision

__all__ = ["CanaryRollout", "CanaryState", "RolloutPhase"]

RolloutPhase = Literal["baking", "step_up", "promoted", "rolled_back"]


@dataclass(frozen=True, slots=True)
class CanaryState:
    """Where a rollout stands: its phase, the canary's share, and why.

    ``state`` is ``"baking"`` (holding a step), ``"step_up"`` (just moved to a larger share),
    ``"promoted"`` (the canary takes all traffic) or ``"rolled_back"`` (the stable version takes
    all traffic). ``reason`` is a sentence with the numbers that led here; ``analysis`` is the
    canary's window when the state was decided (``None`` at the start and on a manual rollback).
    """

    state: RolloutPhase
    percent: float
    step: int
    at: datetime
    reason: str
    analysis: CanaryAnalysis | None = None

    @property
    def terminal(self) -> bool:
        """True once promoted or rolled back: nothing changes after that."""
        return self.state in ("promoted", "rolled_back")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


def _span(delta: timedelta) -> str:
    return f"{delta.total_seconds():g}s"


class CanaryRollout:
    """Drive a :class:`Canary` through its steps from recorded request outcomes.

    Call :meth:`record` after each request served by the stable or canary version and
    :meth:`evaluate` now and then (every few seconds is plenty). The canary is rolled back as
    soon as the window holds ``slo.min_requests`` canary requests and any SLO limit is broken;
    it steps up once a step has baked for ``bake_time`` with enough healthy requests, and is
    promoted after the last step bakes. A step whose bake time has passed but whose window
    holds too few canary requests keeps baking: no evidence is not good evidence.
    :meth:`decide` routes at the current share, so it is the routing policy while rolling out.
    Everything is a function of the recorded outcomes and the times passed in (or read from
    ``clock``), so the same inputs always give the same states.

    >>> from datetime import datetime, timedelta, timezone
    >>> from driftline.serving.routing import CanarySLO
    >>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> slo = CanarySLO(max_error_rate=0.05, max_p99_latency_s=0.5, min_requests=10)
    >>> canary = Canary(1, 2, steps=(0.5, 1.0), bake_time=timedelta(minutes=1), slo=slo)
    >>> rollout = canary.rollout(started_at=t0)
    >>> for i in range(20):
    ...     rollout.record(2, ok=True, latency_s=0.01, at=t0 + timedelta(seconds=i))
    >>> rollout.evaluate(t0 + timedelta(minutes=1)).state, rollout.percent
    ('step_up', 1.0)
    >>> for i in range(20):
    ...     rollout.record(2, ok=i % 2 == 0, latency_s=0.01, at=t0 + timedelta(seconds=61 + i))
    >>> state = rollout.evaluate(t0 + timedelta(seconds=90))
    >>> state.state, state.percent
    ('rolled_back', 0.0)
    """

    def __init__(
        self, canary: Canary, *, started_at: datetime | None = None, clock: Clock | None = None
    ) -> None:
        if not isinstance(canary, Canary):
            raise ValidationError(f"CanaryRollout needs a Canary, got {canary!r}")
        self.canary = canary
        self.clock: Clock = clock or _utc_now
        start = _aware("started_at", started_at if started_at is not None else self.clock())
        self._step = 0
        self._step_started = start
        self._window = canary.analysis_window
        self._outcomes: dict[int, deque[Outcome]] = {canary.stable: deque(), canary.canary: deque()}
        self._lock = threading.Lock()
        first = canary.steps[0]
        self._state = CanaryState(
            "baking",
            first,
            0,
            start,
            f"started: canary v{canary.canary} at {_pct(first)}, stable v{canary.stable} "
            f"answers the rest; steps {', '.join(_pct(s) for s in canary.steps)}, "
            f"bake time {_span(canary.bake_time)} each",
        )
        self.history: list[CanaryState] = [self._state]

    @property
    def state(self) -> CanaryState:
        """The state decided by the last :meth:`evaluate` (or the start)."""
        return self._state

    @property
    def percent(self) -> float:
        """The canary's current share of traffic: 0 after a rollback, 1 after promotion."""
        return self._state.percent

    def decide(self, key: str | None, draw: float) -> RouteDecision:
        """Route one request at the current share (see :meth:`Canary.route`)."""
        return self.canary.route(self._state.percent, key, draw)

    def record(
        self,
        version: int,
        ok: bool,
        latency_s: float,
        disagreed: bool | None = None,
        at: datetime | None = None,
    ) -> None:
        """Remember one request's outcome; versions other than stable and canary are ignored."""
        queue = self._outcomes.get(version)
        if queue is None:
            return
        if not math.isfinite(latency_s) or latency_s < 0:
            raise ValidationError(f"latency_s must be a finite number >= 0, got {latency_s!r}")
        when = _aware("at", at) if at is not None else self.clock()
        with self._lock:
            queue.append(Outcome(when, bool(ok), float(latency_s), disagreed))
            self._prune(queue, when)

    def evaluate(self, now: datetime | None = None) -> CanaryState:
        """Judge the window ending at ``now`` and move to the next state if it is due."""
        now = _aware("now", now) if now is not None else self.clock()
        with self._lock:
            if self._state.terminal:
                return self._state
            canary_a, stable_a = (
                self._analyze(v, now) for v in (self.canary.canary, self.canary.stable)
            )
            state = self._next_state(now, canary_a, stable_a)
            if state.state != "baking":
                self.history.append(state)
            self._state = state
            return state

    def rollback(self, reason: str, *, at: datetime | None = None) -> CanaryState:
        """Roll back by hand (an operator's call); a finished rollout is left as it is."""
        when = _aware("at", at) if at is not None else self.clock()
        with self._lock:
            if not self._state.terminal:
                self._state = CanaryState(
                    "rolled_back", 0.0, self._step, when, f"rolled back by hand: {reason}"
                )
                self.history.append(self._state)
            return self._state

    def _prune(self, queue: deque[Outcome], now: datetime) -> None:
        horizon = now - self._window
        while queue and queue[0].at <= horizon:
            queue.popleft()

    def _analyze(self, version: int, now: datetime) -> CanaryAnalysis:
        queue = self._outcomes[version]
        self._prune(queue, now)
        horizon = now - self._window
        # Outcomes may arrive slightly out of order, so filter rather than trust the deque order.
        return analyze(version, (o for o in queue if horizon < o.at <= now))

    def _next_state(
        self, now: datetime, canary: CanaryAnalysis, stable: CanaryAnalysis
    ) -> CanaryState:
        config, share = self.canary, self.canary.steps[self._step]
        window, slo = _span(self._window), config.slo
        context = f"canary {canary.summary()}; stable {stable.summary()}"
        broken = canary.breaches(slo) if canary.requests >= slo.min_requests else []
        if broken:
            reason = (
                f"rolled back at {_pct(share)}: canary v{config.canary} broke the SLO over the "
                f"last {window}: {'; '.join(broken)} (stable {stable.summary()})"
            )
            return CanaryState("rolled_back", 0.0, self._step, now, reason, canary)
        baked = now - self._step_started
        if baked < config.bake_time:
            reason = (
                f"baking at {_pct(share)}: {_span(baked)} of {_span(config.bake_time)}; {context}"
            )
            return CanaryState("baking", share, self._step, now, reason, canary)
        if canary.requests < slo.min_requests:
            reason = (
                f"bake time passed at {_pct(share)} but the last {window} hold only "
                f"{canary.requests} canary requests; need {slo.min_requests} to judge the SLO"
            )
            return CanaryState("baking", share, self._step, now, reason, canary)
        if self._step == len(config.steps) - 1:
            reason = (
                f"promoted: canary v{config.canary} met the SLO through the last step "
                f"({_pct(share)}, baked {_span(baked)}); {context}"
            )
            return CanaryState("promoted", 1.0, self._step, now, reason, canary)
        self._step += 1
        self._step_started = now
        nxt = config.steps[self._step]
        reason = (
            f"stepped up from {_pct(share)} to {_pct(nxt)}: canary met the SLO after baking "
            f"{_span(baked)}; {context}"
        )
        return CanaryState("step_up", nxt, self._step, now, reason, canary)
