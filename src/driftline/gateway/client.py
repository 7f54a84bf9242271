"""A Python client that balances requests over serving replicas itself, like the gateway.

Users import it as :class:`driftline.client.Client`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from driftline.exceptions import NotFoundError, UnavailableError, ValidationError
from driftline.gateway._attempts import counts_against_upstream, describe_error, may_retry_error
from driftline.gateway.balancer import Balancer, NoHealthyUpstreamError, UpstreamStatus
from driftline.gateway.policies import (
    BreakerPolicy,
    EjectionPolicy,
    HealthCheck,
    RetryPolicy,
    Upstream,
)
from driftline.gateway.strategies import Strategy

__all__ = ["Client"]


class Client:
    """Synchronous client over several replicas: health checks, ejection, retries elsewhere.

    ``strategy`` is one of ``round_robin``, ``least_connections``, ``weighted``, ``random``.
    With ``health_interval`` set, the replicas are checked again whenever that many seconds
    have passed (no background thread); ``update_health_status()`` checks them on demand, and
    a single failed check marks a replica down. ``transport`` is any ``httpx.BaseTransport``.

    >>> import httpx
    >>> def replica(request):
    ...     return httpx.Response(200, json={"predictions": [1], "host": request.url.host})
    >>> mock = httpx.MockTransport(replica)
    >>> with Client(["http://a:8080", "http://b:8080"], transport=mock) as client:
    ...     hosts = [client.predict("fraud", [{"x": 1}])["host"] for _ in range(3)]
    ...     healthy = client.get_healthy_servers()
    >>> hosts, healthy
    (['a', 'b', 'a'], ['http://a:8080', 'http://b:8080'])
    """

    def __init__(
        self,
        endpoints: Iterable[str | Upstream],
        strategy: str | Strategy = "round_robin",
        *,
        health_path: str = "/health/ready",
        health_interval: float | None = None,
        health_timeout: float = 1.0,
        retry: RetryPolicy | None = None,
        ejection: EjectionPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        timeout: httpx.Timeout | float = 30.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        self.balancer = Balancer(
            endpoints,
            strategy=strategy,
            health=HealthCheck(
                path=health_path,
                interval=health_interval or 10.0,
                timeout=health_timeout,
                healthy_threshold=1,
                unhealthy_threshold=1,
            ),
            ejection=ejection,
            breaker=breaker,
            retry=retry,
            clock=clock,
            seed=seed,
        )
        self.health_interval = health_interval
        self.clock = clock
        self._http = httpx.Client(
            timeout=timeout, headers=headers, transport=transport, trust_env=False
        )
        self._checking = threading.Lock()
        self._last_check = float("-inf")

    @property
    def endpoints(self) -> list[str]:
        """Every replica URL, in the order given."""
        return self.balancer.urls

    def health_check(self, endpoint: str) -> bool:
        """Whether ``endpoint`` answers its health path with 2xx within the health timeout."""
        config = self.balancer.health
        try:
            response = self._http.get(endpoint.rstrip("/") + config.path, timeout=config.timeout)
        except httpx.HTTPError:
            return False
        return response.is_success

    def update_health_status(self) -> dict[str, bool]:
        """Check every replica now and record the results; return who passed."""
        results = {url: self.health_check(url) for url in self.balancer.urls}
        for url, ok in results.items():
            self.balancer.report_health(url, ok, "" if ok else "health check failed")
        self._last_check = self.clock()
        return results

    def _refresh_health(self) -> None:
        if self.health_interval is None:
            return
        if self.clock() - self._last_check < self.health_interval:
            return
        # One thread checks; the others go on with what is known.
        if self._checking.acquire(blocking=False):
            try:
                self.update_health_status()
            finally:
                self._checking.release()

    def get_healthy_servers(self) -> list[str]:
        """Replicas that may take a request now (healthy, not ejected, breaker closed)."""
        self._refresh_health()
        return self.balancer.available()

    def select_server(self) -> str:
        """The replica the strategy picks next; raises ``NoHealthyUpstreamError`` if none."""
        self._refresh_health()
        return self.balancer.select()

    def status(self) -> tuple[UpstreamStatus, ...]:
        """A snapshot of every replica's state."""
        return self.balancer.status()

    def make_request(
        self, method: str, path: str, json: Any = None, **kwargs: Any
    ) -> httpx.Response:
        """Send ``method path`` (with ``json`` as the body, if given) to a replica, retrying
        failures on other replicas.

        ``kwargs`` go to ``httpx.Client.request`` (``content``, ``params``, ``headers``,
        ``timeout``...). Returns the response, which may itself be an error the
        policy does not retry; raises ``NoHealthyUpstreamError`` when no replica is available
        and ``UnavailableError`` when every attempt failed to get a response.
        """
        self._refresh_health()
        method = method.upper()
        policy = self.balancer.retry
        tried: list[str] = []
        errors: list[str] = []
        last_error: httpx.HTTPError | None = None
        for _ in range(policy.attempts):
            try:
                lease = self.balancer.acquire(exclude=tried)
            except NoHealthyUpstreamError:
                if not tried:
                    raise
                break
            tried.append(lease.url)
            try:
                response = self._http.request(method, lease.url + path, json=json, **kwargs)
            except httpx.HTTPError as exc:
                error = describe_error(exc)
                self.balancer.release(lease, failed=counts_against_upstream(exc), error=error)
                errors.append(f"{lease.url}: {error}")
                last_error = exc
                if may_retry_error(policy, method, exc):
                    continue
                break
            except BaseException:
                self.balancer.release(lease, failed=False)
                raise
            failed = response.status_code in policy.statuses
            self.balancer.release(lease, failed=failed, error=f"answered {response.status_code}")
            if failed and self._may_retry(method, tried):
                response.close()
                continue
            return response
        raise UnavailableError(
            f"{method} {path}: every attempt failed ({len(errors)}): " + "; ".join(errors)
        ) from last_error

    def _may_retry(self, method: str, tried: list[str]) -> bool:
        return (
            len(tried) < self.balancer.retry.attempts
            and self.balancer.retry.retries(method)
            and bool(self.balancer.available(exclude=tried))
        )

    def predict(
        self, model: str, rows: Any, *, key: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Predict ``rows`` with ``model`` (``POST /v1/models/{model}/predict``); the JSON answer.

        ``rows`` is a list of records (dicts) or a dict of columns; ``key`` is the sticky
        routing key for A/B splits. A 4xx answer raises ``ValidationError``
        (``NotFoundError`` for 404) and a 5xx one ``UnavailableError``, with the server's
        message.
        """
        body: dict[str, Any] = {"columns": rows} if isinstance(rows, Mapping) else {"records": rows}
        if key is not None:
            body["key"] = key
        path = f"/v1/models/{quote(model, safe='')}/predict"
        response = self.make_request("POST", path, json=body, **kwargs)
        if response.is_success:
            answer: dict[str, Any] = response.json()
            return answer
        where = f"predict on model {model!r} answered {response.status_code}: {response.text}"
        if response.status_code == 404:
            raise NotFoundError(where)
        if response.status_code < 500:
            raise ValidationError(where)
        raise UnavailableError(where)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
