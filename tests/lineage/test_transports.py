"""Transports: JSON lines file, console, and HTTP POST to a real server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from driftline.exceptions import UnavailableError, ValidationError
from driftline.lineage import (
    ConsoleTransport,
    FileTransport,
    HttpTransport,
    Lineage,
    MemoryTransport,
    validate_event,
    validate_file,
)


class _Collector(BaseHTTPRequestHandler):
    """Keeps every POSTed body and answers with the server's chosen status."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server: Any = self.server
        server.received.append((self.path, dict(self.headers), body))
        self.send_response(server.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture
def endpoint() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.received, server.status = [], 201
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _one_run(lineage: Lineage) -> str:
    lineage.add_node("d", "dataset_version", "d", content_hash="ab" * 32)
    with lineage.run("job", inputs=["d"]) as run:
        pass
    return run.id


def test_http_posts_each_event_to_the_endpoint(lineage: Lineage, endpoint: Any) -> None:
    run_id = _one_run(lineage)
    url = f"http://127.0.0.1:{endpoint.server_address[1]}/api/v1/lineage"
    with HttpTransport(url, timeout=5, api_key="s3cret") as transport:
        assert lineage.emit_openlineage(transport) == 2
    assert len(endpoint.received) == 2
    for path, headers, body in endpoint.received:
        assert path == "/api/v1/lineage"
        assert headers["Content-Type"] == "application/json"
        assert headers["Authorization"] == "Bearer s3cret"
        event = json.loads(body)
        assert event["run"]["runId"] == run_id and validate_event(event) == ()
    kinds = [json.loads(body)["eventType"] for _, _, body in endpoint.received]
    assert kinds == ["START", "COMPLETE"]


def test_http_errors_name_the_endpoint(lineage: Lineage, endpoint: Any) -> None:
    _one_run(lineage)
    url = f"http://127.0.0.1:{endpoint.server_address[1]}/api/v1/lineage"
    endpoint.status = 503
    with (
        HttpTransport(url, timeout=5) as transport,
        pytest.raises(UnavailableError, match=rf"{url} answered 503"),
    ):
        lineage.emit_openlineage(transport)


def test_http_refused_connection_is_unavailable() -> None:
    # Bind and close a socket, so that the port is known to have no listener.
    probe = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    port = probe.server_address[1]
    probe.server_close()
    with (
        HttpTransport(f"http://127.0.0.1:{port}/", timeout=2) as transport,
        pytest.raises(UnavailableError, match="cannot send an OpenLineage event"),
    ):
        transport.emit({"eventType": "START"})
    with pytest.raises(ValidationError, match="must start with http"):
        HttpTransport("ftp://example.com/x").emit({})


def test_file_transport_writes_json_lines_that_validate(lineage: Lineage, tmp_path: Path):
    _one_run(lineage)
    path = tmp_path / "events.jsonl"
    assert lineage.emit_openlineage(FileTransport(path)) == 2
    assert lineage.emit_openlineage(FileTransport(path)) == 2  # appends
    lines = path.read_text().splitlines()
    assert len(lines) == 4
    report = validate_file(path)
    # The second export repeats the same runs, which the run-order check catches.
    assert [e.valid for e in report.events] == [True, True, False, False]
    with pytest.raises(UnavailableError, match="cannot append"):
        FileTransport(tmp_path / "no" / "dir.jsonl").emit({})


def test_console_and_memory_transports(lineage: Lineage) -> None:
    _one_run(lineage)
    stream = io.StringIO()
    assert lineage.emit_openlineage(ConsoleTransport(stream)) == 2
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    memory = MemoryTransport()
    lineage.emit_openlineage(memory)
    assert events == memory.events and [validate_event(e) for e in events] == [(), ()]
