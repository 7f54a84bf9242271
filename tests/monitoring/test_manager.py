"""The alert lifecycle on SQLite and PostgreSQL: states, dedup, grouping, repeats, silences,
audit and lineage, and delivery failures that never stop the manager."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from driftline.exceptions import ConflictError, UnavailableError, ValidationError
from driftline.monitoring import (
    AlertManager,
    AlertRule,
    AlertState,
    DeliveryResult,
    Notification,
    RetryPolicy,
    WebhookChannel,
    presets,
)
from driftline.testing.channel_checks import VirtualTime

T0 = datetime(2026, 6, 1, tzinfo=UTC)
DRIFT = "driftline_feature_drift_score"


class Tick:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@dataclass
class Recorder:
    """An in-memory channel that records what it is sent."""

    name: str = "recorder"
    sent: list[Notification] = field(default_factory=list)
    fail: bool = False

    def send(self, notification: Notification) -> DeliveryResult:
        self.sent.append(notification)
        return DeliveryResult(self.name, not self.fail, 1, error="down" if self.fail else None)

    def events(self) -> list[tuple[str, str]]:
        return [(a.rule, a.state.value) for n in self.sent for a in n.alerts]


@pytest.fixture
def tick() -> Tick:
    return Tick()


def _manager(
    workspace: Any, tick: Tick, rules: Sequence[AlertRule], channels: Sequence[Any] = (), **kw: Any
) -> AlertManager:
    return AlertManager.from_workspace(workspace, rules=rules, channels=channels, clock=tick, **kw)


def _feed(manager: AlertManager, value: float, feature: str = "age", **labels: str) -> None:
    manager.metrics.record(
        DRIFT,
        value,
        labels={"model": "fraud", "version": "1", "feature": feature, **labels},
        time=manager.clock(),
    )


def test_pending_then_firing_after_for_then_resolved(workspace: Any, tick: Tick) -> None:
    recorder = Recorder()
    manager = _manager(
        workspace, tick, [presets.feature_drift(threshold=0.2, for_="10m")], [recorder]
    )
    states = []
    for _ in range(13):
        _feed(manager, 0.4)
        states.append([str(t.to_state) for t in manager.evaluate().transitions])
        tick.advance(minutes=1)
    assert states[0] == ["pending"] and states[10] == ["firing"]
    assert all(s == [] for i, s in enumerate(states) if i not in (0, 10))
    assert recorder.events() == [("FeatureDrift", "firing")]  # pending is not told
    _feed(manager, 0.05)
    assert [str(t.to_state) for t in manager.evaluate().transitions] == ["resolved"]
    assert recorder.events()[-1] == ("FeatureDrift", "resolved")
    (alert,) = manager.alerts.query()
    moves = [(str(t.from_state), str(t.to_state)) for t in manager.alerts.transitions(alert.id)]
    assert moves == [("inactive", "pending"), ("pending", "firing"), ("firing", "resolved")]
    assert alert.fired_at == T0 + timedelta(minutes=10)
    assert alert.ended_at == T0 + timedelta(minutes=13)
    actions = [e.action for e in workspace.audit.entries(subject=alert.id, newest_first=False)]
    assert actions == ["lineage.node.add", "alert.pending", "alert.firing", "alert.resolved"]
    assert workspace.audit.verify().intact
    node = workspace.lineage.node(alert.id)
    assert str(node.kind) == "alert" and node.attributes["fingerprint"] == alert.fingerprint


def test_a_pending_alert_that_clears_goes_inactive_untold(workspace: Any, tick: Tick) -> None:
    recorder = Recorder()
    manager = _manager(
        workspace, tick, [presets.feature_drift(threshold=0.2, for_="10m")], [recorder]
    )
    _feed(manager, 0.4)
    manager.evaluate()
    tick.advance(minutes=3)
    _feed(manager, 0.1)
    assert [str(t.to_state) for t in manager.evaluate().transitions] == ["inactive"]
    assert recorder.sent == []
    assert manager.alerts.query(state="inactive")[0].ended_at == tick.now


def test_fires_once_not_once_per_cycle_and_repeats_after_the_interval(
    workspace: Any, tick: Tick
) -> None:
    recorder = Recorder()
    manager = _manager(
        workspace,
        tick,
        [presets.feature_drift(threshold=0.2)],
        [recorder],
        repeat_interval=timedelta(hours=1),
    )
    for _ in range(30):  # 30 cycles, 1 minute apart: one alert, told once
        _feed(manager, 0.5)
        manager.evaluate()
        tick.advance(minutes=1)
    assert recorder.events() == [("FeatureDrift", "firing")]
    assert len(manager.alerts.query()) == 1
    tick.now = T0 + timedelta(minutes=59)
    _feed(manager, 0.5)
    manager.evaluate()
    assert len(recorder.sent) == 1
    tick.now = T0 + timedelta(minutes=60)
    _feed(manager, 0.5)
    manager.evaluate()
    assert recorder.events() == [("FeatureDrift", "firing")] * 2
    assert recorder.sent[1].alerts[0].id == recorder.sent[0].alerts[0].id  # same alert


def test_dedup_by_fingerprint_and_stale_series_resolve(workspace: Any, tick: Tick) -> None:
    manager = _manager(workspace, tick, [presets.feature_drift(threshold=0.2)])
    _feed(manager, 0.5, "age")
    _feed(manager, 0.6, "income")
    _feed(manager, 0.1, "zip")
    result = manager.evaluate()
    assert result.counts == {"pending": 0, "firing": 2}
    alerts = {a.labels["feature"]: a for a in manager.alerts.query(state="firing")}
    assert set(alerts) == {"age", "income"}
    assert alerts["age"].fingerprint != alerts["income"].fingerprint
    assert alerts["age"].labels == {
        "model": "fraud", "version": "1", "feature": "age", "category": "drift",
        "alertname": "FeatureDrift", "severity": "warning",
    }  # fmt: skip
    assert alerts["age"].annotations["summary"] == "fraud: feature age drifted (score 0.5)"
    tick.advance(minutes=2)
    _feed(manager, 0.7, "age")  # income sends nothing more: stale after the 5 min lookback
    manager.evaluate()
    assert manager.alerts.get(alerts["age"].id).value == 0.7
    tick.advance(minutes=4)
    _feed(manager, 0.7, "age")
    moved = manager.evaluate().transitions
    assert [(t.alert_id, str(t.to_state)) for t in moved] == [(alerts["income"].id, "resolved")]


def test_new_drift_events_link_to_the_one_open_alert(workspace: Any, tick: Tick) -> None:
    manager = _manager(workspace, tick, [presets.feature_drift(threshold=0.2)])
    events = [f"drift-event-{i}" for i in range(3)]
    for event in events[:2]:
        workspace.lineage.add_node(event, "drift_event", "fraud drift check")
    for event in events:  # the third names no recorded node: it still alerts, without an edge
        _feed(manager, 0.5, drift_event=event)
        manager.evaluate()
        tick.advance(minutes=1)
    (alert,) = manager.alerts.query()
    assert "drift_event" not in alert.labels
    upstream = workspace.lineage.upstream(alert.id)
    assert {e.src for e in upstream.edges} == set(events[:2])
    assert {e.relation for e in upstream.edges} == {"triggered"}


def test_grouping_puts_alerts_of_a_group_in_one_notification(workspace: Any, tick: Tick) -> None:
    per_alert, grouped = Recorder("per-alert"), Recorder("grouped")
    rules = [presets.feature_drift(threshold=0.2)]
    one = _manager(workspace, tick, rules, [per_alert])
    for feature in ("age", "income", "zip"):
        _feed(one, 0.5, feature)
    one.evaluate()
    assert [len(n.alerts) for n in per_alert.sent] == [1, 1, 1]
    by_model = _manager(workspace, tick, rules, [grouped], group_by=["alertname", "model"])
    tick.advance(hours=5)  # past the repeat interval, so every firing alert is due again
    for feature in ("age", "income", "zip"):
        _feed(by_model, 0.5, feature)
    by_model.evaluate()
    (notification,) = grouped.sent
    assert notification.group_labels == {"alertname": "FeatureDrift", "model": "fraud"}
    assert sorted(a.labels["feature"] for a in notification.alerts) == ["age", "income", "zip"]
    assert notification.title() == "[FIRING:3] FeatureDrift (model=fraud)"


def test_silences_mute_by_rule_or_labels_until_they_expire(workspace: Any, tick: Tick) -> None:
    recorder = Recorder()
    manager = _manager(workspace, tick, [presets.feature_drift(threshold=0.2)], [recorder])
    by_rule = manager.alerts.silence(rule="FeatureDrift", duration="2h", reason="retraining")
    assert by_rule.expires_at == T0 + timedelta(hours=2)
    for _ in range(3):
        _feed(manager, 0.5, "age")
        manager.evaluate()
        tick.advance(minutes=30)
    assert recorder.sent == [] and manager.alerts.query(state="firing")  # evaluated, untold
    tick.now = T0 + timedelta(hours=2)
    _feed(manager, 0.5, "age")
    manager.evaluate()
    assert recorder.events() == [("FeatureDrift", "firing")]
    manager.alerts.silence(matchers={"feature": "income"}, duration="1h")
    _feed(manager, 0.5, "income")
    _feed(manager, 0.5, "age")
    manager.evaluate()
    assert len(recorder.sent) == 1  # income muted by label, age already told
    (active,) = manager.alerts.silences()
    manager.alerts.expire_silence(active.id)
    _feed(manager, 0.5, "income")
    manager.evaluate()
    assert recorder.sent[-1].alerts[0].labels["feature"] == "income"


def test_silence_input_is_checked(sqlite_workspace: Any, tick: Tick) -> None:
    manager = _manager(sqlite_workspace, tick, [])
    with pytest.raises(ValidationError, match="needs a rule name, label matchers or both"):
        manager.alerts.silence(duration="1h")
    with pytest.raises(ValidationError, match="'forever' is not a duration"):
        manager.alerts.silence(rule="X", duration="forever")
    with pytest.raises(ValidationError, match="must be positive"):
        manager.alerts.silence(rule="X", duration="0s")


def test_a_failing_channel_is_recorded_and_retried_without_stopping(
    workspace: Any, tick: Tick, http_receiver: Any
) -> None:
    time = VirtualTime()
    broken = WebhookChannel(
        http_receiver.url("/status/500"),
        name="broken",
        retry=RetryPolicy(max_attempts=2),
        sleep=time.sleep,
        monotonic=time.monotonic,
    )

    class Raising:
        name = "raising"

        def send(self, notification: Notification) -> DeliveryResult:
            raise RuntimeError("bug in a custom channel")

    healthy = Recorder()
    registry = CollectorRegistry()
    manager = _manager(
        workspace,
        tick,
        [presets.feature_drift(threshold=0.2)],
        [broken, Raising(), healthy],
        registry=registry,
    )
    for _ in range(3):
        _feed(manager, 0.5)
        result = manager.evaluate()
        tick.advance(minutes=1)
    assert result.errors == ()
    assert result.delivery_failures == 2  # broken and raising, retried each cycle
    assert len(healthy.sent) == 1
    (alert,) = manager.alerts.query()
    deliveries = manager.alerts.deliveries([alert.id])
    failed = [d for d in deliveries if d.channel == "broken"]
    assert len(failed) == 3 and all(d.status == "failed" and d.attempts == 2 for d in failed)
    assert all(d.status_code == 500 and "HTTP 500" in (d.error or "") for d in failed)
    raising = [d for d in deliveries if d.channel == "raising"]
    assert raising[0].error == "RuntimeError: bug in a custom channel"
    assert manager.alerts.delivery_counts() == {
        "broken": {"failed": 3}, "raising": {"failed": 3}, "recorder": {"delivered": 1},
    }  # fmt: skip
    value = registry.get_sample_value
    labels = {"channel": "broken", "result": "failed"}
    assert value("driftline_alert_notifications_total", labels) == 3
    assert value("driftline_alert_notifications_total", {**labels, "channel": "recorder",
                                                         "result": "delivered"}) == 1  # fmt: skip


def test_a_failed_delivery_is_retried_next_cycle_until_it_lands(workspace: Any, tick: Tick) -> None:
    flaky = Recorder(fail=True)
    manager = _manager(workspace, tick, [presets.feature_drift(threshold=0.2)], [flaky])
    _feed(manager, 0.5)
    manager.evaluate()
    _feed(manager, 0.1)  # resolves before the firing ever landed: no resolve to tell
    tick.advance(minutes=1)
    _feed(manager, 0.1)
    manager.evaluate()
    assert flaky.events() == [("FeatureDrift", "firing")]
    # A second episode: the firing lands on the 2nd try, the resolve on the 2nd try too.
    tick.advance(minutes=10)
    _feed(manager, 0.6)
    manager.evaluate()
    flaky.fail = False
    tick.advance(minutes=1)
    _feed(manager, 0.6)
    manager.evaluate()
    flaky.fail = True
    tick.advance(minutes=1)
    _feed(manager, 0.1)
    manager.evaluate()
    flaky.fail = False
    tick.advance(minutes=1)
    _feed(manager, 0.1)
    manager.evaluate()
    tick.advance(minutes=1)
    manager.evaluate()
    second = [e for e in flaky.events()[1:]]
    assert second == [("FeatureDrift", "firing")] * 2 + [("FeatureDrift", "resolved")] * 2


def test_unknown_metrics_and_duplicate_names_are_refused(sqlite_workspace: Any, tick: Tick) -> None:
    workspace = sqlite_workspace
    with pytest.raises(ValidationError, match="did you mean 'driftline_model_accuracy'"):
        _manager(workspace, tick, [AlertRule("Acc", "driftline_model_acuracy", "<", 0.8)])
    custom = AlertRule("Revenue", "shop_revenue", "<", 1.0)
    assert _manager(workspace, tick, [custom], catalogue=None).rules["Revenue"] is custom
    with pytest.raises(ValidationError, match="two rules are named 'FeatureDrift'"):
        _manager(workspace, tick, [presets.feature_drift(), presets.feature_drift()])
    with pytest.raises(ValidationError, match="two channels are named 'recorder'"):
        _manager(workspace, tick, [], [Recorder(), Recorder()])


def test_a_failed_audit_write_rolls_the_transition_back(
    workspace: Any, tick: Tick, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = _manager(workspace, tick, [presets.feature_drift(threshold=0.2)])
    _feed(manager, 0.5)
    real = workspace.audit.append

    def broken(conn: Any, **kwargs: Any) -> Any:
        if kwargs["action"].startswith("alert."):
            raise UnavailableError("audit log unavailable")
        return real(conn, **kwargs)

    monkeypatch.setattr(workspace.audit, "append", broken)
    result = manager.evaluate()
    assert result.transitions == () and "audit log unavailable" in result.errors[0]
    assert manager.alerts.query() == []  # the alert row rolled back with its audit entry
    monkeypatch.setattr(workspace.audit, "append", real)
    assert [str(t.to_state) for t in manager.evaluate().transitions] == ["firing"]  # retried
    assert manager.metrics.query(DRIFT)  # the signal itself was never lost


def test_one_fingerprint_has_one_open_alert(workspace: Any, tick: Tick) -> None:
    manager = _manager(workspace, tick, [presets.feature_drift(threshold=0.2)])
    rule = manager.rules["FeatureDrift"]
    kwargs = {"labels": {"feature": "a"}, "fingerprint": "f" * 64, "value": 1.0, "references": {}}
    manager.alerts.open(rule, at=T0, **kwargs)
    with pytest.raises(ConflictError, match="already open"):
        manager.alerts.open(rule, at=T0 + timedelta(seconds=1), **kwargs)
    (alert,) = manager.alerts.active()
    manager.alerts.move(alert, AlertState.RESOLVED, rule=rule, value=None, at=T0)
    with pytest.raises(ConflictError, match="no longer firing"):
        manager.alerts.move(alert, AlertState.RESOLVED, rule=rule, value=None, at=T0)
    manager.alerts.open(rule, at=T0 + timedelta(minutes=1), **kwargs)  # a new episode
    assert len(manager.alerts.query(state="all")) == 2


def test_an_unreadable_history_keeps_alerts_and_the_loop_going(
    sqlite_workspace: Any, tick: Tick, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    rules = [presets.feature_drift(threshold=0.2), presets.dataset_drift(threshold=0.3)]
    manager = _manager(sqlite_workspace, tick, rules, [recorder])
    _feed(manager, 0.5)
    manager.evaluate()
    real_latest = manager.metrics.latest

    def flaky_latest(name: str, **kwargs: Any) -> Any:
        if name == DRIFT:
            raise UnavailableError("metric history unreachable")
        return real_latest(name, **kwargs)

    monkeypatch.setattr(manager.metrics, "latest", flaky_latest)
    tick.advance(minutes=10)  # the drift sample is stale now, but unreadable is not "gone"
    manager.metrics.record(
        "driftline_dataset_drift_share", 0.5, labels={"model": "fraud", "version": "1"},
        time=tick.now,
    )  # fmt: skip
    result = manager.evaluate()
    assert result.errors == (
        "rule 'FeatureDrift': cannot read 'driftline_feature_drift_score': "
        "metric history unreachable",
    )
    assert [(t.to_state, manager.alerts.get(t.alert_id).rule) for t in result.transitions] == [
        ("firing", "DatasetDrift")
    ]
    assert result.counts == {"pending": 0, "firing": 2}  # FeatureDrift kept, not resolved

    def database_down(*args: Any) -> Any:
        raise UnavailableError("database down")

    monkeypatch.setattr(manager.alerts, "active", database_down)
    down = manager.evaluate()
    assert down.errors == ("cannot read open alerts: database down",) and not down.transitions
