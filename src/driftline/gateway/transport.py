"""A lean pooled HTTP/1.1 transport for httpx, built on asyncio protocols and httptools.

httpx's default transport (httpcore over anyio and h11) spends most of a proxied request's
time in Python bookkeeping: on this project's 2-core machine it alone cost about 1 ms per
request. This one keeps per-host keep-alive pools, parses with httptools (the C parser
uvicorn uses) and arms timeouts with ``loop.call_later``. It implements httpx's transport
seam, so anything that takes an ``httpx.AsyncBaseTransport`` can use it, and the gateway can
swap in ``httpx.AsyncHTTPTransport`` or a ``MockTransport`` unchanged; the gateway also calls
:meth:`Http1Transport.exchange` directly to skip building httpx request objects. It speaks
plain ``http``; ``https`` requests go to an ``httpx.AsyncHTTPTransport`` made on first use.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping

import httpx

from driftline.gateway._http1 import Connection, Exchange, expire

__all__ = ["Http1Transport", "request_head"]

Timeouts = Mapping[str, float | None]
# Written by request_head from the body it is given (which is always read whole).
_REBUILT = frozenset({b"host", b"content-length", b"transfer-encoding"})


def request_head(
    method: str, target: str, host: bytes, headers: list[tuple[bytes, bytes]], body_length: int
) -> bytes:
    """The bytes of a request line and headers; ``Content-Length`` from ``body_length``."""
    parts = [f"{method} {target} HTTP/1.1\r\nhost: ".encode("latin-1"), host, b"\r\n"]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    if body_length or method in ("POST", "PUT", "PATCH"):
        parts += (b"content-length: ", str(body_length).encode("ascii"), b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


class _Pool:
    """The connections to one host: idle ones, a count and the requests waiting for one."""

    def __init__(self) -> None:
        self.idle: list[Connection] = []
        self.total = 0
        self.waiters: deque[asyncio.Future[Connection | None]] = deque()


class _Stream(httpx.AsyncByteStream):
    """An exchange's body as an httpx stream."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._exchange.chunks():
            yield chunk

    async def aclose(self) -> None:
        await self._exchange.aclose()


class Http1Transport(httpx.AsyncBaseTransport):
    """Pooled keep-alive HTTP/1.1 over asyncio, for the gateway's hop to its replicas.

    ``max_connections`` and ``max_idle`` are per host; idle connections older than
    ``keepalive_expiry`` seconds are dropped (keep it under the upstream's own keep-alive
    timeout, 5 s for uvicorn, so a reused connection is never one the server is closing).

    >>> import asyncio, httpx
    >>> async def nothing_open():
    ...     transport = Http1Transport(max_connections=8)
    ...     await transport.aclose()
    ...     return transport.connections()
    >>> asyncio.run(nothing_open())
    0
    """

    def __init__(
        self,
        *,
        max_connections: int = 1024,
        max_idle: int = 256,
        keepalive_expiry: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import httptools  # a dependency of uvicorn[standard], which driftline requires

        self.max_connections = max_connections
        self.max_idle = max_idle
        self.keepalive_expiry = keepalive_expiry
        self.clock = clock
        self._parser = httptools.HttpResponseParser
        self._pools: dict[tuple[str, int], _Pool] = {}
        self._tls: httpx.AsyncHTTPTransport | None = None

    def connections(self) -> int:
        """Open connections over all hosts."""
        return sum(pool.total for pool in self._pools.values())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """httpx's seam: send ``request``; the response body streams off the connection."""
        url = request.url
        if url.scheme != "http":
            if self._tls is None:
                self._tls = httpx.AsyncHTTPTransport(trust_env=False)
            return await self._tls.handle_async_request(request)
        body = await request.aread()
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in _REBUILT]
        host = request.headers.get("host", url.netloc.decode("ascii")).encode("latin-1")
        target = url.raw_path.decode("latin-1")
        head = request_head(request.method, target, host, headers, len(body))
        exchange = await self.exchange(
            (url.host, url.port or 80),
            head + body,
            request.extensions.get("timeout", {}),
            head_request=request.method == "HEAD",
        )
        return httpx.Response(
            exchange.status,
            headers=exchange.headers,
            stream=_Stream(exchange),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def exchange(
        self, key: tuple[str, int], data: bytes, timeouts: Timeouts, *, head_request: bool = False
    ) -> Exchange:
        """Write ``data`` (a whole request) to ``key = (host, port)``; return once headers are in.

        ``timeouts`` holds httpx's ``connect``, ``read``, ``write`` and ``pool`` seconds.
        Errors are httpx's (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``...).
        """
        conn = await self._acquire(key, timeouts)
        conn.reset(skip_body=head_request)
        try:
            await conn.write(data, timeouts.get("write"))
            while not conn.headers_done:
                if conn.error is not None:
                    raise conn.error
                await conn.wait(timeouts.get("read"))
        except BaseException:
            conn.close()
            self._release(key, conn)
            raise
        return Exchange(conn, lambda c: self._release(key, c), timeouts.get("read"))

    async def _acquire(self, key: tuple[str, int], timeouts: Timeouts) -> Connection:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool()
        now = self.clock()
        while pool.idle:
            conn = pool.idle.pop()
            if not conn.closed and now - conn.idle_since < self.keepalive_expiry:
                return conn
            conn.close()
            pool.total -= 1
        if pool.total >= self.max_connections:
            handed = await self._wait_for_slot(key, pool, timeouts.get("pool"))
            if handed is not None:
                return handed
        pool.total += 1
        try:
            return await self._connect(key, timeouts.get("connect"))
        except BaseException:
            pool.total -= 1
            self._wake_one(pool, None)
            raise

    async def _wait_for_slot(
        self, key: tuple[str, int], pool: _Pool, timeout: float | None
    ) -> Connection | None:
        """Wait for a connection handed back (or None: a free slot to connect in)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Connection | None] = loop.create_future()
        pool.waiters.append(waiter)
        handle = loop.call_later(timeout or 1e9, expire, waiter, httpx.PoolTimeout)
        try:
            return await waiter
        except BaseException:
            # Cancelled just after being handed something: pass it on rather than leak it.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()
                if handed is not None:
                    self._release(key, handed)
                else:
                    self._wake_one(pool, None)
            raise
        finally:
            handle.cancel()

    async def _connect(self, key: tuple[str, int], timeout: float | None) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(
                    lambda: Connection(self._parser), key[0], key[1]
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {key[0]}:{key[1]} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {key[0]}:{key[1]}: {exc}") from exc
        return conn

    def _release(self, key: tuple[str, int], conn: Connection) -> None:
        pool = self._pools[key]
        if conn.reusable():
            conn.chunks.clear()  # an unread body, e.g. of a response discarded for a retry
            if self._wake_one(pool, conn):
                return
            if len(pool.idle) < self.max_idle:
                conn.idle_since = self.clock()
                pool.idle.append(conn)
                return
        conn.close()
        pool.total -= 1
        self._wake_one(pool, None)

    @staticmethod
    def _wake_one(pool: _Pool, conn: Connection | None) -> bool:
        """Hand ``conn`` (or a free slot, when None) to the first live waiter."""
        while pool.waiters:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    async def aclose(self) -> None:
        """Close every idle connection (busy ones close when their response is done)."""
        for pool in self._pools.values():
            for conn in pool.idle:
                conn.close()
            pool.total -= len(pool.idle)
            pool.idle.clear()
        if self._tls is not None:
            await self._tls.aclose()
