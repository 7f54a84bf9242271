"""The balancer core shared by the gateway and the client: upstream state and who goes next.

It does no I/O. Callers report what happened (:meth:`Balancer.release` after each request,
:meth:`Balancer.report_health` after each active check) and the balancer keeps, per upstream,
health from active checks, passive ejection, a circuit breaker and the requests in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from driftline.exceptions import UnavailableError, ValidationError
from driftline.gateway.breaker import CircuitBreaker
from driftline.gateway.policies import (
    BreakerPolicy,
    EjectionPolicy,
    HealthCheck,
    RetryPolicy,
    Upstream,
)
from driftline.gateway.strategies import Strategy, make_strategy

__all__ = ["Balancer", "Lease", "NoHealthyUpstreamError", "UpstreamStatus"]


@dataclass(frozen=True)
class UpstreamStatus:
    """A snapshot of one upstream, as served by ``/gateway/upstreams``."""

    url: str
    weight: int
    available: bool
    healthy: bool
    in_flight: int
    consecutive_failures: int
    ejected_for: float
    ejections: int
    breaker: str
    requests: int
    failures: int
    reason: str
    last_error: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class NoHealthyUpstreamError(UnavailableError):
    """No upstream may take a request now; ``upstreams`` says why for each."""

    def __init__(self, message: str, upstreams: tuple[UpstreamStatus, ...]) -> None:
        super().__init__(message)
        self.upstreams = upstreams


class _State:
    """Mutable per-upstream state; only touched under the balancer's lock."""

    __slots__ = (
        "breaker",
        "consecutive_failures",
        "ejected_until",
        "ejection_level",
        "ejections",
        "failures",
        "health_failures",
        "health_passes",
        "healthy",
        "in_flight",
        "last_error",
        "requests",
        "url",
        "weight",
    )

    def __init__(self, upstream: Upstream, breaker: CircuitBreaker) -> None:
        self.url = upstream.url
        self.weight = upstream.weight
        self.breaker = breaker
        # Optimistic start: serve at once; the first failed checks or requests say otherwise.
        self.healthy = True
        self.health_passes = 0
        self.health_failures = 0
        self.consecutive_failures = 0
        self.in_flight = 0
        self.ejected_until = float("-inf")
        self.ejection_level = 0
        self.ejections = 0
        self.requests = 0
        self.failures = 0
        self.last_error = ""


class Lease:
    """One request's hold on an upstream, from :meth:`Balancer.acquire` to ``release``."""

    __slots__ = ("_state", "done", "probe", "url")

    def __init__(self, state: _State, probe: bool) -> None:
        self._state = state
        self.url = state.url
        self.probe = probe
        self.done = False


