"""A replayed real stream drifts and returns: the drift alert fires once, reaches a webhook,
Slack-, PagerDuty-shaped and SMTP receivers on loopback, and resolves."""

from __future__ import annotations

import email
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.policy import default
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from driftline.ids import uuid7
from driftline.monitoring import (
    AlertManager,
    EmailChannel,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
    presets,
)

T0 = datetime(2026, 6, 1, tzinfo=UTC)
KEY = "R0123456789abcdef0123456789ABCDE"
# elec2's vicdemand is constant before row 17,424 (no Victorian data), varies after it.
REPLAY = [4000, 8000, 20000, 24000, 28000, 32000, 36000, 12000, 14000]
WINDOW = 500


def test_drift_alert_fires_once_everywhere_and_resolves(
    workspace: Any, datasets: Path, http_receiver: Any, smtp_receiver: Any
) -> None:
    values = pd.read_csv(datasets / "elec2.csv.gz", usecols=["vicdemand"])["vicdemand"]
    reference = values.to_numpy()[:4000]
    tag = workspace.store.dialect
    mailbox = f"e2e-{tag}@example.com"
    channels = [
        WebhookChannel(http_receiver.url(f"/ok/e2e-{tag}/hook"), secret="e2e-secret"),
        SlackChannel(http_receiver.url(f"/ok/e2e-{tag}/slack")),
        PagerDutyChannel(KEY, url=http_receiver.url(f"/pd/e2e-{tag}")),
        EmailChannel(
            host="127.0.0.1",
            port=smtp_receiver.port,
            sender="driftline@example.com",
            recipients=[mailbox],
        ),
    ]
    now = [T0]
    manager = AlertManager.from_workspace(
        workspace,
        rules=[presets.feature_drift(threshold=0.2)],
        channels=channels,
        clock=lambda: now[0],
    )
    scores, events = [], []
    for start in REPLAY:
        window = values.to_numpy()[start : start + WINDOW]
        score = float(stats.ks_2samp(reference, window).statistic)
        event = str(uuid7())
        workspace.lineage.add_node(
            event, "drift_event", "elec2 vicdemand", attributes={"rows": [start, start + WINDOW]}
        )
        manager.metrics.record(
            "driftline_feature_drift_score",
            score,
            labels={"model": "elec", "version": "1", "feature": "vicdemand", "drift_event": event},
            time=now[0],
        )
        result = manager.evaluate()
        assert result.errors == () and result.delivery_failures == 0
        scores.append(score)
        events.append(event)
        now[0] += timedelta(minutes=5)
    drifted = [i for i, s in enumerate(scores) if s > 0.2]
    assert drifted == [2, 3, 4, 5, 6]  # the replay drifts, then returns to normal

    (alert,) = manager.alerts.query()
    assert alert.state == "resolved"
    assert alert.fired_at == T0 + timedelta(minutes=10)
    assert alert.ended_at == T0 + timedelta(minutes=35)

    hook = http_receiver.at(f"/ok/e2e-{tag}/hook")
    assert [r.json()["status"] for r in hook] == ["firing", "resolved"]
    for request in hook:
        digest = hmac.new(b"e2e-secret", request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-driftline-signature"] == f"sha256={digest}"
    slack = [r.json()["text"] for r in http_receiver.at(f"/ok/e2e-{tag}/slack")]
    assert [t.split("]")[0] for t in slack] == ["[FIRING:1", "[RESOLVED:1"]
    pagerduty = [r.json() for r in http_receiver.at(f"/pd/e2e-{tag}")]
    assert [e["event_action"] for e in pagerduty] == ["trigger", "resolve"]
    assert {e["dedup_key"] for e in pagerduty} == {alert.fingerprint}
    mails = [m for m in smtp_receiver.messages if m["to"] == [mailbox]]
    subjects = [email.message_from_string(m["data"], policy=default)["Subject"] for m in mails]
    labels = "(category=drift, feature=vicdemand, model=elec, version=1)"
    assert subjects == [f"[FIRING:1] FeatureDrift {labels}", f"[RESOLVED:1] FeatureDrift {labels}"]
    deliveries = manager.alerts.deliveries([alert.id])
    assert len(deliveries) == 8 and all(d.delivered for d in deliveries)

    upstream = workspace.lineage.upstream(alert.id, depth=1)
    assert {e.src for e in upstream.edges} == {events[i] for i in drifted}
    assert workspace.audit.verify().intact
