"""The balancer's state machine, with an injected clock: no I/O, no sleeping."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from scipy import stats

import driftline.gateway as gateway
from driftline.exceptions import UnavailableError, ValidationError
from driftline.gateway import (
    Balancer,
    BreakerPolicy,
    BreakerState,
    CircuitBreaker,
    EjectionPolicy,
    HealthCheck,
    NoHealthyUpstreamError,
    Random,
    RetryPolicy,
    Upstream,
)

A, B, C = "http://a:1", "http://b:1", "http://c:1"


def picks(balancer: Balancer, n: int) -> list[str]:
    out = []
    for _ in range(n):
        lease = balancer.acquire()
        out.append(lease.url)
        balancer.release(lease, failed=False)
    return out


def fail(balancer: Balancer, url: str, times: int) -> None:
    for _ in range(times):
        lease = balancer.acquire(exclude=[u for u in balancer.urls if u != url])
        balancer.release(lease, failed=True, error="answered 503")


def test_public_names() -> None:
    assert set(gateway.__all__) >= {
        "Balancer",
        "Gateway",
        "CircuitBreaker",
        "RoundRobin",
        "LeastConnections",
        "Weighted",
        "Random",
        "RetryPolicy",
        "HealthCheck",
        "EjectionPolicy",
        "BreakerPolicy",
        "NoHealthyUpstreamError",
        "Http1Transport",
    }
    for name in gateway.__all__:
        assert getattr(gateway, name) is not None
    import driftline.client

    assert driftline.client.__all__ == ["Client"]


def test_round_robin_is_exactly_even() -> None:
    counts = Counter(picks(Balancer([A, B, C]), 300))
    assert counts == {A: 100, B: 100, C: 100}


def test_smooth_weighted_matches_nginx_sequence_and_proportions() -> None:
    # The sequence nginx documents for its smooth weighted round robin with weights 5, 1, 1.
    balancer = Balancer([Upstream(A, 5), Upstream(B, 1), Upstream(C, 1)], strategy="weighted")
    sequence = picks(balancer, 7)
    assert sequence == [A, A, B, A, C, A, A]
    counts = Counter(picks(balancer, 700))
    assert counts == {A: 500, B: 100, C: 100}


def test_weight_parsed_from_the_cli_form() -> None:
    balancer = Balancer([f"{A}=3", B], strategy="weighted")
    assert Counter(picks(balancer, 400)) == {A: 300, B: 100}


def test_least_connections_picks_the_least_loaded_and_spreads_ties() -> None:
    balancer = Balancer([A, B, C], strategy="least_connections")
    held = [balancer.acquire() for _ in range(3)]  # all idle: the tie goes round
    assert sorted(lease.url for lease in held) == [A, B, C]
    for lease in held:
        balancer.release(lease, failed=False)
    on_a = [balancer.acquire(exclude=[B, C]) for _ in range(2)]
    on_b = balancer.acquire(exclude=[A, C])
    assert balancer.acquire().url == C  # loads 2, 1, 0
    assert balancer.acquire().url in (B, C)  # loads 2, 1, 1
    for lease in [*on_a, on_b]:
        balancer.release(lease, failed=False)
    assert balancer.acquire().url == A  # now idle while B or C holds one


def test_least_connections_divides_load_by_weight() -> None:
    balancer = Balancer([Upstream(A, 4), Upstream(B, 1)], strategy="least_connections")
    held = [balancer.acquire() for _ in range(5)]
    assert Counter(lease.url for lease in held) == {A: 4, B: 1}


def test_random_is_uniform_by_chi_square_and_repeatable_with_a_seed() -> None:
    first = picks(Balancer([A, B, C], strategy="random", seed=3), 3000)
    again = picks(Balancer([A, B, C], strategy="random", seed=3), 3000)
    assert first == again
    counts = Counter(first)
    result = stats.chisquare([counts[A], counts[B], counts[C]])
    assert result.pvalue > 0.001
    assert min(counts.values()) > 850


def test_random_follows_weights_with_an_injected_rng() -> None:
    balancer = Balancer([Upstream(A, 3), Upstream(B, 1)], strategy=Random(rng=random.Random(11)))
    counts = Counter(picks(balancer, 4000))
    result = stats.chisquare([counts[A], counts[B]], f_exp=[3000, 1000])
    assert result.pvalue > 0.001


def test_passive_ejection_backs_off_exponentially_and_recovers(clock) -> None:  # type: ignore[no-untyped-def]
    policy = EjectionPolicy(consecutive_failures=3, cooldown=5.0, multiplier=2.0, max_cooldown=60)
    lenient = BreakerPolicy(window=1000, min_calls=1000)  # keep the breaker out of this test
    balancer = Balancer([A, B], ejection=policy, breaker=lenient, clock=clock)
    fail(balancer, A, 2)
    assert balancer.available() == [A, B]  # two in a row: not yet
    fail(balancer, A, 1)
    assert balancer.available() == [B]
    status = {s.url: s for s in balancer.status()}[A]
    assert status.ejections == 1 and status.ejected_for == pytest.approx(5.0)
    assert "ejected" in status.reason and "answered 503" in status.reason
    clock.advance(5.0)
    assert balancer.available() == [A, B]  # back after the cool-down
    fail(balancer, A, 3)  # fails again right away: twice as long
    clock.advance(9.9)
    assert balancer.available() == [B]
    clock.advance(0.1)
    assert balancer.available() == [A, B]
    # a success resets the consecutive count
    fail(balancer, A, 2)
    lease = balancer.acquire(exclude=[B])
    balancer.release(lease, failed=False)
    fail(balancer, A, 2)
    assert balancer.available() == [A, B]
    # a long healthy stay resets the back-off level (two failures are already counted)
    clock.advance(61)
    fail(balancer, A, 1)
    assert balancer.available() == [B]
    assert {s.url: s for s in balancer.status()}[A].ejected_for == pytest.approx(5.0)


def test_health_thresholds(clock) -> None:  # type: ignore[no-untyped-def]
    balancer = Balancer(
        [A, B], health=HealthCheck(healthy_threshold=2, unhealthy_threshold=3), clock=clock
    )
    for _ in range(2):
        balancer.report_health(A, False, "answered 503")
    assert A in balancer.available()
    balancer.report_health(A, True)  # a pass in between starts the count over
    for _ in range(2):
        balancer.report_health(A, False, "answered 503")
    assert A in balancer.available()
    balancer.report_health(A, False, "answered 503")
    assert balancer.available() == [B]
    balancer.report_health(A, True)
    assert balancer.available() == [B]
    balancer.report_health(A, True)
    assert balancer.available() == [A, B]
    with pytest.raises(ValidationError, match="http://z:1"):
        balancer.report_health("http://z:1", True)


def test_circuit_breaker_transitions(clock) -> None:  # type: ignore[no-untyped-def]
    policy = BreakerPolicy(failure_rate=0.5, window=10, min_calls=4, open_for=30.0)
    breaker = CircuitBreaker(policy, clock=clock)
    for failed in (True, True, True):  # too few calls to judge
        breaker.record(breaker.start(), failed=failed)
    assert breaker.state is BreakerState.CLOSED
    breaker.record(breaker.start(), failed=False)  # 3 of 4 failed: 75% but the last succeeded
    assert breaker.state is BreakerState.CLOSED
    breaker.record(breaker.start(), failed=True)  # 4 of 5
    assert breaker.state is BreakerState.OPEN and not breaker.allows()
    assert "circuit open for 30.0 s" in breaker.describe()
    clock.advance(29.9)
    assert breaker.state is BreakerState.OPEN
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN and breaker.allows()
    probe = breaker.start()
    assert probe and not breaker.allows()  # one probe at a time
    breaker.record(probe, failed=True)
    assert breaker.state is BreakerState.OPEN and breaker.times_opened == 2
    clock.advance(30)
    probe = breaker.start()
    breaker.record(probe, failed=False)
    assert breaker.state is BreakerState.CLOSED and breaker.failure_rate == 0.0


def test_breaker_blocks_an_upstream_in_the_balancer(clock) -> None:  # type: ignore[no-untyped-def]
    balancer = Balancer(
        [A, B],
        breaker=BreakerPolicy(failure_rate=0.5, window=4, min_calls=4, open_for=10),
        ejection=EjectionPolicy(consecutive_failures=100),
        clock=clock,
    )
    for failed in (True, False, True, True):
        lease = balancer.acquire(exclude=[B])
        balancer.release(lease, failed=failed)
    assert balancer.available() == [B]
    assert {s.url: s.breaker for s in balancer.status()} == {A: "open", B: "closed"}
    clock.advance(10)
    probe = balancer.acquire(exclude=[B])
    assert probe.url == A and probe.probe
    assert balancer.available() == [B]  # its probe is in flight
    balancer.release(probe, failed=False)
    assert balancer.available() == [A, B]


def test_no_upstream_names_every_reason(clock) -> None:  # type: ignore[no-untyped-def]
    balancer = Balancer([A, B], ejection=EjectionPolicy(consecutive_failures=1), clock=clock)
    balancer.report_health(A, False, "ConnectError: connection refused")
    balancer.report_health(A, False, "ConnectError: connection refused")
    fail(balancer, B, 1)
    with pytest.raises(NoHealthyUpstreamError) as caught:
        balancer.acquire()
    message = str(caught.value)
    assert isinstance(caught.value, UnavailableError)
    assert f"{A}: unhealthy" in message and "connection refused" in message
    assert f"{B}: ejected" in message
    assert [s.available for s in caught.value.upstreams] == [False, False]


def test_release_twice_counts_once() -> None:
    balancer = Balancer([A])
    lease = balancer.acquire()
    balancer.release(lease, failed=True)
    balancer.release(lease, failed=True)
    (status,) = balancer.status()
    assert status.in_flight == 0 and status.failures == 1


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"upstreams": []}, "at least one"),
        ({"upstreams": ["ftp://a"]}, "'ftp://a' is not an http(s) URL"),
        ({"upstreams": [A, A + "/"]}, "each URL may appear once"),
        ({"upstreams": ["http://a:99999"]}, "'http://a:99999' has an invalid port"),
        ({"upstreams": ["http://a:1=0"]}, "weight must be"),
        ({"upstreams": [A], "strategy": "fastest"}, "strategy 'fastest'"),
    ],
    ids=["empty", "scheme", "duplicate", "port", "weight", "strategy"],
)
def test_bad_configuration_is_named(kwargs: dict, fragment: str) -> None:
    upstreams = kwargs.pop("upstreams", [A])
    with pytest.raises(ValidationError, match=re.escape(fragment)):
        Balancer(upstreams, **kwargs)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: HealthCheck(path="health"), "must start with '/'"),
        (lambda: HealthCheck(interval=0), "interval must be > 0"),
        (lambda: BreakerPolicy(failure_rate=1.5), "failure_rate"),
        (lambda: BreakerPolicy(window=5, min_calls=6), "min_calls"),
        (lambda: RetryPolicy(attempts=0), "attempts"),
        (lambda: EjectionPolicy(multiplier=0.5), "multiplier"),
    ],
    ids=["path", "interval", "rate", "min_calls", "attempts", "multiplier"],
)
def test_bad_policies_are_named(make, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=fragment):
        make()


def test_retry_policy_methods() -> None:
    policy = RetryPolicy(methods=frozenset({"get"}))
    assert policy.retries("GET") and not policy.retries("POST")
    assert RetryPolicy().retries("POST") and not RetryPolicy().retries("PATCH")
