"""The knobs of the balancer, as frozen dataclasses: upstreams, health checks, ejection, retries."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from driftline.exceptions import ValidationError

__all__ = ["BreakerPolicy", "EjectionPolicy", "HealthCheck", "RetryPolicy", "Upstream"]

# Methods a client may safely send twice. POST is included because every driftline POST
# (predict, invocations, infer, feedback by prediction_id) can be repeated without harm;
# drop it with RetryPolicy(methods=...) when a gateway fronts something else.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST"})


@dataclass(frozen=True)
class Upstream:
    """One replica: its base URL and its weight for the weighted strategies.

    >>> Upstream.parse("http://127.0.0.1:8081/=3")
    Upstream(url='http://127.0.0.1:8081', weight=3)
    """

    url: str
    weight: int = 1

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(
                f"upstream {self.url!r} is not an http(s) URL; give one like http://10.0.0.5:8080"
            )
        try:
            parts.port  # noqa: B018 - urlsplit checks the port only when asked
        except ValueError:
            raise ValidationError(f"upstream {self.url!r} has an invalid port") from None
        if parts.query or parts.fragment:
            raise ValidationError(f"upstream {self.url!r}: a base URL has no query or fragment")
        if not isinstance(self.weight, int) or self.weight < 1:
            raise ValidationError(f"upstream {self.url!r}: weight must be an integer >= 1")
        object.__setattr__(self, "url", self.url.rstrip("/"))

    @classmethod
    def parse(cls, text: str) -> Upstream:
        """``URL`` or ``URL=WEIGHT`` (the form the CLI takes)."""
        url, sep, weight = text.strip().rpartition("=")
        if sep and weight.isdigit() and "?" not in url:
            return cls(url, int(weight))
        return cls(text.strip())


def _positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValidationError(f"{owner}: {name} must be > 0, got {value!r}")


@dataclass(frozen=True)
class HealthCheck:
    """Active checks: GET ``path`` on every upstream each ``interval`` seconds.

    An upstream turns unhealthy after ``unhealthy_threshold`` failed checks in a row (non-2xx,
    error or slower than ``timeout``) and healthy again after ``healthy_threshold`` passes.

    >>> HealthCheck(path="/v2/health/ready", interval=5.0).unhealthy_threshold
    2
    """

    path: str = "/health/ready"
    interval: float = 2.0
    timeout: float = 1.0
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValidationError(f"health check path {self.path!r} must start with '/'")
        _positive("health check", interval=self.interval, timeout=self.timeout)
        _positive(
            "health check",
            healthy_threshold=self.healthy_threshold,
            unhealthy_threshold=self.unhealthy_threshold,
        )


@dataclass(frozen=True)
class EjectionPolicy:
    """Passive ejection: ``consecutive_failures`` failed requests in a row take an upstream out.

    The n-th ejection in a row lasts ``cooldown * multiplier ** (n - 1)`` seconds, capped at
    ``max_cooldown``; the count starts over once an upstream has stayed in for ``max_cooldown``.

    >>> policy = EjectionPolicy(cooldown=5.0, multiplier=2.0, max_cooldown=30.0)
    >>> [policy.duration(n) for n in (1, 2, 3, 4)]
    [5.0, 10.0, 20.0, 30.0]
    """

    consecutive_failures: int = 5
    cooldown: float = 5.0
    multiplier: float = 2.0
    max_cooldown: float = 120.0

    def __post_init__(self) -> None:
        _positive(
            "ejection",
            consecutive_failures=self.consecutive_failures,
            cooldown=self.cooldown,
            max_cooldown=self.max_cooldown,
        )
        if self.multiplier < 1:
            raise ValidationError(f"ejection: multiplier must be >= 1, got {self.multiplier!r}")

    def duration(self, level: int) -> float:
        """Seconds out for the ``level``-th ejection in a row (1-based)."""
        return float(min(self.cooldown * self.multiplier ** (level - 1), self.max_cooldown))


@dataclass(frozen=True)
class BreakerPolicy:
    """Circuit breaker: open when ``failure_rate`` of the last ``window`` calls failed.

    It needs at least ``min_calls`` calls to judge, stays open ``open_for`` seconds, then lets
    ``half_open_probes`` requests through; they all succeed and it closes, one fails and it
    opens again.

    >>> BreakerPolicy(failure_rate=0.25, window=40, min_calls=20).open_for
    10.0
    """

    failure_rate: float = 0.5
    window: int = 20
    min_calls: int = 10
    open_for: float = 10.0
    half_open_probes: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.failure_rate <= 1:
            raise ValidationError(
                f"circuit breaker: failure_rate must be in (0, 1], got {self.failure_rate!r}"
            )
        _positive("circuit breaker", window=self.window, open_for=self.open_for)
        _positive("circuit breaker", half_open_probes=self.half_open_probes)
        if not 1 <= self.min_calls <= self.window:
            raise ValidationError(
                f"circuit breaker: min_calls must be between 1 and window ({self.window})"
            )


@dataclass(frozen=True)
class RetryPolicy:
    """Which failed attempts are tried again on another upstream, and how many times.

    ``attempts`` counts the first try. A response whose status is in ``statuses`` counts as an
    upstream failure (for ejection and the breaker) and is retried when the method is in
    ``methods``. A connection that could not be opened is retried for any method, since the
    request never left; a read timeout only when ``on_timeout`` is set, since the upstream may
    still be working on it.

    >>> policy = RetryPolicy(attempts=2, methods=frozenset({"GET", "HEAD"}))
    >>> policy.retries("GET"), policy.retries("POST"), 503 in policy.statuses
    (True, False, True)
    """

    attempts: int = 3
    statuses: frozenset[int] = frozenset({502, 503, 504})
    methods: frozenset[str] = field(default=_SAFE_METHODS)
    on_timeout: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.attempts, int) or self.attempts < 1:
            raise ValidationError(f"retry: attempts must be an integer >= 1, got {self.attempts!r}")
        object.__setattr__(self, "statuses", frozenset(self.statuses))
        object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))

    def retries(self, method: str) -> bool:
        """Whether a request with ``method`` may be sent again after it may have arrived."""
        return method in self.methods
