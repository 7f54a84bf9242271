"""Real replicas (subprocesses on 127.0.0.1) and a gateway served by uvicorn in a thread."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

REPLICA = Path(__file__).with_name("replica.py")


def bound_socket() -> socket.socket:
    """A listening socket on a free loopback port (no race between picking and binding)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


def wait_until_up(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=0.5).status_code < 500:
                return
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


@dataclass
class ReplicaProcess:
    """One replica process and its URL."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    def control(self, **changes: Any) -> dict[str, Any]:
        """Switch faults on or off (``ready``, ``fail_status``, ``delay``, ``reset``)."""
        response = httpx.post(self.url + "/_control", json=changes, timeout=5.0)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def served(self) -> int:
        return int(self.control()["served"])

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def start_replica(name: str) -> ReplicaProcess:
    sock = bound_socket()
    try:
        process = subprocess.Popen(
            [sys.executable, str(REPLICA), "--fd", str(sock.fileno()), "--name", name],
            pass_fds=[sock.fileno()],
        )
        url = url_of(sock)
    finally:
        sock.close()  # the child holds its own copy
    replica = ReplicaProcess(name, url, process)
    wait_until_up(url + "/health/ready")
    return replica


@contextlib.contextmanager
def replica_processes(*names: str) -> Iterator[list[ReplicaProcess]]:
    replicas: list[ReplicaProcess] = []
    try:
        for name in names:
            replicas.append(start_replica(name))
        yield replicas
    finally:
        for replica in replicas:
            if replica.process.poll() is None:
                replica.process.terminate()
                replica.process.wait(timeout=10)


@pytest.fixture(scope="session")
def _replica_pool() -> Iterator[list[ReplicaProcess]]:
    with replica_processes("a", "b", "c") as replicas:
        yield replicas


@pytest.fixture
def replicas(_replica_pool: list[ReplicaProcess]) -> list[ReplicaProcess]:
    """Three healthy replicas a, b, c with faults and counters reset."""
    for replica in _replica_pool:
        replica.control(reset=True)
    return _replica_pool


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    sock = bound_socket()
    url = url_of(sock)
    sock.close()
    return url


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free port; yield its URL."""
    sock = bound_socket()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def served() -> Callable[[Any], contextlib.AbstractContextManager[str]]:
    """``with served(app) as url:`` runs ``app`` on a real port for the block."""
    return serve


@pytest.fixture
def spawn() -> Callable[..., contextlib.AbstractContextManager[list[ReplicaProcess]]]:
    """``with spawn("a", "b") as (a, b):`` fresh replica processes, e.g. to kill."""
    return replica_processes


@contextlib.contextmanager
def broken_upstream(answer: bytes) -> Iterator[str]:
    """A server that reads each request head, writes ``answer`` (maybe b"") and hangs up."""
    sock = bound_socket()
    sock.settimeout(0.1)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(answer)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield url_of(sock)
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


@pytest.fixture
def broken() -> Callable[[bytes], contextlib.AbstractContextManager[str]]:
    """``with broken(answer) as url:`` an upstream that dies before or while answering."""
    return broken_upstream
