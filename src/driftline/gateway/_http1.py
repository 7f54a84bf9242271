"""One HTTP/1.1 keep-alive connection (asyncio protocol + httptools) and one exchange on it."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import httpx

__all__ = ["Connection", "Exchange", "expire"]

# Stop reading from an upstream while this much of its body waits for a slow client.
_HIGH_WATER = 1024 * 1024


def expire(future: asyncio.Future[Any], error: type[httpx.TimeoutException]) -> None:
    """Fail ``future`` with ``error`` unless it is already done (a ``call_later`` target)."""
    if not future.done():
        future.set_exception(error(f"timed out ({error.__name__})"))


class Connection(asyncio.Protocol):
    """A keep-alive connection that parses one response at a time."""

    def __init__(self, parser_factory: Callable[[Any], Any]) -> None:
        self._parser = parser_factory(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self.reset(skip_body=False)

    def reset(self, *, skip_body: bool) -> None:
        """Get ready for the next response (``skip_body`` for the answer to HEAD)."""
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.content_length: int | None = None
        self.chunked = False
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.error: httpx.TransportError | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.skip_body = skip_body
        if self.transport is not None:
            self.transport.resume_reading()  # in case the last body paused it (idempotent)

    # asyncio protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream transport, always

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except Exception as exc:  # httptools.HttpParserError and kin
            self._fail(httpx.RemoteProtocolError(f"invalid response from upstream: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        unframed = self.content_length is None and not self.chunked
        if self.headers_done and unframed and exc is None:
            self.complete = True  # a body delimited by the end of the connection
        if not self.complete:
            if not self.headers_done:
                message = "server disconnected without sending a response"
                self._fail(httpx.RemoteProtocolError(message))
            else:
                self._fail(httpx.ReadError(f"server closed the connection mid-body: {exc}"))
        self._wake()
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(httpx.WriteError("connection closed while writing"))

    def pause_writing(self) -> None:
        self._drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        lower = name.lower()
        if lower == b"content-length" and value.strip().isdigit():
            self.content_length = int(value)
        elif lower == b"transfer-encoding":
            self.chunked = True

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim response: the real one follows
            self.headers = []
            self.content_length = None
            self.chunked = False
            return
        self.status = status
        self.keep_alive = self._parser.should_keep_alive()
        self.headers_done = True
        if self.skip_body:  # the answer to HEAD has no body, whatever its Content-Length says
            self.complete = True
            self.keep_alive = False  # and the parser would wait for one: do not reuse
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self.skip_body:
            return
        self.chunks.append(bytes(body))
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.status:
            self.complete = True
            self._wake()

    def _fail(self, error: httpx.TransportError) -> None:
        if self.error is None:
            self.error = error
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        """Wait for the next parser event; ``httpx.ReadTimeout`` after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        handle = loop.call_later(timeout, expire, waiter, httpx.ReadTimeout) if timeout else None
        try:
            await waiter
        finally:
            self._waiter = None
            if handle is not None:
                handle.cancel()

    async def write(self, data: bytes, timeout: float | None) -> None:
        """Write ``data``, waiting (up to ``timeout``) while the socket buffer is full."""
        if self.transport is None or self.closed:
            raise httpx.WriteError("connection is closed")
        self.transport.write(data)
        drain = self._drain
        if drain is not None:
            loop = asyncio.get_running_loop()
            handle = loop.call_later(timeout or 1e9, expire, drain, httpx.WriteTimeout)
            try:
                await drain
            finally:
                handle.cancel()

    def take(self) -> bytes | None:
        """The next buffered body chunk, or None."""
        if not self.chunks:
            return None
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self.buffered <= _HIGH_WATER // 2 and self.transport is not None:
            self.transport.resume_reading()
        return chunk

    def reusable(self) -> bool:
        """Whether the response is fully read and the connection may carry another."""
        return self.complete and self.keep_alive and not self.closed and self.error is None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Exchange:
    """The response to one request: status and headers now, the body as it arrives.

    ``aclose`` hands the connection back to its pool (or closes it when it cannot be reused).
    """

    __slots__ = ("_closed", "_conn", "_release", "_timeout", "content_length", "headers", "status")

    def __init__(
        self, conn: Connection, release: Callable[[Connection], None], read_timeout: float | None
    ) -> None:
        self._conn = conn
        self._release = release
        self._timeout = read_timeout
        self._closed = False
        self.status = conn.status
        self.headers = conn.headers
        self.content_length = conn.content_length

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, chunk by chunk."""
        conn = self._conn
        while True:
            chunk = conn.take()
            if chunk is not None:
                yield chunk
            elif conn.complete:
                return
            elif conn.error is not None:
                raise conn.error
            else:
                await conn.wait(self._timeout)

    async def read(self) -> bytes:
        """The whole body."""
        parts = [chunk async for chunk in self.chunks()]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def aclose(self) -> None:
        """Done with the response: the connection goes back to the pool or is closed."""
        if not self._closed:
            self._closed = True
            self._release(self._conn)
