"""A per-upstream circuit breaker: closed, open after too many failures, half-open probes."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from driftline.gateway.policies import BreakerPolicy

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Count-based circuit breaker over the last ``policy.window`` calls.

    Call :meth:`start` before a request (it says whether the call is a half-open probe) and
    :meth:`record` after it. Time comes from ``clock``, so the open period passes without sleeping.

    >>> now = [0.0]
    >>> policy = BreakerPolicy(failure_rate=0.5, window=4, min_calls=4, open_for=10.0)
    >>> breaker = CircuitBreaker(policy, clock=lambda: now[0])
    >>> for failed in (False, True, False, True):
    ...     breaker.record(breaker.start(), failed=failed)
    >>> breaker.state.value, breaker.allows()
    ('open', False)
    >>> now[0] = 10.0
    >>> breaker.state.value
    'half_open'
    >>> breaker.record(breaker.start(), failed=False)
    >>> breaker.state.value
    'closed'
    """

    def __init__(
        self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self.clock = clock
        self._state = BreakerState.CLOSED
        self._outcomes: deque[bool] = deque(maxlen=self.policy.window)
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._probe_successes = 0
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker turns half-open once ``open_for`` has passed."""
        if (
            self._state is BreakerState.OPEN
            and self.clock() - self._opened_at >= self.policy.open_for
        ):
            self._state = BreakerState.HALF_OPEN
            self._probes_in_flight = 0
            self._probe_successes = 0
        return self._state

    @property
    def failure_rate(self) -> float:
        """Share of failed calls in the current window (0 when empty)."""
        return sum(self._outcomes) / len(self._outcomes) if self._outcomes else 0.0

    def allows(self) -> bool:
        """Whether a request may go through now."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN:
            return self._probes_in_flight < self.policy.half_open_probes
        return False

    def start(self) -> bool:
        """Note a request going out; return True when it is a half-open probe."""
        if self.state is BreakerState.HALF_OPEN:
            self._probes_in_flight += 1
            return True
        return False

    def record(self, probe: bool, *, failed: bool) -> None:
        """Record the outcome of a request that :meth:`start` returned ``probe`` for."""
        state = self.state
        if probe:
            self._record_probe(state, failed)
        elif state is BreakerState.CLOSED:
            self._outcomes.append(failed)
            enough = len(self._outcomes) >= self.policy.min_calls
            if failed and enough and self.failure_rate >= self.policy.failure_rate:
                self._open()
        # Outcomes of ordinary calls that finish while open or half-open carry no news:
        # they were sent before the breaker opened.

    def _record_probe(self, state: BreakerState, failed: bool) -> None:
        if state is not BreakerState.HALF_OPEN:
            return
        self._probes_in_flight -= 1
        if failed:
            self._open()
            return
        self._probe_successes += 1
        if self._probe_successes >= self.policy.half_open_probes:
            self._state = BreakerState.CLOSED
            self._outcomes.clear()

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self.clock()
        self.times_opened += 1

    def describe(self) -> str:
        """Why the breaker blocks traffic, in words (empty when it does not)."""
        state = self.state
        if state is BreakerState.OPEN:
            left = self.policy.open_for - (self.clock() - self._opened_at)
            rate = self.failure_rate
            return f"circuit open for {left:.1f} s more after a failure rate of {rate:.0%}"
        if state is BreakerState.HALF_OPEN and not self.allows():
            return "circuit half-open with its probe request in flight"
        return ""
