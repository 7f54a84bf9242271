"""driftline.client.Client against real replicas: the seed's surface, retries, health."""

from __future__ import annotations

from collections import Counter

import pytest

from driftline.client import Client
from driftline.exceptions import NotFoundError, UnavailableError, ValidationError
from driftline.gateway import EjectionPolicy, NoHealthyUpstreamError

ROWS = [{"x": 1.0}, {"x": 2.0}, {"x": 3.0}]


def test_round_robin_predict_and_seed_surface(replicas) -> None:  # type: ignore[no-untyped-def]
    urls = [r.url for r in replicas]
    with Client(endpoints=urls, strategy="round_robin") as client:
        assert client.health_check(urls[0]) is True
        assert client.update_health_status() == dict.fromkeys(urls, True)
        assert client.get_healthy_servers() == urls
        assert client.select_server() in urls
        answers = [client.predict("m", ROWS) for _ in range(6)]
        response = client.make_request("POST", "/v1/models/m/predict", json={"records": ROWS})
        columnar = client.predict("m", {"x": [1.0, 2.0]}, key="user-7")
    assert all(answer["predictions"] == [0, 0, 0] for answer in answers)
    assert Counter(answer["upstream"] for answer in answers) == {"a": 2, "b": 2, "c": 2}
    assert response.status_code == 200 and response.json()["predictions"] == [0, 0, 0]
    assert columnar["predictions"] == [0, 0] and columnar["key"] == "user-7"
    assert sum(r.served() for r in replicas) == 8


def test_retries_on_503_and_connection_refused(replicas, dead_url) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    b.control(fail_status=503)
    with Client(
        [dead_url, b.url, a.url], ejection=EjectionPolicy(consecutive_failures=50)
    ) as client:
        answers = [client.predict("m", ROWS) for _ in range(6)]
        status = {s.url: s for s in client.status()}
    assert {answer["upstream"] for answer in answers} == {"a"}
    assert a.served() == 6 and b.served() == 0
    assert status[dead_url].failures >= 1 and "ConnectError" in status[dead_url].last_error
    assert status[b.url].failures >= 1 and status[b.url].last_error == "answered 503"


def test_health_status_takes_replicas_out_and_back(replicas) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    with Client([a.url, b.url]) as client:
        b.control(ready=False)
        assert client.health_check(b.url) is False
        assert client.update_health_status() == {a.url: True, b.url: False}
        assert client.get_healthy_servers() == [a.url]
        assert {client.select_server() for _ in range(4)} == {a.url}
        assert {client.predict("m", ROWS)["upstream"] for _ in range(4)} == {"a"}
        b.control(ready=True)
        client.update_health_status()
        assert client.get_healthy_servers() == [a.url, b.url]


def test_health_is_rechecked_lazily_on_the_interval(replicas, clock) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    with Client([a.url, b.url], health_interval=5.0, clock=clock) as client:
        assert client.get_healthy_servers() == [a.url, b.url]  # first use checks
        b.control(ready=False)
        clock.advance(4.9)
        assert client.get_healthy_servers() == [a.url, b.url]  # not due yet
        clock.advance(0.1)
        assert client.get_healthy_servers() == [a.url]


def test_all_down_and_every_attempt_failing(dead_url) -> None:  # type: ignore[no-untyped-def]
    other = dead_url.rsplit(":", 1)[0] + ":9"
    with Client([dead_url, other]) as client:
        with pytest.raises(UnavailableError, match="every attempt failed") as caught:
            client.make_request("GET", "/v1/models")
        assert dead_url in str(caught.value) and other in str(caught.value)
        assert client.update_health_status() == {dead_url: False, other: False}
        assert client.get_healthy_servers() == []
        with pytest.raises(NoHealthyUpstreamError, match="no healthy upstream among 2"):
            client.select_server()
        with pytest.raises(NoHealthyUpstreamError, match="unhealthy"):
            client.predict("m", ROWS)


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, NotFoundError), (422, ValidationError), (500, UnavailableError)],
    ids=["404", "422", "500"],
)
def test_predict_errors_name_the_model(replicas, status: int, error: type) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]
    a.control(fail_status=status)
    with Client([a.url]) as client, pytest.raises(error, match=f"model 'm' answered {status}"):
        client.predict("m", ROWS)


def test_closed_client_refuses_requests(replicas) -> None:  # type: ignore[no-untyped-def]
    client = Client([replicas[0].url])
    with client:
        client.predict("m", ROWS)
    with pytest.raises(RuntimeError, match="closed"):
        client.make_request("GET", "/health/ready")
