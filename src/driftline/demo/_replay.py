"""The closed loop on a real stream, in compressed time, through a real HTTP server.

v1 is trained on the stream's first rows and served; the rest is replayed in time order
through the native HTTP endpoint, labels follow one window later through ``/v1/feedback``;
after each window the prediction log is monitored for drift, alerts are evaluated, and the
retraining controller decides. A promotion runs as a canary on the same server while the
replay keeps sending traffic, so the canary is judged on real requests.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pandas as pd

from driftline.demo.scenarios import Scenario, train_model
from driftline.exceptions import UnavailableError

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["DemoLoop", "WindowSummary"]

_BATCH = 100


@dataclass
class WindowSummary:
    """One replayed window, as the table and the report show it."""

    index: int
    rows: int = 0
    accuracy: float | None = None
    drift_share: float | None = None
    alerts_firing: int = 0
    decision: str = ""
    champion_version: int | None = None
    served_versions: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            **self.__dict__,
            "served_versions": {str(k): v for k, v in self.served_versions.items()},
        }


class DemoLoop:
    """Runs one scenario end to end in ``workspace``."""

    def __init__(
        self,
        workspace: Workspace,
        scenario: Scenario,
        *,
        on_window: Callable[[WindowSummary], None] | None = None,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        self.ws = workspace
        self.scenario = scenario
        self.on_window = on_window or (lambda _summary: None)
        self.status = on_status or (lambda _text: None)
        self.windows: list[WindowSummary] = []
        self.cycles: list[dict[str, Any]] = []
        self._served: dict[int, tuple[str, int]] = {}  # stream row -> (prediction, version)
        self._ids: dict[int, str] = {}
        self._cursor = 0

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train v1, serve, replay, monitor, retrain; return the numbers of the run."""
        s = self.scenario
        frame = s.load()
        first, self.stream = (
            frame.iloc[: s.train_rows],
            frame.iloc[s.train_rows : s.train_rows + s.replay_rows].reset_index(drop=True),
        )
        self.status("training v1 on the first rows")
        self._train_v1(first)
        with _Server(self.ws, s.name) as server:
            self.base_url = server.url
            self.client = httpx.Client(base_url=server.url, timeout=30.0)
            self._prepare_loop(server)
            n_windows = len(self.stream) // s.window_rows
            for index in range(n_windows):
                self._window(index, server)
            self._send_labels(range(len(self.stream)))
            server.flush()
            self.client.close()
        return self._summary(first)

    def _train_v1(self, first: pd.DataFrame) -> None:
        from driftline.quality import suggest

        s, ws = self.scenario, self.ws
        data = ws.datasets.add(first, name=f"{s.name}-initial")
        ws.quality.check(data, suggest(first))
        result = ws.train(
            train_model,
            data=data,
            name=s.name,
            target=s.target,
            params={"target": s.target},
            holdout=0.2,
        )
        ws.registry.promote(s.name, result.model_version.version, reason="initial model")
        self.v1 = ws.registry.load(result.model_version)

    def _prepare_loop(self, server: _Server) -> None:
        from driftline.monitoring import AlertManager, LogChannel, MetricStore, presets
        from driftline.monitoring.signals.drift_windows import DriftMonitor
        from driftline.retraining import (
            Arbiter,
            ArbiterPolicy,
            CanaryPromoter,
            DriftTrigger,
            PerformanceTrigger,
            RetrainController,
            RetrainPolicy,
        )

        s, ws = self.scenario, self.ws
        self.monitor = DriftMonitor(ws, s.name, window=s.window_rows)
        self.metrics = MetricStore(ws.store)
        self.alerts = AlertManager.from_workspace(
            ws,
            rules=[presets.dataset_drift(threshold=0.3, model=s.name)],
            channels=[LogChannel()],
        )
        promoter = CanaryPromoter(
            ws,
            server.url,
            token=server.token,
            steps=(0.5, 1.0),
            bake_time_s=1.0,
            slo={"max_error_rate": 0.05, "max_p99_latency_s": 2.0, "min_requests": 8},
            poll_s=0.05,
            timeout_s=120.0,
            sleep=self._canary_traffic,
        )
        policy = RetrainPolicy(
            model=s.name,
            target=s.target,
            train_fn=train_model,
            params={"target": s.target},
            window_rows=3 * s.window_rows,
            holdout_share=0.3,
            min_rows=s.window_rows,
        )
        self.controller = RetrainController(
            ws,
            policy,
            promoter=promoter,
            arbiter=Arbiter(
                ws, ArbiterPolicy(cooldown=timedelta(0), budget=20, breaker_after=4), owner="demo"
            ),
            triggers=(
                DriftTrigger(n=2, m=3, min_share=0.5),
                PerformanceTrigger(min_labels=s.window_rows, max_relative_drop=0.08),
            ),
        )

    def _window(self, index: int, server: _Server) -> None:
        s = self.scenario
        start, end = index * s.window_rows, (index + 1) * s.window_rows
        self.status(f"window {index + 1}: serving rows {start}-{end}")
        while self._cursor < end:
            self._send(min(_BATCH, end - self._cursor))
        self._send_labels(range(max(0, start - s.window_rows), start))  # one window late
        server.flush()
        summary = WindowSummary(index=index + 1, rows=end - start)
        summary.accuracy, summary.served_versions = self._accuracy(range(start, end))
        for event in self.monitor.run_once():
            self.metrics.record(
                "driftline_dataset_drift_share",
                event.drift_share,
                labels={
                    "model": event.model_name,
                    "version": str(event.model_version),
                    "drift_event": event.id,
                },
            )
            summary.drift_share = event.drift_share
        evaluation = self.alerts.evaluate()
        summary.alerts_firing = evaluation.counts.get("firing", 0)
        self.status(f"window {index + 1}: checking triggers")
        report = self.controller.check_once().to_dict()
        summary.decision = _describe(report)
        summary.champion_version = self.ws.registry.get(f"{s.name}@champion").version
        if report["decision"] is not None:
            self.cycles.append({"window": index + 1, **report})
        self.windows.append(summary)
        self.on_window(summary)

    # -- traffic ---------------------------------------------------------------------------
    def _send(self, n: int) -> None:
        rows = self.stream.iloc[self._cursor : self._cursor + n]
        features = rows.drop(columns=[self.scenario.target])
        response = self.client.post(
            f"/v1/models/{self.scenario.name}/predict",
            json={"records": features.to_dict("records")},
        )
        if response.status_code != 200:
            raise UnavailableError(
                f"the demo server answered {response.status_code}: {response.text[:300]}"
            )
        body = response.json()
        for offset, (prediction, pid) in enumerate(
            zip(body["predictions"], body["prediction_ids"], strict=True)
        ):
            self._served[self._cursor + offset] = (str(prediction), int(body["model_version"]))
            self._ids[self._cursor + offset] = pid
        self._cursor += n

    def _canary_traffic(self, seconds: float) -> None:
        # While a canary bakes, the replay goes on: the canary is judged on real requests.
        if self._cursor < len(self.stream):
            self._send(min(25, len(self.stream) - self._cursor))
        time.sleep(seconds)

    def _send_labels(self, rows: range) -> None:
        target = self.scenario.target
        labelled = [
            {"prediction_id": self._ids[i], "label": str(self.stream.at[i, target])}
            for i in rows
            if i in self._ids
        ]
        for start in range(0, len(labelled), 1000):
            response = self.client.post(
                "/v1/feedback", json={"feedback": labelled[start : start + 1000]}
            )
            if response.status_code >= 300:
                raise UnavailableError(f"feedback refused: {response.text[:300]}")
        for i in rows:
            self._ids.pop(i, None)

    def _accuracy(self, rows: range) -> tuple[float | None, dict[int, int]]:
        served = [
            (self._served[i], str(self.stream.at[i, self.scenario.target]))
            for i in rows
            if i in self._served
        ]
        versions: dict[int, int] = {}
        for (_, version), _label in served:
            versions[version] = versions.get(version, 0) + 1
        if not served:
            return None, versions
        return float(np.mean([p == label for (p, _), label in served])), versions

    # -- the account -----------------------------------------------------------------------
    def _summary(self, first: pd.DataFrame) -> dict[str, Any]:
        s = self.scenario
        replayed = self.stream.iloc[: self._cursor]
        labels = replayed[s.target].astype(str).to_numpy()
        static = self.v1.predict(replayed.drop(columns=[s.target]))
        served = np.array([self._served[i][0] for i in range(len(replayed))])
        outcomes = [c.get("rollout") or {} for c in self.cycles]
        return {
            "scenario": s.name,
            "rows": len(replayed),
            "windows": len(self.windows),
            "retrains": sum(1 for c in self.cycles if c.get("retrain")),
            "promotions": sum(1 for o in outcomes if o.get("outcome") == "promoted"),
            "rollbacks": sum(1 for o in outcomes if o.get("outcome") == "rolled_back"),
            "accuracy_static": float(np.mean(static.astype(str) == labels)),
            "accuracy_driftline": float(np.mean(served == labels)),
            "final_champion_version": self.ws.registry.get(f"{s.name}@champion").version,
            "training_rows": len(first),
        }


def _describe(report: dict[str, Any]) -> str:
    decision = report["decision"]
    if decision is None:
        return ""
    if not decision["allowed"]:
        return f"not now: {decision['reason'].split(':')[0]}"
    retrain = report["retrain"] or {}
    rollout = report.get("rollout") or {}
    if rollout:
        return f"v{retrain.get('challenger_version')} {rollout['outcome']}"
    return f"retrain {retrain.get('status')}"


class _Server:
    """The model server on a free loopback port, in a thread, with its logs in reach."""

    def __init__(self, workspace: Workspace, model: str) -> None:
        self.ws = workspace
        self.model = model

    def __enter__(self) -> _Server:
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
        self.feedback = FeedbackLogWriter(self.ws.home / "feedback")
        options = ServingOptions(
            threads=2, poll_interval_s=0.2, canary_interval_s=0.2, batching=None
        )
        app = create_app(
            self.ws,
            models=[f"models:/{self.model}@champion"],
            options=options,
            prediction_log=self.predictions,
            feedback_log=self.feedback,
        )
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self._wait_ready()
        return self

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

    def flush(self) -> None:
        """Close the open log segments so the monitors can read every served row."""
        self.predictions.flush()
        self.feedback.flush()

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
