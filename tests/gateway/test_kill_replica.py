"""Issue 6: kill one of two replicas under load through the gateway; no client request fails."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest

from driftline.gateway import Balancer, Gateway

THREADS = 4
PER_THREAD = 300
KILL_AFTER = 300  # responses, about a quarter of the run


@pytest.mark.slow
def test_killing_one_of_two_replicas_under_load_fails_no_request(spawn, served) -> None:  # type: ignore[no-untyped-def]
    with spawn("a", "b") as (a, b):
        gateway = Gateway(Balancer([a.url, b.url]))  # defaults, health checks running
        statuses: Counter[int] = Counter()
        served_by: Counter[str] = Counter()
        errors: list[str] = []
        lock = threading.Lock()
        killed = threading.Event()
        after_kill: Counter[str] = Counter()

        def load(url: str) -> None:
            body = {"records": [{"x": 0.5}]}
            with httpx.Client(base_url=url, timeout=10.0) as client:
                for _ in range(PER_THREAD):
                    started_after_kill = killed.is_set()
                    try:
                        response = client.post("/v1/models/m/predict", json=body)
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(repr(exc))
                        continue
                    with lock:
                        statuses[response.status_code] += 1
                        served_by[response.json().get("upstream", "?")] += 1
                        if started_after_kill:
                            after_kill[response.json().get("upstream", "?")] += 1
                        done = sum(statuses.values())
                    if done == KILL_AFTER:
                        b.kill()
                        killed.set()

        with served(gateway) as url:
            threads = [threading.Thread(target=load, args=(url,)) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            upstreams = {s.url: s for s in gateway.balancer.status()}
            retried = {
                sample.labels["reason"]: sample.value
                for family in gateway.metrics.retries.collect()
                for sample in family.samples
                if sample.name.endswith("_total") and sample.labels["upstream"] == b.url
            }

    assert errors == []
    assert statuses == {200: THREADS * PER_THREAD}
    assert killed.is_set()
    assert served_by["b"] >= KILL_AFTER // 4  # b took its share before it died
    # Every request sent once b was dead was answered by a, and most of the run was.
    assert after_kill["b"] == 0
    assert after_kill["a"] >= (THREADS * PER_THREAD - KILL_AFTER) // 2
    dead = upstreams[b.url]
    assert not dead.available and dead.failures >= 1
    # the requests that hit the dead replica were retried on a, not failed
    assert sum(retried.values()) >= 1, retried
