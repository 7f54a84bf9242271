"""Where OpenLineage events go: a JSON lines file, an HTTP endpoint, the console, or memory."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from driftline.exceptions import UnavailableError, ValidationError

__all__ = ["ConsoleTransport", "FileTransport", "HttpTransport", "MemoryTransport", "Transport"]


class Transport(Protocol):
    """Anything that can send one OpenLineage event."""

    def emit(self, event: Mapping[str, Any]) -> None: ...


def _line(event: Mapping[str, Any]) -> bytes:
    return orjson.dumps(dict(event)) + b"\n"


class FileTransport:
    """Append each event as one line of JSON to a file (created if missing).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.jsonl"
    >>> FileTransport(path).emit({"eventType": "START"})
    >>> path.read_text()
    '{"eventType":"START"}\\n'
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def emit(self, event: Mapping[str, Any]) -> None:
        """Append ``event`` as one line."""
        try:
            with self.path.open("ab") as sink:
                sink.write(_line(event))
        except OSError as exc:
            raise UnavailableError(
                f"cannot append OpenLineage events to {str(self.path)!r}: {exc.strerror}"
            ) from exc


class ConsoleTransport:
    """Write each event as one line of JSON to a text stream (standard output by default)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream

    def emit(self, event: Mapping[str, Any]) -> None:
        """Write ``event`` as one line."""
        stream = self.stream or sys.stdout
        stream.write(_line(event).decode())
        stream.flush()


class MemoryTransport:
    """Keep events in a list (for tests and for callers that batch them)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: Mapping[str, Any]) -> None:
        """Keep ``event``."""
        self.events.append(dict(event))


class HttpTransport:
    """POST each event as JSON to an OpenLineage endpoint (e.g. ``.../api/v1/lineage``).

    A response outside 2xx, a timeout or a refused connection is an UnavailableError that
    names the endpoint. One connection pool serves every event until :meth:`close`; pass
    ``client`` to use an ``httpx.Client`` of your own (which you then close).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        client: Any = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.api_key = api_key
        self.headers = dict(headers or {})
        self.client = client
        self._own_client: Any = None

    def emit(self, event: Mapping[str, Any]) -> None:
        """POST ``event``; raise UnavailableError unless the endpoint answers 2xx."""
        import httpx

        if not self.url.startswith(("http://", "https://")):
            raise ValidationError(f"OpenLineage URL {self.url!r} must start with http(s)://")
        headers = {"Content-Type": "application/json", **self.headers}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            response = self._client().post(
                self.url, content=orjson.dumps(dict(event)), headers=headers
            )
        except httpx.HTTPError as exc:
            raise UnavailableError(
                f"cannot send an OpenLineage event to {self.url}: {type(exc).__name__}: {exc}"
            ) from exc
        if not response.is_success:
            raise UnavailableError(
                f"the OpenLineage endpoint {self.url} answered {response.status_code}: "
                f"{response.text[:200]}"
            )

    def close(self) -> None:
        """Close the connection pool this transport opened (not a client passed in)."""
        if self._own_client is not None:
            self._own_client.close()
            self._own_client = None

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _client(self) -> Any:
        if self.client is not None:
            return self.client
        if self._own_client is None:
            import httpx

            self._own_client = httpx.Client(timeout=self.timeout)
        return self._own_client
