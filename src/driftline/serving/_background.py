"""The model server on a thread of this process, next to other work (``driftline run``).

The socket is bound before the thread starts, so a busy port fails at once with its
address, and ``port=0`` picks a free port that :attr:`BackgroundServer.url` names.
:meth:`~BackgroundServer.start` returns when every served model is warm; :meth:`stop`
drains: uvicorn stops accepting, lets requests in flight finish (up to ``drain_timeout_s``)
and runs the app's shutdown, which flushes the prediction and feedback logs.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Self

from driftline.exceptions import UnavailableError

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """Serve an app made by :func:`~driftline.serving.create_app` on a thread."""

    def __init__(
        self,
        app: FastAPI,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        log_level: str = "warning",
        drain_timeout_s: float = 30.0,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.log_level = log_level
        self.drain_timeout_s = drain_timeout_s
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._tick = threading.Event()  # never set: a wait that is not time.sleep

    @property
    def url(self) -> str:
        """``http://host:port`` with the port actually bound."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, *, timeout: float = 120.0) -> Self:
        """Bind, serve on a thread, and wait until every model is loaded and warm."""
        import uvicorn

        self._socket = _bind(self.host, self.port)
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            access_log=False,  # every row is in the prediction log
            lifespan="on",
            timeout_graceful_shutdown=int(self.drain_timeout_s) or None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="driftline-server",
            daemon=True,
        )
        self._thread.start()
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        models = self.app.state.server
        deadline = time.monotonic() + timeout
        while not (self._server.started and models.ready):
            if self._thread is None or not self._thread.is_alive():
                raise UnavailableError(
                    f"the model server on {self.url} stopped while starting; its log says why"
                )
            if time.monotonic() > deadline:
                waiting = [name for name, e in models.endpoints.items() if not e.ready]
                raise UnavailableError(
                    f"the model server on {self.url} did not get ready in {timeout:.0f} s "
                    f"(still loading: {', '.join(waiting) or 'the HTTP listener'}); "
                    "GET /v1/models shows load errors"
                )
            self._tick.wait(0.05)

    def flush_logs(self) -> None:
        """Close the open prediction and feedback log segments, so readers see every row."""
        models = self.app.state.server
        for sink in (models.prediction_log, models.feedback_log):
            flush = getattr(sink, "flush", None)
            if flush is not None:
                flush()

    def stop(self) -> None:
        """Stop accepting, drain requests in flight, shut the app down (flushing its logs)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(self.drain_timeout_s + 30.0)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UnavailableError(
            f"cannot listen on {host}:{port}: {why}; pick another port (0 takes a free one) or host"
        ) from None
    return sock
