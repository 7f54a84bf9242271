"""The gateway over real HTTP: replicas in their own processes, the gateway on uvicorn."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from scipy import stats

from driftline.gateway import (
    Balancer,
    BreakerPolicy,
    EjectionPolicy,
    Gateway,
    HealthCheck,
    RetryPolicy,
    Upstream,
)

PREDICT = "/v1/models/m/predict"
BODY = {"records": [{"x": 1.0}, {"x": 2.0}]}


def make_gateway(urls: list[Any], **balancer_kwargs: Any) -> Gateway:
    """A gateway without background health checks (tests drive them)."""
    gateway_kwargs = {
        k: balancer_kwargs.pop(k)
        for k in ("max_body_bytes", "health_checks")
        if k in balancer_kwargs
    }
    gateway_kwargs.setdefault("health_checks", False)
    return Gateway(Balancer(urls, **balancer_kwargs), **gateway_kwargs)


def upstream_counts(client: httpx.Client, n: int, path: str = PREDICT) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _ in range(n):
        response = client.post(path, json=BODY)
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == [0, 0]
        counts[response.headers["x-driftline-upstream"]] += 1
    return counts


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise KeyError(f"{name} {labels} not in the scrape")


@pytest.mark.parametrize(
    ("strategy", "weights", "check"),
    [
        ("round_robin", (1, 1, 1), lambda c: sorted(c.values()) == [20, 20, 20]),
        ("weighted", (4, 1, 1), lambda c: sorted(c.values()) == [10, 10, 40]),
        ("least_connections", (1, 1, 1), lambda c: sorted(c.values()) == [20, 20, 20]),
        ("random", (1, 1, 1), lambda c: stats.chisquare(list(c.values())).pvalue > 0.001),
    ],
    ids=["round_robin", "weighted", "least_connections", "random"],
)
def test_each_strategy_spreads_requests(replicas, served, strategy, weights, check) -> None:  # type: ignore[no-untyped-def]
    upstreams = [Upstream(r.url, w) for r, w in zip(replicas, weights, strict=True)]
    gateway = make_gateway(upstreams, strategy=strategy, seed=5)
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        counts = upstream_counts(client, 60)
    assert set(counts) == {r.url for r in replicas}
    assert check(counts), counts
    # what the gateway reports is what the replicas themselves counted
    assert {r.url: r.served() for r in replicas} == dict(counts)


def test_retry_on_503_goes_to_another_replica(replicas, served) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    b.control(fail_status=503)
    gateway = make_gateway([b.url, a.url], ejection=EjectionPolicy(consecutive_failures=100))
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        counts = upstream_counts(client, 10)
        scrape = client.get("/metrics").text
        upstreams = client.get("/gateway/upstreams").json()["upstreams"]
    assert counts == {a.url: 10}
    assert a.served() == 10
    # The retry takes a turn of the rotation too (as in Envoy), so with two upstreams every
    # first attempt lands on b, fails and is retried on a.
    assert metric(scrape, "driftline_gateway_retries_total", upstream=b.url, reason="503") == 10
    assert metric(scrape, "driftline_gateway_requests_total", upstream=b.url, status="503") == 10
    b_state = next(u for u in upstreams if u["url"] == b.url)
    assert b_state["failures"] == 10 and b_state["last_error"] == "answered 503"


@pytest.mark.parametrize("status", [502, 504])
def test_retry_on_502_and_504(replicas, served, status: int) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    b.control(fail_status=status)
    gateway = make_gateway([b.url, a.url])
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        assert upstream_counts(client, 2) == {a.url: 2}
    assert gateway.balancer.status()[0].last_error == f"answered {status}"


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (b"", "RemoteProtocolError: server disconnected without sending a response"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{", "ReadError: server closed"),
    ],
    ids=["dies-before-answering", "dies-mid-body"],
)
def test_replica_dying_during_a_request_is_retried(replicas, served, broken, answer, kind) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]
    with broken(answer) as dying:
        gateway = make_gateway([dying, a.url])
        with served(gateway) as url, httpx.Client(base_url=url) as client:
            assert upstream_counts(client, 4) == {a.url: 4}
        status = gateway.balancer.status()[0]
    assert status.failures == 4 and status.last_error.startswith(kind)


def test_retry_on_connection_refused_then_ejection(replicas, served, dead_url) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]
    gateway = make_gateway([dead_url, a.url], ejection=EjectionPolicy(consecutive_failures=3))
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        counts = upstream_counts(client, 12)
        upstreams = {u["url"]: u for u in client.get("/gateway/upstreams").json()["upstreams"]}
    assert counts == {a.url: 12}
    dead = upstreams[dead_url]
    assert dead["ejections"] == 1 and not dead["available"]
    assert dead["failures"] == 3  # ejected after 3: no more attempts on it
    assert "ConnectError" in dead["reason"]


def test_no_retry_for_methods_left_out_of_the_policy(replicas, served) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    b.control(fail_status=503)
    policy = RetryPolicy(methods=frozenset({"GET"}))
    gateway = make_gateway([b.url, a.url], retry=policy)
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        first = client.post(PREDICT, json=BODY)
        second = client.post(PREDICT, json=BODY)
    assert (first.status_code, first.headers["x-driftline-upstream"]) == (503, b.url)
    assert first.json() == {"error": "b is failing"}
    assert (second.status_code, second.headers["x-driftline-upstream"]) == (200, a.url)


def test_passive_ejection_and_recovery(replicas, served, clock) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    gateway = make_gateway(
        [a.url, b.url],
        ejection=EjectionPolicy(consecutive_failures=2, cooldown=10.0),
        breaker=BreakerPolicy(window=100, min_calls=100),
        clock=clock,
    )
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        b.control(fail_status=503)
        assert upstream_counts(client, 4) == {a.url: 4}  # b failed twice, retried on a
        status = {s.url: s for s in gateway.balancer.status()}
        assert status[b.url].ejections == 1 and status[b.url].failures == 2
        assert upstream_counts(client, 6) == {a.url: 6}
        assert gateway.balancer.status()[1].failures == 2  # ejected: not even tried
        b.control(fail_status=0)
        clock.advance(9.9)
        assert upstream_counts(client, 2) == {a.url: 2}
        clock.advance(0.1)
        assert upstream_counts(client, 4) == {a.url: 2, b.url: 2}


def test_circuit_breaker_opens_and_probes_through_the_gateway(replicas, served, clock) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    gateway = make_gateway(
        [a.url, b.url],
        breaker=BreakerPolicy(failure_rate=0.5, window=4, min_calls=4, open_for=30.0),
        ejection=EjectionPolicy(consecutive_failures=100),
        clock=clock,
    )
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        b.control(fail_status=503)
        upstream_counts(client, 8)  # b sees 4 calls, all failing: open
        assert {s.url: s.breaker for s in gateway.balancer.status()}[b.url] == "open"
        assert upstream_counts(client, 4) == {a.url: 4}
        b.control(fail_status=0)
        clock.advance(30)
        assert {s.url: s.breaker for s in gateway.balancer.status()}[b.url] == "half_open"
        counts = upstream_counts(client, 4)
        assert counts[b.url] >= 1
        assert {s.url: s.breaker for s in gateway.balancer.status()}[b.url] == "closed"


def test_all_down_gives_a_503_naming_the_reason(served, dead_url) -> None:  # type: ignore[no-untyped-def]
    other_dead = dead_url.rsplit(":", 1)[0] + ":9"  # the discard port: nothing listens
    gateway = make_gateway(
        [dead_url, other_dead],
        health=HealthCheck(unhealthy_threshold=1, timeout=0.5),
        health_checks=True,  # startup runs a round of checks: both fail
    )
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        response = client.post(PREDICT, json=BODY)
        health = client.get("/gateway/health")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == "no healthy upstream"
    assert dead_url in body["reason"] and other_dead in body["reason"]
    assert "failed 1 health checks" in body["reason"]
    assert {u["url"] for u in body["upstreams"]} == {dead_url, other_dead}
    assert all("ConnectError" in u["reason"] for u in body["upstreams"])
    assert health.status_code == 503 and health.json()["available"] == 0


def test_exhausted_retries_give_a_502_with_each_attempt(served, dead_url) -> None:  # type: ignore[no-untyped-def]
    gateway = make_gateway([dead_url])
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        response = client.post(PREDICT, json=BODY)
    assert response.status_code == 502
    assert response.json()["error"] == "bad gateway"
    assert f"{dead_url}: ConnectError" in response.json()["reason"]


def test_health_checks_take_an_unready_replica_out_and_back(replicas) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    gateway = make_gateway(
        [a.url, b.url], health=HealthCheck(healthy_threshold=2, unhealthy_threshold=2)
    )

    async def scenario() -> list[Any]:
        seen: list[Any] = []
        transport = httpx.ASGITransport(gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            b.control(ready=False)
            seen.append(await gateway.health.check_once())
            seen.append(gateway.balancer.available())
            seen.append(await gateway.health.check_once())
            seen.append(gateway.balancer.available())
            responses = [await client.post(PREDICT, json=BODY) for _ in range(4)]
            seen.append({r.headers["x-driftline-upstream"] for r in responses})
            b.control(ready=True)
            await gateway.health.check_once()
            seen.append(gateway.balancer.available())
            await gateway.health.check_once()
            seen.append(gateway.balancer.available())
        await gateway.shutdown()
        return seen

    seen = asyncio.run(scenario())
    assert seen[0] == {a.url: True, b.url: False}
    assert seen[1] == [a.url, b.url]  # one failed check is under the threshold
    assert seen[3] == [a.url]
    assert seen[4] == {a.url}
    assert seen[5] == [a.url] and seen[6] == [a.url, b.url]
    reason = next(s for s in gateway.balancer.status() if s.url == b.url).last_error
    assert reason == "health check /health/ready answered 503"


def test_hop_by_hop_headers_are_not_forwarded(replicas, served) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]
    gateway = make_gateway([a.url])
    sent = {
        "Connection": "keep-alive, X-Per-Hop",
        "X-Per-Hop": "drop me",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Proxy-Authorization": "Basic c2VjcmV0",
        "X-Request-Id": "abc-123",
        "Authorization": "Bearer end-to-end",
    }
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        response = client.get("/echo?x=1", headers=sent)
    assert response.status_code == 200
    received = dict(response.json()["headers"])
    for name in ("x-per-hop", "keep-alive", "te", "proxy-authorization"):
        assert name not in received
    assert "connection" not in received
    assert received["x-request-id"] == "abc-123"
    assert received["authorization"] == "Bearer end-to-end"
    assert received["host"] == a.url.removeprefix("http://")
    assert received["x-forwarded-for"] == "127.0.0.1"
    assert received["x-forwarded-host"] == url.removeprefix("http://")
    # and on the way back
    direct = httpx.get(a.url + "/echo")
    assert direct.headers["keep-alive"] == "timeout=99"
    assert "keep-alive" not in response.headers and "proxy-authenticate" not in response.headers
    assert response.headers["x-replica"] == "a"


def test_metrics_expose_the_counters(replicas, served, dead_url) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]
    gateway = make_gateway([dead_url, a.url], ejection=EjectionPolicy(consecutive_failures=2))
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        upstream_counts(client, 6)
        scrape = client.get("/metrics")
    assert scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    assert metric(text, "driftline_gateway_requests_total", upstream=a.url, status="200") == 6
    assert metric(text, "driftline_gateway_requests_total", upstream=dead_url, status="error") == 2
    assert metric(text, "driftline_gateway_retries_total", upstream=dead_url, reason="connect") == 2
    assert metric(text, "driftline_gateway_ejections_total", upstream=dead_url) == 1
    assert metric(text, "driftline_gateway_upstream_healthy", upstream=a.url) == 1
    assert metric(text, "driftline_gateway_upstream_available", upstream=dead_url) == 0
    assert metric(text, "driftline_gateway_request_duration_seconds_count") == 6
    assert metric(text, "driftline_gateway_no_upstream_total") == 0


def test_streamed_and_head_and_large_bodies(replicas, served) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]
    gateway = make_gateway([a.url], max_body_bytes=1000)
    with served(gateway) as url, httpx.Client(base_url=url) as client:
        streamed = client.get("/stream")
        head = client.head("/health/ready")
        after_head = client.get("/health/ready")
        too_big = client.post(PREDICT, content=b"x" * 1001)
        upstreams = client.get("/gateway/upstreams").json()
    assert streamed.status_code == 200 and streamed.text == "one,two,three"
    assert "content-length" not in streamed.headers  # relayed as a stream, chunk by chunk
    assert head.status_code == 200 and head.content == b""
    assert after_head.json() == {"ready": True}
    assert too_big.status_code == 413 and "1000 bytes" in too_big.json()["reason"]
    assert upstreams["strategy"] == "round_robin"
    assert upstreams["upstreams"][0]["requests"] == 3
