"""One monitoring cycle over a real model's logged traffic: what it measures and records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from scipy import stats
from sklearn.metrics import accuracy_score

from driftline.exceptions import NotFoundError, UnavailableError, ValidationError
from driftline.ids import uuid7
from driftline.monitoring import (
    AlertRule,
    BusinessMetric,
    CpuCost,
    MetricStore,
    MonitoringCycle,
    presets,
    revenue_per_prediction,
)
from driftline.monitoring.signals.drift_windows import latest_events

MV = {"model": "elec", "version": "1"}


def _latest(ws: Any, name: str, at: Any, **matchers: str) -> list[Any]:
    return MetricStore(ws.store).latest(name, matchers=matchers or None, at=at)


def _value(ws: Any, name: str, at: Any, **matchers: str) -> float:
    (sample,) = _latest(ws, name, at, **matchers)
    return float(sample.value)


@pytest.fixture
def labelled(workspace: Any, kit: Any) -> dict[str, Any]:
    """450 predictions 8 s apart; the first 300 labelled 15-19 min later with a value;
    one label of the wrong type and one for an unknown prediction in the last minutes."""
    version = kit.register(workspace)
    traffic = kit.serve(workspace, kit.elec.holdout.iloc[:450], kit.t0, every=timedelta(seconds=8))
    delays = [timedelta(minutes=15 + i % 5) for i in range(300)]
    values = [round(2.5 + (i % 7) * 0.75, 2) for i in range(300)]
    late = kit.t0 + timedelta(minutes=58)
    kit.feedback(
        workspace,
        [
            {
                "prediction_id": traffic.ids[i],
                "label": traffic.labels[i],
                "value": values[i],
                "time": traffic.times[i] + delays[i],
            }
            for i in range(300)
        ]
        + [
            {"prediction_id": traffic.ids[300], "label": 1, "time": late},
            {"prediction_id": str(uuid7()), "label": "UP", "time": late},
        ],
    )
    return {"version": version, "traffic": traffic, "delays": delays, "values": values}


def test_performance_from_late_labels_matches_direct_computation(
    workspace: Any, kit: Any, labelled: dict[str, Any]
) -> None:
    now = kit.t0 + timedelta(minutes=61)
    cycle = MonitoringCycle(
        workspace,
        rules=[],
        system=False,
        window="10m",
        performance_window="2h",
        business_metrics=[revenue_per_prediction()],
    )
    summary = cycle.run_once(now)
    assert summary.all_errors == ()
    traffic = labelled["traffic"]
    accuracy = accuracy_score(traffic.labels[:300], traffic.predictions[:300])
    assert _value(workspace, "driftline_model_accuracy", now, **MV) == pytest.approx(accuracy)
    assert _value(
        workspace, "driftline_model_performance", now, metric="accuracy"
    ) == pytest.approx(accuracy)
    assert _value(workspace, "driftline_label_coverage", now) == pytest.approx(300 / 450)
    seconds = [d.total_seconds() for d in labelled["delays"]]
    assert _value(workspace, "driftline_label_delay_seconds", now) == pytest.approx(
        kit.percentile(seconds, 50)
    )
    assert _value(workspace, "driftline_label_delay_p90_seconds", now) == pytest.approx(
        kit.percentile(seconds, 90)
    )
    baseline = labelled["version"].metrics["accuracy"]
    assert _value(
        workspace, "driftline_model_performance_degradation", now, metric="accuracy"
    ) == pytest.approx((baseline - accuracy) / baseline)
    revenue = sum(labelled["values"]) / 300
    assert _value(workspace, "driftline_revenue_per_prediction", now) == pytest.approx(revenue)
    assert summary.feedback == {"unknown_prediction_id": 1, "label_type": 1}
    rejected = {
        s.labels["reason"]: s.value
        for s in _latest(workspace, "driftline_feedback_rejected_rows", now)
    }
    assert rejected == {"unknown_prediction_id": 1.0, "label_type": 1.0}
    (report,) = summary.to_dict()["models"]
    assert (
        report["task"] == "classification" and report["signals"]["performance"]["labelled"] == 300
    )


def test_estimate_is_labelled_as_one_and_agrees_with_the_labels_withheld(
    workspace: Any, kit: Any, labelled: dict[str, Any]
) -> None:
    now = kit.t0 + timedelta(minutes=61)
    summary = MonitoringCycle(
        workspace, rules=[], system=False, window="10m", performance_window="2h"
    ).run_once(now)
    estimate = summary.models[0].signals["estimate"]
    assert estimate["is_estimate"] is True and estimate["n"] == 150
    assert estimate["calibration_rows"] == 300
    value = _value(workspace, "driftline_model_accuracy_estimated", now, **MV)
    assert value == pytest.approx(estimate["accuracy"])
    traffic = labelled["traffic"]
    correct = sum(
        p == y for p, y in zip(traffic.predictions[300:], traffic.labels[300:], strict=True)
    )
    low, high = stats.binom.interval(0.99, 150, value)
    assert low <= correct <= high  # the withheld labels fall inside the estimate's 99% range


def test_drift_and_quality_of_the_last_window_are_recorded(
    workspace: Any, kit: Any, labelled: dict[str, Any]
) -> None:
    now = kit.t0 + timedelta(minutes=61)
    summary = MonitoringCycle(
        workspace, rules=[], system=False, window="10m", performance_window="2h"
    ).run_once(now)
    drift = summary.models[0].signals["drift"]
    assert drift["new_events"] == 6  # six complete 10-minute windows; the seventh is open
    scores = {
        s.labels["feature"]: s.value
        for s in _latest(workspace, "driftline_feature_drift_score", now)
    }
    assert scores == drift["scores"] and set(scores) == set(kit.features)
    (share,) = _latest(workspace, "driftline_dataset_drift_share", now)
    assert share.value == drift["drift_share"] and share.labels["drift_event"] == drift["event"]
    quality = summary.models[0].signals["quality"]
    assert quality["source"] == "suggested" and quality["dataset"] == "elec-train:1"
    rates = {
        s.labels["check"]: s.value
        for s in _latest(workspace, "driftline_quality_violation_rate", now)
    }
    assert rates == quality["violation_rates"] and rates["completeness:nswprice"] == 0.0
    latency = {
        s.labels["route"]: s.value
        for s in _latest(workspace, "driftline_request_latency_p99_seconds", now)
    }
    since = now - timedelta(minutes=10)
    times = labelled["traffic"].times
    recent = [(1.0 + i % 7) / 1000 for i, t in enumerate(times) if t > since]
    assert latency == {"primary": pytest.approx(kit.percentile(recent, 99))}


def test_cpu_cost_per_prediction_between_cycles(workspace: Any, kit: Any) -> None:
    kit.register(workspace)
    readings = iter([100.0, 103.0])
    cycle = MonitoringCycle(
        workspace,
        rules=[],
        system=False,
        window="10m",
        cost=CpuCost(cpu_seconds=lambda: next(readings)),
    )
    kit.serve(workspace, kit.elec.holdout.iloc[:40], kit.t0)
    first = cycle.run_once(kit.t0 + timedelta(minutes=5))
    assert first.models[0].signals["cost"]["cpu_seconds_per_prediction"] is None
    kit.serve(workspace, kit.elec.holdout.iloc[40:100], kit.t0 + timedelta(minutes=6))
    now = kit.t0 + timedelta(minutes=15)
    second = cycle.run_once(now)
    assert second.models[0].signals["cost"] == {
        "cpu_seconds_per_prediction": 3.0 / 60,
        "predictions": 60,
    }
    assert _value(workspace, "driftline_cost_per_prediction_seconds", now, **MV) == 3.0 / 60


def test_system_metrics_skip_the_first_cpu_reading(tmp_path: Any, kit: Any) -> None:
    from driftline import Workspace

    with Workspace.open(home=tmp_path / "ws") as ws:
        cycle = MonitoringCycle(ws, models=[], rules=[])
        first = cycle.run_once(kit.t0)
        assert 0.0 <= first.system["memory_percent"] <= 100.0
        assert _latest(ws, "driftline_system_cpu_percent", kit.t0) == []
        (disk,) = _latest(ws, "driftline_system_disk_percent", kit.t0)
        assert disk.labels == {"path": str(ws.home)} and disk.value == first.system["disk_percent"]
        later = kit.t0 + timedelta(minutes=1)
        cycle.run_once(later)
        assert len(_latest(ws, "driftline_system_cpu_percent", later)) == 1


def test_champions_are_monitored_by_default_and_bad_targets_do_not_stop_the_cycle(
    workspace: Any, kit: Any
) -> None:
    kit.register(workspace)
    workspace.registry.register("no-alias", kit.elec.model, frame=kit.elec.train, target="class")
    kit.serve(workspace, kit.elec.holdout.iloc[:60], kit.t0)
    assert MonitoringCycle(workspace, rules=[], system=False)._targets([]) == [
        "models:/elec@champion"
    ]
    failing = BusinessMetric("shop_broken", lambda window: 1 / 0)
    cycle = MonitoringCycle(
        workspace,
        models=["models:/missing@champion", "models:/elec@champion"],
        rules=[],
        system=False,
        window="10m",
        business_metrics=[failing, revenue_per_prediction(missing_as_zero=True)],
    )
    now = kit.t0 + timedelta(minutes=20)
    summary = cycle.run_once(now)
    missing, elec = summary.models
    assert missing.version is None and "missing" in missing.errors[0]
    assert any("shop_broken" in e and "ZeroDivisionError" in e for e in elec.errors)
    assert elec.signals["business"] == {"driftline_revenue_per_prediction": 0.0}
    assert _value(workspace, "driftline_revenue_per_prediction", now) == 0.0
    assert _value(workspace, "driftline_label_coverage", now) == 0.0


def test_rules_are_checked_against_the_catalogue_with_business_metrics(
    sqlite_workspace: Any,
) -> None:
    with pytest.raises((ValidationError, NotFoundError), match="driftline_model_acuracy"):
        MonitoringCycle(
            sqlite_workspace,
            rules=[AlertRule("Typo", "driftline_model_acuracy", "<", 0.8)],
            system=False,
        )
    revenue = BusinessMetric("shop_revenue", lambda w: 1.0)
    cycle = MonitoringCycle(
        sqlite_workspace,
        rules=[AlertRule("LowRevenue", "shop_revenue", "<", 2.0)],
        business_metrics=[revenue],
        system=False,
    )
    assert "shop_revenue" in [r.metric for r in cycle.manager.rules.values()]


def test_run_waits_the_interval_and_stops_on_ctrl_c(sqlite_workspace: Any, kit: Any) -> None:
    ticks = iter(float(t) for t in range(100))
    cycle = MonitoringCycle(sqlite_workspace, models=[], rules=[], system=False)
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 3:
            raise KeyboardInterrupt
        return False

    seen: list[Any] = []
    done = cycle.run(interval="1m", wait=wait, on_cycle=seen.append, monotonic=lambda: next(ticks))
    assert done == 3 and len(seen) == 3
    assert waits == [59.0, 59.0, 59.0]  # each cycle "took" one second of the minute
    assert cycle.run(interval="1m", cycles=2, wait=lambda s: False) == 2
    cycle.stop()
    assert cycle.run(interval="1m") == 1  # stopped: one cycle, then no wait


def test_a_bad_window_is_refused(sqlite_workspace: Any) -> None:
    with pytest.raises(ValidationError, match="performance_window"):
        MonitoringCycle(sqlite_workspace, window="2h", performance_window="1h", system=False)
    with pytest.raises(ValidationError, match="window"):
        MonitoringCycle(sqlite_workspace, window="soon", system=False)


def test_dataset_drift_alert_fires_once_and_resolves_as_the_stream_returns(
    workspace: Any, kit: Any, http_receiver: Any
) -> None:
    from driftline.monitoring import WebhookChannel

    kit.register(workspace)
    path = f"/ok/cycle-{workspace.store.dialect}/hook"
    cycle = MonitoringCycle(
        workspace,
        rules=[presets.dataset_drift(threshold=0.3)],
        channels=[WebhookChannel(http_receiver.url(path))],
        system=False,
        window="10m",
    )
    holdout, drifted = kit.elec.holdout, kit.elec.drifted
    phases = [holdout.iloc[:90], holdout.iloc[90:180], drifted.iloc[:90], drifted.iloc[90:180],
              holdout.iloc[180:270], holdout.iloc[270:360]]  # fmt: skip
    shares, firing = [], []
    for i, rows in enumerate(phases):
        start = kit.t0 + timedelta(minutes=10 * i)
        kit.serve(workspace, rows, start, every=timedelta(seconds=6))
        summary = cycle.run_once(start + timedelta(minutes=10, seconds=1))
        assert summary.all_errors == ()
        shares.append(summary.models[0].signals["drift"]["drift_share"])
        firing.append(summary.evaluation.counts["firing"])
    assert [s > 0.3 for s in shares] == [False, False, True, True, False, False]
    assert firing == [0, 0, 1, 1, 0, 0]
    (alert,) = cycle.manager.alerts.query()
    assert alert.rule == "DatasetDrift" and str(alert.state) == "resolved"
    assert [r.json()["status"] for r in http_receiver.at(path)] == ["firing", "resolved"]
    linked = {e.src for e in workspace.lineage.upstream(alert.id, depth=1).edges}
    drifted_events = {e.id for e in latest_events(workspace, "elec") if e.drift_share > 0.3}
    assert linked == drifted_events  # the alert points at the windows that raised it


class _FlakyStore(MetricStore):
    """The metric history with a database that refuses writes while ``down`` is set."""

    down = True

    def record_many(self, samples: Any) -> int:
        if self.down:
            raise UnavailableError("the metadata DB is restarting")
        return super().record_many(samples)


def test_samples_the_db_refused_are_written_next_cycle_and_failing_receivers_are_counted(
    workspace: Any, kit: Any, http_receiver: Any
) -> None:
    from driftline.monitoring import RetryPolicy, WebhookChannel
    from driftline.testing.channel_checks import VirtualTime

    kit.register(workspace)
    kit.serve(workspace, kit.elec.drifted.iloc[:90], kit.t0, every=timedelta(seconds=6))
    time = VirtualTime()
    broken = WebhookChannel(
        http_receiver.url("/status/500"),
        retry=RetryPolicy(max_attempts=3),
        sleep=time.sleep,
        monotonic=time.monotonic,
    )
    cycle = MonitoringCycle(
        workspace,
        rules=[presets.dataset_drift(threshold=0.3)],
        channels=[broken],
        system=False,
        window="10m",
    )
    flaky = _FlakyStore(workspace.store, clock=cycle.clock)
    cycle.manager.metrics = flaky
    first_at = kit.t0 + timedelta(minutes=10, seconds=1)
    first = cycle.run_once(first_at)
    assert first.samples == 0 and first.backlog > 0
    assert any("kept for the next cycle" in e for e in first.all_errors)
    assert first.evaluation.counts["firing"] == 0  # nothing recorded, nothing to judge
    flaky.down = False
    later = first_at + timedelta(minutes=1)
    second = cycle.run_once(later)
    assert second.backlog == 0 and second.samples > first.backlog
    share_times = [s.time for s in flaky.query("driftline_dataset_drift_share")]
    assert share_times == [first_at, later]  # the refused sample kept its own time
    assert second.evaluation.counts["firing"] == 1
    assert second.evaluation.delivery_failures == 1  # the receiver answers 500 forever
    (dispatch,) = second.evaluation.dispatches
    assert dispatch.result.attempts == 3 and not dispatch.result.ok
    third = cycle.run_once(later + timedelta(minutes=1))
    assert third.evaluation.delivery_failures == 1  # retried next cycle, monitoring goes on
    assert third.all_errors == ()
