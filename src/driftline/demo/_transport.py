"""How the demo's replay reaches the model: over HTTP to a real server, or in this process.

Both serve the model the ``champion`` alias points at, write the same prediction and
feedback logs (``HOME/predictions``, ``HOME/feedback``) that the drift monitor and the
retraining controller read, and offer a promoter: the server runs a canary on live traffic,
the in-process transport moves the alias at once. The demo uses HTTP; the closed-loop
benchmark replays many streams in process, where a request costs no socket round trip.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import pandas as pd

from driftline.exceptions import UnavailableError

if TYPE_CHECKING:
    from driftline.registry.flavors import LoadedModel
    from driftline.retraining import Promoter
    from driftline.workspace import Workspace

__all__ = ["Answer", "HttpTransport", "InProcessTransport", "Transport"]


@dataclass(frozen=True)
class Answer:
    """What serving a batch of rows returned: one prediction and one id per row."""

    predictions: list[Any]
    prediction_ids: list[str]
    model_version: int


class Transport(Protocol):
    """One seam between the replay and the model: start, serve, label, flush, promote."""

    def start(self) -> None: ...
    def predict(self, features: pd.DataFrame) -> Answer: ...
    def feedback(self, rows: list[dict[str, Any]]) -> None: ...
    def flush(self) -> None: ...
    def promoter(self, traffic: Callable[[float], None]) -> Promoter: ...
    def close(self) -> None: ...


class HttpTransport:
    """The model server on a free loopback port, in a thread; rows go over HTTP."""

    def __init__(self, workspace: Workspace, model: str) -> None:
        self.ws = workspace
        self.model = model

    def start(self) -> None:
        """Start the server and wait until it is ready."""
        import uvicorn

        from driftline.serving import (
            FeedbackLogWriter,
            PredictionLogWriter,
            ServingOptions,
            create_app,
        )

        if not self.ws.settings.admin_token:
            raise UnavailableError("the demo needs an admin token in the workspace settings")
        self.token = self.ws.settings.admin_token
        self.predictions = PredictionLogWriter(self.ws.home / "predictions")
        self.feedback_log = FeedbackLogWriter(self.ws.home / "feedback")
        options = ServingOptions(
            threads=2, poll_interval_s=0.2, canary_interval_s=0.2, batching=None
        )
        app = create_app(
            self.ws,
            models=[f"models:/{self.model}@champion"],
            options=options,
            prediction_log=self.predictions,
            feedback_log=self.feedback_log,
        )
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self._wait_ready()
        self.client = httpx.Client(base_url=self.url, timeout=30.0)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise UnavailableError(f"the demo server at {self.url} did not become ready in 60 s")

    def predict(self, features: pd.DataFrame) -> Answer:
        """POST the rows to ``/v1/models/{model}/predict``."""
        response = self.client.post(
            f"/v1/models/{self.model}/predict", json={"records": features.to_dict("records")}
        )
        if response.status_code != 200:
            raise UnavailableError(
                f"the demo server answered {response.status_code}: {response.text[:300]}"
            )
        body = response.json()
        return Answer(body["predictions"], body["prediction_ids"], int(body["model_version"]))

    def feedback(self, rows: list[dict[str, Any]]) -> None:
        """POST labels to ``/v1/feedback``, 1000 at a time."""
        for start in range(0, len(rows), 1000):
            response = self.client.post(
                "/v1/feedback", json={"feedback": rows[start : start + 1000]}
            )
            if response.status_code >= 300:
                raise UnavailableError(f"feedback refused: {response.text[:300]}")

    def flush(self) -> None:
        """Close the open log segments so the monitors can read every served row."""
        self.predictions.flush()
        self.feedback_log.flush()

    def promoter(self, traffic: Callable[[float], None]) -> Promoter:
        """A canary through this server; ``traffic`` keeps the replay going while it bakes."""
        from driftline.retraining import CanaryPromoter

        return CanaryPromoter(
            self.ws,
            self.url,
            token=self.token,
            steps=(0.5, 1.0),
            bake_time_s=1.0,
            slo={"max_error_rate": 0.05, "max_p99_latency_s": 2.0, "min_requests": 8},
            poll_s=0.05,
            timeout_s=120.0,
            sleep=traffic,
        )

    def close(self) -> None:
        """Stop the server."""
        if hasattr(self, "client"):
            self.client.close()
        if hasattr(self, "server"):
            self.server.should_exit = True
            self.thread.join(timeout=30)


class InProcessTransport:
    """Serves the champion in this process and writes the logs the server would write.

    The alias is read before every batch, so a promotion takes effect at the next batch, as
    the server's hot swap does. Rows get strictly increasing times, so the logs keep the
    replay's order.
    """

    def __init__(self, workspace: Workspace, model: str) -> None:
        self.ws = workspace
        self.model = model
        self._loaded: tuple[int, LoadedModel] | None = None
        self._last = datetime.min.replace(tzinfo=UTC)

    def start(self) -> None:
        """Open the two logs."""
        from driftline.predlog import FeedbackLogWriter, PredictionLogWriter

        self.predictions = PredictionLogWriter(self.ws.home / "predictions", max_queue=1 << 20)
        self.feedback_log = FeedbackLogWriter(self.ws.home / "feedback", max_queue=1 << 20)

    def _champion(self) -> tuple[int, LoadedModel]:
        version = self.ws.registry.get(f"models:/{self.model}@champion")
        if self._loaded is None or self._loaded[0] != version.version:
            self._loaded = (version.version, self.ws.registry.load(version))
        return self._loaded

    def _times(self, n: int) -> list[datetime]:
        start = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
        times = [start + timedelta(microseconds=i) for i in range(n)]
        self._last = times[-1]
        return times

    def predict(self, features: pd.DataFrame) -> Answer:
        """Predict with the champion and log the rows."""
        from driftline.ids import uuid7

        version, model = self._champion()
        predictions = list(model.predict(features))
        ids = [str(uuid7()) for _ in predictions]
        rows = [
            {
                "prediction_id": pid,
                "time": moment,
                "model": self.model,
                "version": version,
                "route": "champion",
                "prediction": _scalar(prediction),
                "features": record,
            }
            for pid, moment, prediction, record in zip(
                ids, self._times(len(ids)), predictions, features.to_dict("records"), strict=True
            )
        ]
        if self.predictions.submit(rows) != len(rows):
            raise UnavailableError(
                f"the prediction log dropped rows: {self.predictions.last_error}"
            )
        return Answer(predictions, ids, version)

    def feedback(self, rows: list[dict[str, Any]]) -> None:
        """Log the labels."""
        if self.feedback_log.submit(rows) != len(rows):
            raise UnavailableError(f"the feedback log dropped rows: {self.feedback_log.last_error}")

    def flush(self) -> None:
        """Write every logged row to its segment."""
        self.predictions.flush()
        self.feedback_log.flush()

    def promoter(self, traffic: Callable[[float], None]) -> Promoter:
        """No server to canary through: the alias moves at once."""
        from driftline.retraining import DirectPromoter

        return DirectPromoter(self.ws)

    def close(self) -> None:
        """Write what is left and close the logs."""
        if hasattr(self, "predictions"):
            self.predictions.close()
            self.feedback_log.close()


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
