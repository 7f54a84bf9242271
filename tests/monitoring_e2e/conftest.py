"""Fixtures for the end-to-end monitoring test: the loopback receivers of the alerting tests,
a model server in a thread, and a real Prometheus server (Debian's package) on loopback."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

# The recording HTTP receiver and the aiosmtpd receiver live with the alerting tests.
_spec = importlib.util.spec_from_file_location(
    "driftline_monitoring_e2e_receivers", Path(__file__).parents[1] / "monitoring" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
receivers = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = receivers
_spec.loader.exec_module(receivers)
http_receiver = receivers.http_receiver
smtp_receiver = receivers.smtp_receiver

PROMETHEUS = Path("/usr/bin/prometheus")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _poll(check: Any, *, attempts: int, every: float) -> Any:
    """``check()`` until it returns something truthy, at most ``attempts`` times."""
    gate = threading.Event()
    for _ in range(attempts):
        found = check()
        if found:
            return found
        gate.wait(every)
    return None


class Prometheus:
    """A Prometheus server scraping one target every second, with its HTTP query API."""

    def __init__(self, folder: Path, target: str) -> None:
        self.port = _free_port()
        config = folder / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "scrape_configs": [
                        {"job_name": "driftline", "static_configs": [{"targets": [target]}]}
                    ],
                }
            )
        )
        self.process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5)

    def ready(self) -> bool:
        try:
            return self.api.get("/-/ready").status_code == 200
        except httpx.TransportError:
            return False

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector of ``expr`` through ``/api/v1/query``."""
        body = self.api.get("/api/v1/query", params={"query": expr}).json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def wait_for(self, expr: str, want: Any, *, seconds: float = 15.0) -> list[dict[str, Any]]:
        """Query ``expr`` until ``want(result)`` holds (a scrape every second), bounded."""

        def answered() -> list[dict[str, Any]] | None:
            result = self.query(expr)
            return result if result and want(result) else None

        found = _poll(answered, attempts=int(seconds * 5), every=0.2)
        if not found:
            raise AssertionError(
                f"Prometheus never answered {expr!r} as wanted: {self.query(expr)}"
            )
        return list(found)

    def close(self) -> None:
        self.api.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Any]:
    """``prometheus(target)`` starts a Prometheus scraping ``host:port``; stopped after."""
    if not PROMETHEUS.is_file() or shutil.which(str(PROMETHEUS)) is None:
        pytest.skip(f"Prometheus is not installed at {PROMETHEUS} (apt-get install prometheus)")
    started: list[Prometheus] = []

    def start(target: str) -> Prometheus:
        folder = tmp_path / f"prometheus-{len(started)}"
        folder.mkdir()
        server = Prometheus(folder, target)
        started.append(server)
        if not _poll(server.ready, attempts=150, every=0.1):
            raise RuntimeError("Prometheus did not become ready in 15 s")
        return server

    yield start
    for server in started:
        server.close()
