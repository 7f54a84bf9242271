"""How the gateway reaches one upstream: straight through Http1Transport, or any httpx one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from driftline.gateway._http1 import Exchange
from driftline.gateway.transport import Http1Transport, request_head

__all__ = ["ResponseExchange", "Route", "open_exchange"]

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Route:
    """An upstream URL taken apart once, so each request only joins strings."""

    url: str
    host: str
    port: int
    host_header: bytes
    prefix: str
    plain_http: bool

    @classmethod
    def of(cls, url: str) -> Route:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(
            url=url,
            host=parts.hostname or "",
            port=port,
            host_header=parts.netloc.encode("idna"),
            prefix=parts.path.rstrip("/"),
            plain_http=parts.scheme == "http",
        )


class ResponseExchange:
    """An ``httpx.Response`` from any transport, seen through :class:`Exchange`'s interface."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Headers = list(response.headers.raw)
        length = response.headers.get("content-length")
        self.content_length = int(length) if length and length.isdigit() else None

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._response.is_stream_consumed:  # built in memory, e.g. by MockTransport
            yield self._response.content
            return
        async for chunk in self._response.aiter_raw():
            yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    async def aclose(self) -> None:
        await self._response.aclose()


async def open_exchange(
    transport: httpx.AsyncBaseTransport,
    route: Route,
    method: str,
    target: str,
    headers: Headers,
    body: bytes,
    timeouts: Mapping[str, float | None],
) -> Exchange | ResponseExchange:
    """Send one request to ``route``; return when the response headers are in."""
    target = route.prefix + target
    if route.plain_http and isinstance(transport, Http1Transport):
        head = request_head(method, target, route.host_header, headers, len(body))
        return await transport.exchange(
            (route.host, route.port), head + body, timeouts, head_request=method == "HEAD"
        )
    request = httpx.Request(
        method,
        route.url.removesuffix(route.prefix) + target,
        headers=headers,
        content=body,
        extensions={"timeout": dict(timeouts)},
    )
    return ResponseExchange(await transport.handle_async_request(request))
