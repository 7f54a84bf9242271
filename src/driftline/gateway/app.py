"""The gateway: a lean ASGI reverse proxy that spreads requests over the balancer's upstreams."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from time import perf_counter
from typing import Any, NamedTuple

import httpx
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from driftline.exceptions import UnavailableError
from driftline.gateway._attempts import (
    counts_against_upstream,
    describe_error,
    error_kind,
    may_retry_error,
)
from driftline.gateway._headers import request_headers, response_headers
from driftline.gateway._http1 import Exchange
from driftline.gateway._routes import ResponseExchange, Route, open_exchange
from driftline.gateway.balancer import Balancer, Lease, NoHealthyUpstreamError
from driftline.gateway.health import HealthChecker
from driftline.gateway.metrics import GatewayMetrics
from driftline.gateway.transport import Http1Transport

__all__ = ["Gateway"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

_JSON = [(b"content-type", b"application/json")]


# Inference can be slow, connecting should not be; a full pool means the gateway is overloaded.
_DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=2.0, pool=5.0)


def _default_transport() -> httpx.AsyncBaseTransport:
    try:
        return Http1Transport()
    except ModuleNotFoundError:  # httptools missing: httpx's own pooled transport still works
        return httpx.AsyncHTTPTransport(trust_env=False)


class _Failure(NamedTuple):
    error: str  # for the 502 body
    again: bool  # whether another upstream may be tried
    label: str  # the status code or error kind, for the retries metric


class _BodyTooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


async def _send_json(send: Send, status: int, body: Any, extra: Headers | None = None) -> None:
    await _send_bytes(send, status, orjson.dumps(body), _JSON + (extra or []))


async def _send_bytes(send: Send, status: int, body: bytes, headers: Headers) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, limit: int) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _ClientGone
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise _BodyTooLarge
        return body
    chunks, size = [body], len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _target(scope: Scope) -> str:
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string", b"")
    target = raw.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


class Gateway:
    """ASGI app: proxies every request to an upstream the balancer picks, retrying elsewhere.

    Its own routes are ``/gateway/health``, ``/gateway/upstreams`` (JSON state) and
    ``/metrics``. ``transport`` is the shared pooled httpx transport (any
    ``httpx.AsyncBaseTransport``, e.g. ``httpx.MockTransport`` in tests); ``timeout`` is per
    attempt; responses with a Content-Length up to ``buffer_bytes`` are read whole before
    answering, so a replica dying mid-response is retried, larger ones are streamed.

    >>> import asyncio, httpx
    >>> def replica(request):
    ...     return httpx.Response(200, json={"host": request.url.host})
    >>> balancer = Balancer(["http://a", "http://b"])
    >>> gateway = Gateway(balancer, transport=httpx.MockTransport(replica))
    >>> async def call():
    ...     async with httpx.AsyncClient(transport=httpx.ASGITransport(gateway)) as client:
    ...         return [(await client.post("http://gw/v1/models/m/predict")).json()["host"]
    ...                 for _ in range(3)]
    >>> asyncio.run(call())
    ['a', 'b', 'a']
    """

    def __init__(
        self,
        balancer: Balancer,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = _DEFAULT_TIMEOUT,
        max_body_bytes: int = 64 * 1024 * 1024,
        buffer_bytes: int = 1024 * 1024,
        metrics: GatewayMetrics | None = None,
        health_checks: bool = True,
    ) -> None:
        self.balancer = balancer
        self._owns_transport = transport is None
        self.transport = transport or _default_transport()
        timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._timeout = timeout.as_dict()
        self.max_body_bytes = max_body_bytes
        self.buffer_bytes = buffer_bytes
        self.metrics = metrics or GatewayMetrics(balancer)
        self.health = HealthChecker(balancer, self.transport)
        self._upstream_routes = {url: Route.of(url) for url in balancer.urls}
        self._upstream_names = {url: url.encode("latin-1") for url in balancer.urls}
        self.health_checks = health_checks
        self._health_task: asyncio.Task[None] | None = None
        self._routes: dict[str, Callable[[Send], Awaitable[None]]] = {
            "/gateway/health": self._gateway_health,
            "/gateway/upstreams": self._gateway_upstreams,
            "/metrics": self._metrics,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            route = self._routes.get(scope["path"])
            if route is not None and scope["method"] in ("GET", "HEAD"):
                await route(send)
            else:
                await self._proxy(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:  # websockets are not proxied
            await send({"type": "websocket.close", "code": 1003})

    async def startup(self) -> None:
        """Run one round of health checks, then keep checking in the background."""
        if self.health_checks and self._health_task is None:
            await self.health.check_once()
            self._health_task = asyncio.create_task(self._check_forever())

    async def _check_forever(self) -> None:
        await asyncio.sleep(self.balancer.health.interval)
        await self.health.run()

    async def shutdown(self) -> None:
        """Stop the health checks and close the connection pool this gateway made."""
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
            self._health_task = None
        if self._owns_transport:
            await self.transport.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = perf_counter()
        try:
            body = await _read_body(receive, self.max_body_bytes)
        except _ClientGone:
            return
        except _BodyTooLarge:
            reason = f"request body is larger than the gateway limit of {self.max_body_bytes} bytes"
            await _send_json(send, 413, {"error": "payload too large", "reason": reason})
            return
        client = scope.get("client")
        headers = request_headers(
            scope["headers"],
            client_host=client[0] if client else None,
            scheme=scope.get("scheme", "http"),
        )
        try:
            await self._forward(scope["method"], _target(scope), headers, body, send)
        finally:
            self.metrics.duration.observe(perf_counter() - started)

    async def _forward(
        self, method: str, target: str, headers: Headers, body: bytes, send: Send
    ) -> None:
        tried: list[str] = []
        errors: list[str] = []
        failure: _Failure | None = None
        for _ in range(self.balancer.retry.attempts):
            try:
                lease = self.balancer.acquire(exclude=tried)
            except NoHealthyUpstreamError as exc:
                if tried:
                    break
                await self._no_upstream(send, exc)
                return
            if failure is not None:
                self.metrics.retries.labels(tried[-1], failure.label).inc()
            tried.append(lease.url)
            try:
                outcome = await self._attempt(lease, method, target, headers, body, send, tried)
            except BaseException:
                # The client went away or the task was cancelled: free the upstream's slot
                # (a no-op when the attempt already released it).
                self.balancer.release(lease, failed=False)
                raise
            if outcome is None:
                return
            failure = outcome
            errors.append(f"{lease.url}: {failure.error}")
            if not failure.again:
                break
        reason = f"every attempt failed ({len(errors)}): " + "; ".join(errors)
        await _send_json(send, 502, {"error": "bad gateway", "reason": reason})

    async def _no_upstream(self, send: Send, exc: NoHealthyUpstreamError) -> None:
        self.metrics.unavailable.inc()
        await _send_json(
            send,
            503,
            {
                "error": "no healthy upstream",
                "reason": str(exc),
                "upstreams": [{"url": s.url, "reason": s.reason} for s in exc.upstreams],
            },
            [(b"retry-after", b"1")],
        )

    async def _attempt(
        self,
        lease: Lease,
        method: str,
        target: str,
        headers: Headers,
        body: bytes,
        send: Send,
        tried: list[str],
    ) -> _Failure | None:
        """Send once: None when a response went out, else what failed."""
        route = self._upstream_routes[lease.url]
        try:
            response = await open_exchange(
                self.transport, route, method, target, headers, body, self._timeout
            )
        except httpx.HTTPError as exc:
            return self._failed(lease, method, exc)
        status = response.status
        failed = status in self.balancer.retry.statuses
        if failed and self._can_retry(method, tried):
            await response.aclose()
            self._count(lease, str(status), failed=True, error=f"answered {status}")
            return _Failure(f"answered {status}", True, str(status))
        try:
            await self._relay(lease, response, send)
        except httpx.HTTPError as exc:
            return self._failed(lease, method, exc)
        except _StreamBroken as exc:
            self._count(lease, "error", failed=True, error=str(exc))
            raise UnavailableError(f"upstream {lease.url} broke off its response: {exc}") from exc
        finally:
            await response.aclose()
        self._count(lease, str(status), failed=failed, error=f"answered {status}")
        return None

    def _can_retry(self, method: str, tried: list[str]) -> bool:
        return (
            len(tried) < self.balancer.retry.attempts
            and self.balancer.retry.retries(method)
            and bool(self.balancer.available(exclude=tried))
        )

    def _failed(self, lease: Lease, method: str, exc: httpx.HTTPError) -> _Failure:
        error = describe_error(exc)
        self._count(lease, "error", failed=counts_against_upstream(exc), error=error)
        again = may_retry_error(self.balancer.retry, method, exc)
        return _Failure(error, again, error_kind(exc))

    def _count(self, lease: Lease, status: str, *, failed: bool, error: str) -> None:
        self.balancer.release(lease, failed=failed, error=error if failed else "")
        self.metrics.requests.labels(lease.url, status).inc()

    async def _relay(self, lease: Lease, response: Exchange | ResponseExchange, send: Send) -> None:
        headers = response_headers(response.headers, self._upstream_names[lease.url])
        start = {"type": "http.response.start", "status": response.status}
        length = response.content_length
        if length is not None and length <= self.buffer_bytes:
            # Read whole before answering: a failure here can still go to another upstream.
            body = await response.read()
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send({**start, "headers": headers})
        try:
            async for chunk in response.chunks():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.HTTPError as exc:
            raise _StreamBroken(describe_error(exc)) from exc
        await send({"type": "http.response.body", "body": b""})

    async def _gateway_health(self, send: Send) -> None:
        available = self.balancer.available()
        total = len(self.balancer.urls)
        status = "ok" if available else "unavailable"
        body = {"status": status, "available": len(available), "upstreams": total}
        await _send_json(send, 200 if available else 503, body)

    async def _gateway_upstreams(self, send: Send) -> None:
        strategy = self.balancer.strategy
        body = {
            "strategy": getattr(strategy, "name", type(strategy).__name__),
            "upstreams": [s.to_dict() for s in self.balancer.status()],
        }
        await _send_json(send, 200, body)

    async def _metrics(self, send: Send) -> None:
        body = generate_latest(self.metrics.registry)
        await _send_bytes(send, 200, body, [(b"content-type", CONTENT_TYPE_LATEST.encode())])


class _StreamBroken(Exception):
    """The upstream failed after the response had started; nothing can be retried."""
