"""Http1Transport through httpx's seam: keep-alive, pool limits, framing, errors, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from driftline.gateway import Http1Transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def raw_server(answer: bytes | None) -> tuple[asyncio.Server, str]:
    """A server that reads one request head and writes ``answer`` (None: hang up) then closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if answer is not None:
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(scenario())


def test_keep_alive_reuses_one_connection(replicas) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]

    async def scenario() -> tuple[list[int], int]:
        transport = Http1Transport()
        async with httpx.AsyncClient(transport=transport, base_url=a.url) as client:
            codes = []
            for _ in range(20):
                response = await client.post("/v1/models/m/predict", json={"records": [1, 2]})
                codes.append(response.status_code)
                assert response.json()["predictions"] == [0, 0]
            return codes, transport.connections()

    codes, connections = run(scenario)
    assert codes == [200] * 20 and connections == 1


def test_pool_limit_queues_requests_and_times_out(replicas) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]
    a.control(delay=0.1)

    async def scenario() -> tuple[list[int], int, type[Exception]]:
        transport = Http1Transport(max_connections=2)
        async with httpx.AsyncClient(transport=transport, base_url=a.url) as client:
            batch = await asyncio.gather(
                *(client.post("/v1/models/m/predict", json={}) for _ in range(6))
            )
            opened = transport.connections()
            short = httpx.Timeout(5.0, pool=0.02)
            slow = [client.post("/v1/models/m/predict", json={}) for _ in range(3)]
            results = await asyncio.gather(
                *slow, client.get("/health/ready", timeout=short), return_exceptions=True
            )
            return [r.status_code for r in batch], opened, type(results[-1])

    codes, opened, error = run(scenario)
    assert codes == [200] * 6 and opened == 2
    assert error is httpx.PoolTimeout


def test_read_timeout_and_connection_refused(replicas, dead_url) -> None:  # type: ignore[no-untyped-def]
    a = replicas[0]
    a.control(delay=0.3)

    async def scenario() -> list[type[Exception]]:
        transport = Http1Transport()
        caught: list[type[Exception]] = []
        async with httpx.AsyncClient(transport=transport) as client:
            for url, timeout in ((a.url, 0.05), (dead_url, 1.0)):
                try:
                    await client.post(url + "/v1/models/m/predict", json={}, timeout=timeout)
                except httpx.HTTPError as exc:
                    caught.append(type(exc))
            return caught

    assert run(scenario) == [httpx.ReadTimeout, httpx.ConnectError]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", b"until the end"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", b"abc"),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            b"ok",
        ),
    ],
    ids=["eof-delimited", "chunked", "interim-100"],
)
def test_response_framing(answer: bytes, expected: bytes) -> None:
    async def scenario() -> bytes:
        server, url = await raw_server(answer)
        async with server, httpx.AsyncClient(transport=Http1Transport()) as client:
            response = await client.get(url + "/")
            return response.content

    assert run(scenario) == expected


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (None, httpx.RemoteProtocolError, "without sending a response"),
        (b"NOT HTTP AT ALL\r\n\r\n", httpx.RemoteProtocolError, "invalid response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", httpx.ReadError, "mid-body"),
    ],
    ids=["hang-up", "garbage", "short-body"],
)
def test_broken_upstreams_raise_httpx_errors(
    answer: bytes | None, error: type[Exception], message: str
) -> None:
    async def scenario() -> None:
        server, url = await raw_server(answer)
        async with server, httpx.AsyncClient(transport=Http1Transport()) as client:
            await client.get(url + "/")

    with pytest.raises(error, match=message):
        run(scenario)
