"""The closed loop on a real stream, in compressed time, through a real HTTP server.

v1 is trained on the stream's first rows and served; the rest is replayed in time order
through the native HTTP endpoint, labels follow one window later through ``/v1/feedback``;
after each window the prediction log is monitored for drift, alerts are evaluated, and the
retraining controller decides. A promotion runs as a canary on the same server while the
replay keeps sending traffic, so the canary is judged on real requests. The transport is
injectable: :class:`~driftline.demo._transport.InProcessTransport` runs the same loop
without a server (the alias moves at once, no canary), as the closed-loop benchmark does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from driftline.demo._transport import HttpTransport, Transport
from driftline.demo.scenarios import Scenario, train_model
from driftline.exceptions import UnavailableError

if TYPE_CHECKING:
    from driftline.retraining import Promoter
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
        transport: Transport | None = None,
    ) -> None:
        self.ws = workspace
        self.scenario = scenario
        self.transport = transport or HttpTransport(workspace, scenario.name)
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
        self.transport.start()
        try:
            self._prepare_loop(self.transport.promoter(self._canary_traffic))
            n_windows = len(self.stream) // s.window_rows
            for index in range(n_windows):
                self._window(index)
            self._send_labels(range(len(self.stream)))
            self.transport.flush()
        finally:
            self.transport.close()
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

    def _prepare_loop(self, promoter: Promoter) -> None:
        from driftline.monitoring import AlertManager, LogChannel, MetricStore, presets
        from driftline.monitoring.signals.drift_windows import DriftMonitor
        from driftline.retraining import (
            Arbiter,
            ArbiterPolicy,
            DriftTrigger,
            FollowUpTrigger,
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
        policy = RetrainPolicy(
            model=s.name,
            target=s.target,
            train_fn=train_model,
            params={"target": s.target},
            window_rows=3 * s.window_rows,
            holdout_share=0.3,
            min_rows=s.window_rows,
            # After a change the champion's own evidence is stale: a challenger trained on
            # recent rows replaces it unless it is likely worse by more than a point.
            min_improvement=-0.01,
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
                # Training windows are 3 windows long: 3 follow-ups, a window apart, reach
                # a model trained on rows from after the change only.
                FollowUpTrigger(every_rows=s.window_rows, count=3),
            ),
        )

    def _window(self, index: int) -> None:
        s = self.scenario
        start, end = index * s.window_rows, (index + 1) * s.window_rows
        self.status(f"window {index + 1}: serving rows {start}-{end}")
        while self._cursor < end:
            self._send(min(_BATCH, end - self._cursor))
        self._send_labels(range(max(0, start - s.window_rows), start))  # one window late
        self.transport.flush()
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
        answer = self.transport.predict(rows.drop(columns=[self.scenario.target]))
        for offset, (prediction, pid) in enumerate(
            zip(answer.predictions, answer.prediction_ids, strict=True)
        ):
            self._served[self._cursor + offset] = (str(prediction), answer.model_version)
            self._ids[self._cursor + offset] = pid
        self._cursor += n

    def _canary_traffic(self, seconds: float) -> None:
        # While a canary bakes, the replay goes on: the canary is judged on real requests.
        # When the stream has no rows left, nothing can judge it: the promoter ends it at
        # once (the champion stays) instead of waiting out its timeout.
        if self._cursor >= len(self.stream):
            raise UnavailableError(
                "the replay has no rows left to send, so the canary cannot be judged"
            )
        self._send(min(25, len(self.stream) - self._cursor))
        time.sleep(seconds)

    def _send_labels(self, rows: range) -> None:
        target = self.scenario.target
        labelled = [
            {"prediction_id": self._ids[i], "label": str(self.stream.at[i, target])}
            for i in rows
            if i in self._ids
        ]
        if labelled:
            self.transport.feedback(labelled)
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
