"""Real receivers on loopback: a recording HTTP server and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Request:
    """One request the HTTP receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every request; answers by path.

    ``/ok/...`` 200 ``ok``; ``/pd/...`` 202 like PagerDuty; ``/status/N`` N forever
    (``?retry_after=S`` adds a Retry-After header); ``/flaky/K/...`` 503 for the first K
    requests to that path, then 200; ``/slow/...`` answers only after the test ends.
    """

    port: int
    requests: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]


def _handler(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            with receiver.lock:
                receiver.requests.append(
                    Request(
                        "POST", parts.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                receiver.hits[parts.path] = receiver.hits.get(parts.path, 0) + 1
                hits = receiver.hits[parts.path]
            # A client that gave up (a timeout test) leaves nothing to answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer(parts.path, parse_qs(parts.query), hits)

        def _answer(self, path: str, query: dict[str, list[str]], hits: int) -> None:
            segments = path.strip("/").split("/")
            headers: dict[str, str] = {}
            if segments[0] == "status":
                code, text = int(segments[1]), "failing on purpose"
                if "retry_after" in query:
                    headers["Retry-After"] = query["retry_after"][0]
            elif segments[0] == "flaky":
                code, text = (503, "warming up") if hits <= int(segments[1]) else (200, "ok")
            elif segments[0] == "slow":
                receiver.release.wait(10)
                code, text = 200, "late"
            elif segments[0] == "pd":
                code, text = 202, json.dumps({"status": "success", "message": "Event processed"})
            else:
                code, text = 200, "ok"
            data = text.encode()
            self.send_response(code)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture(scope="session")
def http_receiver() -> Iterator[HttpReceiver]:
    """One recording HTTP server on 127.0.0.1 for the whole session."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = HttpReceiver(port=server.server_address[1])
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield receiver
    receiver.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def free_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (connection refused)."""
    return free_port()


@dataclass
class SmtpReceiver:
    """Messages an aiosmtpd server accepted. Recipients starting ``transient`` get 451,
    ``permanent`` 550."""

    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    tls: bool = False


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("transient"):
            return "451 4.3.0 mailbox busy, try again later"
        if address.startswith("permanent"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiver.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "data": envelope.content.decode("utf-8", "replace"),
                "tls": session.ssl is not None,
            }
        )
        return "250 Message accepted"


def _start_smtp(receiver: SmtpReceiver, **kwargs: Any) -> Any:
    from aiosmtpd.controller import Controller

    controller = Controller(_Handler(receiver), hostname="127.0.0.1", port=receiver.port, **kwargs)
    controller.start()
    return controller


@pytest.fixture(scope="session")
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A real SMTP server on 127.0.0.1 (no TLS)."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is needed for the SMTP receiver")
    receiver = SmtpReceiver(port=free_port())
    controller = _start_smtp(receiver)
    yield receiver
    controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="session")
def smtp_tls_receiver(tls_files: tuple[Path, Path]) -> Iterator[SmtpReceiver]:
    """A real SMTP server on 127.0.0.1 that requires STARTTLS."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is needed for the SMTP receiver")
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    receiver = SmtpReceiver(port=free_port(), tls=True)
    controller = _start_smtp(receiver, tls_context=context, require_starttls=True)
    yield receiver
    controller.stop()


@pytest.fixture(scope="session")
def client_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context that trusts the test certificate."""
    return ssl.create_default_context(cafile=str(tls_files[0]))


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Iterator[Any]:
    """A workspace on SQLite only, for checks that never reach the database."""
    from driftline import Workspace

    with Workspace.open(home=tmp_path / "home") as ws:
        yield ws