class Balancer:
    """Upstreams with health, ejection and a breaker each, and a strategy to pick one.

    >>> balancer = Balancer(["http://a:8080", "http://b:8080"], strategy="round_robin")
    >>> lease = balancer.acquire()
    >>> lease.url
    'http://a:8080'
    >>> balancer.release(lease, failed=False)
    >>> balancer.select(exclude=["http://a:8080"])
    'http://b:8080'
    >>> for _ in range(2):
    ...     balancer.report_health("http://b:8080", False, "connection refused")
    >>> balancer.available()
    ['http://a:8080']
    """

    def __init__(
        self,
        upstreams: Iterable[str | Upstream],
        *,
        strategy: str | Strategy = "round_robin",
        health: HealthCheck | None = None,
        ejection: EjectionPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        parsed = [u if isinstance(u, Upstream) else Upstream.parse(u) for u in upstreams]
        if not parsed:
            raise ValidationError("upstreams: give at least one upstream URL")
        urls = [u.url for u in parsed]
        if len(set(urls)) != len(urls):
            raise ValidationError(f"upstreams: each URL may appear once, got {urls}")
        self.upstreams = tuple(parsed)
        self.strategy = make_strategy(strategy, seed=seed)
        self.health = health or HealthCheck()
        self.ejection = ejection or EjectionPolicy()
        self.breaker = breaker or BreakerPolicy()
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self._lock = threading.Lock()
        self._states = [_State(u, CircuitBreaker(self.breaker, clock=clock)) for u in parsed]
        self._by_url = {s.url: s for s in self._states}

    @property
    def urls(self) -> list[str]:
        """Every upstream URL, in configuration order."""
        return [s.url for s in self._states]

    def _candidates(self, exclude: Collection[str]) -> list[_State]:
        now = self.clock()
        return [
            s
            for s in self._states
            if s.healthy and now >= s.ejected_until and s.breaker.allows() and s.url not in exclude
        ]

    def acquire(self, *, exclude: Collection[str] = ()) -> Lease:
        """Pick an upstream for one request and count it in flight; ``release`` it after."""
        with self._lock:
            candidates = self._candidates(exclude)
            if not candidates:
                raise self._unavailable(exclude)
            state = self.strategy.select(candidates)
            state.in_flight += 1
            state.requests += 1
            return Lease(state, state.breaker.start())

    def release(self, lease: Lease, *, failed: bool, error: str = "") -> None:
        """Report how a request on ``lease`` ended; failures feed ejection and the breaker.

        Releasing a lease a second time does nothing, so cleanup paths may call it freely.
        """
        state = lease._state
        with self._lock:
            if lease.done:
                return
            lease.done = True
            state.in_flight -= 1
            state.breaker.record(lease.probe, failed=failed)
            if not failed:
                state.consecutive_failures = 0
                return
            state.failures += 1
            state.consecutive_failures += 1
            state.last_error = error
            if state.consecutive_failures >= self.ejection.consecutive_failures:
                self._eject(state)

    def _eject(self, state: _State) -> None:
        now = self.clock()
        if now < state.ejected_until:
            return
        # A long stay since the last ejection ends the back-off; a flapping upstream keeps it.
        if now - state.ejected_until > self.ejection.max_cooldown:
            state.ejection_level = 0
        state.ejection_level += 1
        state.ejected_until = now + self.ejection.duration(state.ejection_level)
        state.ejections += 1
        state.consecutive_failures = 0

    def select(self, *, exclude: Collection[str] = ()) -> str:
        """The URL the strategy picks now, without counting a request in flight."""
        with self._lock:
            candidates = self._candidates(exclude)
            if not candidates:
                raise self._unavailable(exclude)
            return self.strategy.select(candidates).url

    def available(self, *, exclude: Collection[str] = ()) -> list[str]:
        """URLs that may take a request now: healthy, not ejected, breaker not open."""
        with self._lock:
            return [s.url for s in self._candidates(exclude)]

    def report_health(self, url: str, ok: bool, detail: str = "") -> None:
        """Record one active health check of ``url``; thresholds decide when health flips."""
        with self._lock:
            state = self._state_for(url)
            if ok:
                state.health_failures = 0
                state.health_passes += 1
                if state.health_passes >= self.health.healthy_threshold:
                    state.healthy = True
                return
            state.health_passes = 0
            state.health_failures += 1
            state.last_error = detail or "health check failed"
            if state.health_failures >= self.health.unhealthy_threshold:
                state.healthy = False

    def _state_for(self, url: str) -> _State:
        state = self._by_url.get(url.rstrip("/"))
        if state is None:
            raise ValidationError(f"upstream {url!r} is not one of {self.urls}")
        return state

    def status(self) -> tuple[UpstreamStatus, ...]:
        """A snapshot of every upstream."""
        with self._lock:
            return tuple(self._status(s, self.clock()) for s in self._states)

    def _status(self, state: _State, now: float) -> UpstreamStatus:
        reason = self._reason(state, now)
        return UpstreamStatus(
            url=state.url,
            weight=state.weight,
            available=not reason,
            healthy=state.healthy,
            in_flight=state.in_flight,
            consecutive_failures=state.consecutive_failures,
            ejected_for=round(max(0.0, state.ejected_until - now), 3),
            ejections=state.ejections,
            breaker=state.breaker.state.value,
            requests=state.requests,
            failures=state.failures,
            reason=reason,
            last_error=state.last_error,
        )

    def _reason(self, state: _State, now: float) -> str:
        last = f" (last error: {state.last_error})" if state.last_error else ""
        if not state.healthy:
            return f"unhealthy: failed {state.health_failures} health checks in a row{last}"
        if now < state.ejected_until:
            left = state.ejected_until - now
            return f"ejected for {left:.1f} s more after consecutive failures{last}"
        return state.breaker.describe()

    def _unavailable(self, exclude: Collection[str]) -> NoHealthyUpstreamError:
        now = self.clock()
        statuses = tuple(self._status(s, now) for s in self._states)
        down = [f"{s.url}: {s.reason}" for s in statuses if s.reason]
        tried = [s.url for s in statuses if not s.reason and s.url in exclude]
        parts = [f"no healthy upstream among {len(statuses)}"]
        if down:
            parts.append("; ".join(down))
        if tried:
            parts.append(f"already tried: {', '.join(tried)}")
        return NoHealthyUpstreamError(" - ".join(parts), statuses)
