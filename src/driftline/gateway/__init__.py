"""The gateway: a load balancer in front of N serving replicas, and the balancer it runs on.

``Balancer`` is the I/O-free core (upstream state, health thresholds, passive ejection with
back-off, a circuit breaker per upstream, strategies, retry policy); ``Gateway`` is the ASGI
reverse proxy built on it (``driftline gateway``); :class:`driftline.client.Client` is the
same balancer inside a Python client. The gateway talks to replicas over HTTP only.
"""

from __future__ import annotations

from driftline.gateway.app import Gateway
from driftline.gateway.balancer import Balancer, Lease, NoHealthyUpstreamError, UpstreamStatus
from driftline.gateway.breaker import BreakerState, CircuitBreaker
from driftline.gateway.health import HealthChecker
from driftline.gateway.metrics import GatewayMetrics
from driftline.gateway.policies import (
    BreakerPolicy,
    EjectionPolicy,
    HealthCheck,
    RetryPolicy,
    Upstream,
)
from driftline.gateway.strategies import (
    STRATEGIES,
    LeastConnections,
    Random,
    RoundRobin,
    Strategy,
    Weighted,
    make_strategy,
)
from driftline.gateway.transport import Http1Transport

__all__ = [
    "STRATEGIES",
    "Balancer",
    "BreakerPolicy",
    "BreakerState",
    "CircuitBreaker",
    "EjectionPolicy",
    "Gateway",
    "GatewayMetrics",
    "HealthCheck",
    "HealthChecker",
    "Http1Transport",
    "Lease",
    "LeastConnections",
    "NoHealthyUpstreamError",
    "Random",
    "RetryPolicy",
    "RoundRobin",
    "Strategy",
    "Upstream",
    "UpstreamStatus",
    "Weighted",
    "make_strategy",
]
