"""A stand-in serving replica for the gateway tests, run as its own process.

``python replica.py --fd N --name a`` serves on an already-bound socket: ``/health/ready``,
``POST /v1/models/{m}/predict``, ``/echo`` (the request headers back), ``/stream`` (a chunked
body) and ``POST /_control`` to make it fail, slow down or turn unready.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from typing import Any

_JSON = [(b"content-type", b"application/json")]


class Replica:
    """Minimal ASGI app with switchable faults."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.reset()

    def reset(self) -> None:
        self.ready = True
        self.fail_status = 0
        self.delay = 0.0
        self.served = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, payload, headers = await self.handle(scope, body)
        raw = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        if scope["path"] == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            for part in (b"one,", b"two,", b"three"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*headers, (b"content-length", str(len(raw)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    async def handle(self, scope: dict[str, Any], body: bytes) -> tuple[int, Any, list[Any]]:
        path = scope["path"]
        mine = [*_JSON, (b"x-replica", self.name.encode())]
        if path == "/health/ready":
            return (200 if self.ready else 503), {"ready": self.ready}, mine
        if path == "/_control":
            changes = json.loads(body or b"{}")
            if changes.pop("reset", False):
                self.reset()
            for key, value in changes.items():
                setattr(self, key, value)
            return 200, {"name": self.name, "served": self.served}, mine
        if path == "/echo":
            headers = [[k.decode(), v.decode()] for k, v in scope["headers"]]
            # Per-hop headers a proxy must not pass back to its client.
            hop = [(b"keep-alive", b"timeout=99"), (b"proxy-authenticate", b"Basic")]
            return 200, {"name": self.name, "headers": headers}, [*mine, *hop]
        if path == "/stream":
            return 200, b"", [(b"content-type", b"text/plain"), (b"x-replica", b"s")]
        if path.startswith("/v1/models/") and path.endswith("/predict"):
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.fail_status:
                return self.fail_status, {"error": f"{self.name} is failing"}, mine
            self.served += 1
            payload = json.loads(body or b"{}")
            if "columns" in payload:
                count = len(next(iter(payload["columns"].values()), []))
            else:
                count = len(payload.get("records", []))
            answer = {"upstream": self.name, "predictions": [0] * count, "key": payload.get("key")}
            return 200, answer, mine
        return 404, {"error": f"no route {path}"}, mine


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    sock = socket.socket(fileno=args.fd)
    config = uvicorn.Config(Replica(args.name), log_level="error", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
