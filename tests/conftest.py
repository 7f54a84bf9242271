"""Shared fixtures: workspaces on SQLite and on the real PostgreSQL server, and a live
model server on loopback."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _pg_base_url() -> str | None:
    url = os.environ.get("DRIFTLINE_TEST_PG_URL")
    if not url:
        if os.environ.get("DRIFTLINE_TEST_REQUIRE_PG"):
            pytest.fail("DRIFTLINE_TEST_REQUIRE_PG is set but DRIFTLINE_TEST_PG_URL is not")
        pytest.skip("PostgreSQL tests skipped: set DRIFTLINE_TEST_PG_URL to run them")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    base = _pg_base_url()
    assert base is not None
    schema = f"dl_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        if os.environ.get("DRIFTLINE_TEST_REQUIRE_PG"):
            raise
        pytest.skip(f"PostgreSQL tests skipped: cannot reach {base}: {exc.orig}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The metadata DB URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'driftline.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def workspace(tmp_path: Path, db_url: str) -> Iterator[object]:
    """An open workspace on each database."""
    from driftline import Workspace

    with Workspace.open(home=tmp_path / "home", db_url=db_url) as ws:
        yield ws


@pytest.fixture
def datasets() -> Path:
    """The shared real datasets (read-only)."""
    if not DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    return DATASETS


class LiveServer:
    """A uvicorn server for one app on an ephemeral loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        import httpx

        self.thread.start()
        ready = threading.Event()
        # uvicorn flips `started` once the socket accepts; the models then load in the
        # background, and /health/ready says when they are warm.
        with httpx.Client(base_url=self.url, timeout=5) as client:
            for _ in range(600):
                if self.server.started:
                    try:
                        if client.get("/health/ready").status_code == 200:
                            ready.set()
                            break
                    except httpx.TransportError:
                        pass
                ready.wait(0.05)
        if not ready.is_set():
            self.__exit__()
            raise RuntimeError("the test server did not become ready in 30 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture
def live() -> Callable[[Any], LiveServer]:
    """``with live(app) as server:`` serves ``app`` on 127.0.0.1 until the block ends."""
    return LiveServer
