"""Done when: a served model and a replayed stream that drifts and comes back.

A real elec2 model is served by ``create_app`` under uvicorn on 127.0.0.1; the stream goes
through HTTP, its labels come back as feedback one window late; monitoring cycles run on an
injected clock. The drift alert fires once, reaches a webhook, Slack- and PagerDuty-shaped
endpoints and an SMTP server, and resolves when the stream returns to normal; accuracy from
the late labels equals sklearn's on the same rows; a real Prometheus scrapes the server and
reads the request counter and the drift gauges back through its HTTP API.
"""

from __future__ import annotations

import email
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from driftline.monitoring import (
    EmailChannel,
    MetricStore,
    MonitoringCollector,
    MonitoringCycle,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
    presets,
    revenue_per_prediction,
)
from driftline.monitoring.signals.drift_windows import latest_events
from driftline.serving import FeedbackLogWriter, PredictionLogWriter, ServingOptions, create_app

FEATURES = ["nswprice", "nswdemand", "vicprice", "vicdemand", "transfer", "period"]
KEY = "R0123456789abcdef0123456789ABCDE"
T0 = datetime(2026, 3, 2, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
PER_REQUEST = 10


class Ticker:
    """The one clock of the server and the monitors, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _phases(datasets: Path) -> tuple[LogisticRegression, pd.DataFrame, list[pd.DataFrame]]:
    frame = pd.read_csv(datasets / "elec2.csv.gz")
    span = frame.iloc[20_000:26_000]
    train = span.sample(frac=0.5, random_state=0)
    calm = span.drop(train.index).sample(frac=1.0, random_state=1)
    drifted = frame.iloc[500:]  # 1996: before Victoria's data, other prices and demand
    model = LogisticRegression(max_iter=500).fit(train[FEATURES], train["class"])
    phases = [calm.iloc[:90], calm.iloc[90:180], drifted.iloc[:90], drifted.iloc[90:180],
              calm.iloc[180:270], calm.iloc[270:360]]  # fmt: skip
    return model, train[[*FEATURES, "class"]], phases


def _channels(tag: str, http_receiver: Any, smtp_receiver: Any) -> list[Any]:
    return [
        WebhookChannel(http_receiver.url(f"/ok/served-{tag}/hook"), secret="e2e-secret"),
        SlackChannel(http_receiver.url(f"/ok/served-{tag}/slack")),
        PagerDutyChannel(KEY, url=http_receiver.url(f"/pd/served-{tag}")),
        EmailChannel(
            host="127.0.0.1",
            port=smtp_receiver.port,
            sender="driftline@example.com",
            recipients=[f"served-{tag}@example.com"],
        ),
    ]


def _value(result: list[dict[str, Any]]) -> float:
    (only,) = result
    return float(only["value"][1])


@pytest.mark.slow
def test_served_stream_drifts_alerts_everywhere_once_and_resolves(
    workspace: Any,
    datasets: Path,
    http_receiver: Any,
    smtp_receiver: Any,
    live: Any,
    prometheus: Any,
) -> None:
    model, train, phases = _phases(datasets)
    data = workspace.datasets.add(train, name="elec-train")
    baseline = float((model.predict(train[FEATURES]) == train["class"]).mean())
    workspace.registry.register(
        "elec", model, frame=train, target="class", dataset=data, metrics={"accuracy": baseline}
    )
    workspace.registry.promote("elec", 1, reason="first champion")
    clock = Ticker(T0)
    registry = CollectorRegistry()
    registry.register(MonitoringCollector(workspace, clock=clock))
    logs = (PredictionLogWriter(workspace.home / "predictions"),
            FeedbackLogWriter(workspace.home / "feedback"))  # fmt: skip
    app = create_app(
        workspace,
        models=["models:/elec@champion"],
        clock=clock,
        metrics_registry=registry,
        options=ServingOptions(poll_interval_s=0, canary_interval_s=0),
        prediction_log=logs[0],
        feedback_log=logs[1],
    )
    tag = workspace.store.dialect
    cycle = MonitoringCycle(
        workspace,
        rules=[presets.dataset_drift(threshold=0.3)],
        channels=_channels(tag, http_receiver, smtp_receiver),
        window=WINDOW,
        performance_window="2h",
        business_metrics=[revenue_per_prediction()],
        system=False,
        clock=clock,
    )
    served: list[dict[str, Any]] = []  # what the clients saw, with the truth kept aside
    firing, shares = [], []
    with live(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        prom = prometheus(f"127.0.0.1:{server.port}")
        for index, rows in enumerate(phases):
            start = T0 + index * WINDOW
            for offset in range(0, len(rows), PER_REQUEST):
                clock.now = start + timedelta(minutes=offset // PER_REQUEST)
                part = rows.iloc[offset : offset + PER_REQUEST]
                answer = client.post(
                    "/v1/models/elec/predict", json={"records": part[FEATURES].to_dict("records")}
                )
                assert answer.status_code == 200, answer.text
                body = answer.json()
                for pid, predicted, label in zip(
                    body["prediction_ids"], body["predictions"], part["class"], strict=True
                ):
                    served.append({"id": pid, "window": index, "prediction": predicted,
                                   "label": label, "time": clock.now})  # fmt: skip
            # The previous window's labels arrive now, about ten minutes late.
            clock.now = start + timedelta(minutes=9, seconds=30)
            late = [
                {"prediction_id": s["id"], "label": s["label"],
                 "value": 1.0 if s["prediction"] == s["label"] else -0.25}
                for s in served if s["window"] == index - 1
            ]  # fmt: skip
            if late:
                sent = client.post("/v1/feedback", json={"feedback": late})
                assert sent.json() == {"received": len(late), "accepted": len(late)}
                for s in served:
                    if s["window"] == index - 1:
                        s["delay"] = (clock.now - s["time"]).total_seconds()
            clock.now = start + WINDOW
            for log in logs:
                log.flush()  # close the open segments now instead of in five minutes
            summary = cycle.run_once()
            assert summary.all_errors == (), summary.all_errors
            firing.append(summary.evaluation.counts["firing"])
            shares.append(summary.models[0].signals["drift"]["drift_share"])
            if index == 2:  # drifting: the drift gauges reach Prometheus
                prom.wait_for('driftline_dataset_drift{model="elec"}', lambda r: _value(r) == 1)
        requests = prom.wait_for(
            'sum(driftline_requests_total{model="elec",status="200"})',
            lambda r: _value(r) == len(served) / PER_REQUEST,
        )
        # Back to normal: the gauges follow the newest window (read from the DB per scrape).
        newest = latest_events(workspace, "elec")[0]
        assert newest.window_start.startswith("2026-03-02T00:50")
        prom.wait_for(
            'driftline_dataset_drift_share{model="elec",version="1"}',
            lambda r: _value(r) == pytest.approx(newest.drift_share),
        )
        prom.wait_for('driftline_dataset_drift{model="elec"}', lambda r: _value(r) == 0)
        prom.wait_for(
            'driftline_feature_drift_score{model="elec",feature="nswprice"}',
            lambda r: _value(r) == pytest.approx(newest.features["nswprice"]["statistic"]),
        )
    assert _value(requests) == 54 and newest.drift_share < 0.3

    assert [s > 0.3 for s in shares] == [False, False, True, True, False, False]
    assert firing == [0, 0, 1, 1, 0, 0]  # one alert, firing for two cycles, then resolved
    (alert,) = cycle.manager.alerts.query()
    assert alert.rule == "DatasetDrift" and str(alert.state) == "resolved"
    assert alert.fired_at == T0 + 3 * WINDOW and alert.ended_at == T0 + 5 * WINDOW

    hook = http_receiver.at(f"/ok/served-{tag}/hook")
    assert [r.json()["status"] for r in hook] == ["firing", "resolved"]
    for request in hook:
        digest = hmac.new(b"e2e-secret", request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-driftline-signature"] == f"sha256={digest}"
    slack = [r.json() for r in http_receiver.at(f"/ok/served-{tag}/slack")]
    assert [m["text"].split("]")[0] for m in slack] == ["[FIRING:1", "[RESOLVED:1"]
    assert all(m["blocks"] for m in slack)
    pagerduty = [r.json() for r in http_receiver.at(f"/pd/served-{tag}")]
    assert [e["event_action"] for e in pagerduty] == ["trigger", "resolve"]
    assert {e["dedup_key"] for e in pagerduty} == {alert.fingerprint}
    assert pagerduty[0]["routing_key"] == KEY and pagerduty[0]["payload"]["severity"] == "warning"
    mails = [m for m in smtp_receiver.messages if m["to"] == [f"served-{tag}@example.com"]]
    subjects = [email.message_from_string(m["data"], policy=default)["Subject"] for m in mails]
    assert [s.split(" ")[:2] for s in subjects] == [
        ["[FIRING:1]", "DatasetDrift"],
        ["[RESOLVED:1]", "DatasetDrift"],
    ]

    # Accuracy from the late labels: the labelled rows are windows 0-4 (window 5's labels
    # are still to come); the same rows straight into sklearn.
    now = T0 + 6 * WINDOW
    labelled = [s for s in served if s["window"] < 5]
    direct = accuracy_score([s["label"] for s in labelled], [s["prediction"] for s in labelled])
    store = MetricStore(workspace.store)
    (accuracy,) = store.latest("driftline_model_accuracy", at=now)
    assert accuracy.labels == {"model": "elec", "version": "1"}
    assert accuracy.value == pytest.approx(direct, abs=1e-12)
    (coverage,) = store.latest("driftline_label_coverage", at=now)
    assert coverage.value == pytest.approx(len(labelled) / len(served))
    (revenue,) = store.latest("driftline_revenue_per_prediction", at=now)
    values = [1.0 if s["prediction"] == s["label"] else -0.25 for s in labelled]
    assert revenue.value == pytest.approx(sum(values) / len(values))
    delays = np.array([s["delay"] for s in labelled])
    (p50,) = store.latest("driftline_label_delay_seconds", at=now)
    (p90,) = store.latest("driftline_label_delay_p90_seconds", at=now)
    assert (p50.value, p90.value) == (np.percentile(delays, 50), np.percentile(delays, 90))
