"""The scrape-time collector: drift gauges from the stored events, the latest performance
samples, on a registry of its own or on the model server's /metrics."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from driftline.exceptions import UnavailableError
from driftline.monitoring import CATALOGUE, MonitoringCollector, MonitoringCycle
from driftline.monitoring.collectors import SAMPLED_METRICS
from driftline.monitoring.signals.drift_windows import latest_events
from driftline.monitoring.signals.system import SystemMetrics


def _scrape(registry: CollectorRegistry) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


@pytest.fixture
def monitored(workspace: Any, kit: Any) -> Any:
    """Two 10-minute windows of traffic, the second drifted, and one monitoring cycle."""
    kit.register(workspace)
    kit.serve(workspace, kit.elec.holdout.iloc[:90], kit.t0, every=timedelta(seconds=6))
    later = kit.t0 + timedelta(minutes=10)
    kit.serve(workspace, kit.elec.drifted.iloc[:90], later, every=timedelta(seconds=6))
    now = kit.t0 + timedelta(minutes=20, seconds=1)
    MonitoringCycle(workspace, rules=[], system=False, window="10m").run_once(now)
    return now


def test_drift_gauges_are_the_newest_stored_event(workspace: Any, kit: Any, monitored: Any) -> None:
    registry = CollectorRegistry()
    registry.register(MonitoringCollector(workspace, clock=lambda: monitored))
    scraped = _scrape(registry)
    newest = latest_events(workspace, "elec")[0]
    assert newest.drift_detected  # the drifted window is the newest
    mv = (("model", "elec"), ("version", "1"))
    assert scraped["driftline_dataset_drift_share"] == {mv: newest.drift_share}
    assert scraped["driftline_dataset_drift"] == {mv: 1.0}
    scores = {
        dict(labels)["feature"]: value
        for labels, value in scraped["driftline_feature_drift_score"].items()
    }
    assert scores == {f: r["statistic"] for f, r in newest.features.items()}
    coverage = scraped["driftline_label_coverage"]
    assert coverage == {mv: 0.0}  # no labels yet: a measured zero, not a missing series
    assert scraped["driftline_monitor_collect_errors_total"] == {(): 0.0}


def test_old_state_is_hidden_after_max_age(workspace: Any, monitored: Any) -> None:
    later = monitored + timedelta(hours=2)
    registry = CollectorRegistry()
    registry.register(MonitoringCollector(workspace, clock=lambda: later))
    scraped = _scrape(registry)
    assert "driftline_dataset_drift_share" not in scraped
    assert "driftline_label_coverage" not in scraped


def test_families_match_the_catalogue(sqlite_workspace: Any) -> None:
    collector = MonitoringCollector(sqlite_workspace, system=SystemMetrics(disk_path="."))
    described = {f.name: f for f in collector.describe()}
    collected = {f.name: f for f in collector.collect()}
    assert described.keys() == collected.keys()
    for family in collected.values():
        name = family.name + ("_total" if family.type == "counter" else "")
        spec = CATALOGUE.get(name)
        assert spec.kind == family.type, name
        for sample in family.samples:
            assert set(sample.labels) == set(spec.labels), name
    assert set(SAMPLED_METRICS) >= {
        "driftline_model_accuracy",
        "driftline_model_accuracy_estimated",
    }
    assert "driftline_system_disk_percent" in collected


class _AwayStore:
    clock = staticmethod(lambda: None)

    def read(self) -> Any:
        raise UnavailableError("the metadata DB is not reachable")


class _AwayWorkspace:
    store = _AwayStore()


def test_a_db_that_is_away_is_counted_and_the_scrape_still_answers(kit: Any) -> None:
    collector = MonitoringCollector(_AwayWorkspace(), clock=lambda: kit.t0)  # type: ignore[arg-type]
    registry = CollectorRegistry()
    registry.register(collector)
    _scrape(registry)
    scraped = _scrape(registry)
    assert scraped["driftline_monitor_collect_errors_total"] == {(): 2.0}


def test_the_collector_rides_on_the_servers_metrics_registry(
    workspace: Any, kit: Any, monitored: Any
) -> None:
    from driftline.serving import ServingOptions, create_app

    registry = CollectorRegistry()
    registry.register(MonitoringCollector(workspace, clock=lambda: monitored))
    app = create_app(
        workspace,
        models=["models:/elec@champion"],
        metrics_registry=registry,
        options=ServingOptions(poll_interval_s=0, canary_interval_s=0, batching=None),
        record_deployments=False,
        log_predictions=False,
    )

    async def scenario() -> str:
        async with app.router.lifespan_context(app):
            assert await app.state.server.wait_ready(timeout=30)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                row = kit.elec.holdout.iloc[:1][kit.features].to_dict("records")
                answer = await client.post("/v1/models/elec/predict", json={"records": row})
                assert answer.status_code == 200
                return (await client.get("/metrics")).text

    text = asyncio.run(scenario())
    assert 'driftline_requests_total{model="elec",route="primary",status="200",version="1"}' in text
    assert 'driftline_dataset_drift{model="elec",version="1"} 1.0' in text
