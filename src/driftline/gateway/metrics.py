"""The gateway's own Prometheus metrics, in a registry of its own."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from driftline.gateway.balancer import Balancer

__all__ = ["GatewayMetrics"]

# Proxy overhead lives well under a millisecond, so the buckets start there.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _UpstreamCollector(Collector):
    """Upstream state read from the balancer at scrape time, so it is never stale."""

    def __init__(self, balancer: Balancer) -> None:
        self._balancer = balancer

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        statuses = self._balancer.status()
        healthy = GaugeMetricFamily(
            "driftline_gateway_upstream_healthy",
            "1 when the upstream passes its active health checks.",
            labels=["upstream"],
        )
        available = GaugeMetricFamily(
            "driftline_gateway_upstream_available",
            "1 when the upstream may take requests (healthy, not ejected, breaker not open).",
            labels=["upstream"],
        )
        in_flight = GaugeMetricFamily(
            "driftline_gateway_upstream_in_flight",
            "Requests in flight to the upstream.",
            labels=["upstream"],
        )
        breaker_open = GaugeMetricFamily(
            "driftline_gateway_upstream_circuit_open",
            "1 when the upstream's circuit breaker is open or half-open.",
            labels=["upstream"],
        )
        ejections = CounterMetricFamily(
            "driftline_gateway_ejections",
            "Passive ejections of the upstream after consecutive failures.",
            labels=["upstream"],
        )
        for s in statuses:
            healthy.add_metric([s.url], float(s.healthy))
            available.add_metric([s.url], float(s.available))
            in_flight.add_metric([s.url], float(s.in_flight))
            breaker_open.add_metric([s.url], float(s.breaker != "closed"))
            ejections.add_metric([s.url], float(s.ejections))
        yield from (healthy, available, in_flight, breaker_open, ejections)


class GatewayMetrics:
    """Requests, retries and latency counted by the gateway, plus upstream state at scrape.

    >>> from prometheus_client import generate_latest
    >>> metrics = GatewayMetrics(Balancer(["http://a:8080"]))
    >>> metrics.requests.labels("http://a:8080", "200").inc()
    >>> text = generate_latest(metrics.registry).decode()
    >>> 'driftline_gateway_requests_total{status="200",upstream="http://a:8080"} 1.0' in text
    True
    >>> 'driftline_gateway_upstream_healthy{upstream="http://a:8080"} 1.0' in text
    True
    """

    def __init__(self, balancer: Balancer, *, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "driftline_gateway_requests",
            "Attempts sent to an upstream, by upstream and status ('error' when none came back).",
            ["upstream", "status"],
            registry=self.registry,
        )
        self.retries = Counter(
            "driftline_gateway_retries",
            "Attempts retried on another upstream, by the upstream that failed and why.",
            ["upstream", "reason"],
            registry=self.registry,
        )
        self.unavailable = Counter(
            "driftline_gateway_no_upstream",
            "Requests answered 503 because no upstream was available.",
            registry=self.registry,
        )
        self.duration = Histogram(
            "driftline_gateway_request_duration_seconds",
            "Time from request to the last byte of the response, retries included.",
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_UpstreamCollector(balancer))
