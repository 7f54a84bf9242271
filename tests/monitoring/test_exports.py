"""Prometheus rule export (checked, and evaluated by promtool against driftline's own
evaluation) and the Grafana dashboard for file provisioning."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftline.exceptions import ValidationError
from driftline.monitoring import (
    CATALOGUE,
    AlertManager,
    AlertRule,
    grafana_dashboard,
    presets,
    prometheus_expr,
    write_grafana_dashboard,
    write_prometheus_rules,
)
from driftline.monitoring.catalogue import metric_names_in
from driftline.monitoring.grafana import panel_queries

T0 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool not installed (Debian package 'prometheus')")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_ready_made_rules_pass_promtool(promtool: str, tmp_path: Path) -> None:
    for model in (None, 'fr"aud'):  # a quote in a label value must be escaped
        path = write_prometheus_rules(presets.default_rules(model=model), tmp_path / "r.yaml")
        checked = _run(promtool, "check", "rules", str(path))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "SUCCESS: 9 rules found" in checked.stdout


def test_exported_rule_shape(tmp_path: Path) -> None:
    rule = presets.error_rate(threshold=0.05, model="fraud", for_="5m")
    path = write_prometheus_rules([rule], tmp_path / "r.yaml", group="ml")
    (entry,) = yaml.safe_load(path.read_text())["groups"][0]["rules"]
    assert entry["alert"] == "HighErrorRate" and entry["for"] == "5m"
    assert entry["labels"] == {"category": "errors", "severity": "critical"}
    assert entry["expr"] == (
        '(sum by (model, version, route) (rate(driftline_requests_total{status=~"5..",'
        'model="fraud"}[5m])) / sum by (model, version, route) '
        '(rate(driftline_requests_total{model="fraud"}[5m]))) > 0.05'
    )
    assert "{{ $labels.model }}" in entry["annotations"]["summary"]
    p99 = AlertRule(
        "P99", "driftline_request_latency_p99_seconds", ">", 1, matchers={"version": "3"}
    )
    with pytest.raises(ValidationError, match="has no label 'version'"):
        prometheus_expr(p99)


# Values per minute, from minute 0; promtool replays the same series.
SERIES: dict[str, tuple[str, dict[str, str], list[float]]] = {
    "age": ("driftline_feature_drift_score", {"model": "fraud", "version": "1", "feature": "age"},
            [0.1, 0.3, 0.3, 0.3, 0.3, 0.1, 0.3, 0.3, 0.3, 0.3]),
    "income": ("driftline_feature_drift_score",
               {"model": "fraud", "version": "1", "feature": "income"},
               [0.25, 0.25, 0.25, 0.25, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
    "acc": ("driftline_model_accuracy", {"model": "fraud", "version": "1"},
            [0.9, 0.75, 0.7, 0.85, 0.6, 0.6, 0.95, 0.9, 0.9, 0.9]),
    "acc-other": ("driftline_model_accuracy", {"model": "other", "version": "2"}, [0.5] * 10),
    "coverage": ("driftline_label_coverage", {"model": "fraud", "version": "1"},
                 [0.5, 0.4, 0.5, 0.5, 0.3, 0.5, 0.5, 0.5, 0.2, 0.5]),
}  # fmt: skip
RULES = [
    presets.feature_drift(threshold=0.2, for_="2m"),
    AlertRule(
        "LowAccuracy", "driftline_model_accuracy", "<", 0.8, severity="critical",
        matchers={"model": "fraud"}, labels={"team": "ml"},
        annotations={"summary": "{labels.model} accuracy {value} < {threshold}",
                     "description": "braces {{literal}} stay, {rule} on {metric}"},
    ),
    AlertRule("CoverageAtHalf", "driftline_label_coverage", "==", 0.5, severity="info"),
]  # fmt: skip


def _driftline_firing(workspace: Any) -> dict[int, list[Any]]:
    now = [T0]
    manager = AlertManager.from_workspace(workspace, rules=RULES, clock=lambda: now[0])
    firing = {}
    for minute in range(10):
        now[0] = T0 + timedelta(minutes=minute)
        for name, labels, values in SERIES.values():
            manager.metrics.record(name, values[minute], labels=labels, time=now[0])
        manager.evaluate()
        firing[minute] = [a for a in manager.alerts.active() if a.state == "firing"]
    return firing


def test_promtool_agrees_with_driftline_on_when_alerts_fire(
    promtool: str, sqlite_workspace: Any, tmp_path: Path
) -> None:
    firing = _driftline_firing(sqlite_workspace)
    assert {len(v) for v in firing.values()} != {0}  # the scenario fires something
    write_prometheus_rules(RULES, tmp_path / "rules.yaml")
    series = [
        {"series": f"{name}{{{','.join(f'{k}={json.dumps(v)}' for k, v in labels.items())}}}",
         "values": " ".join(repr(v) for v in values)}
        for name, labels, values in SERIES.values()
    ]  # fmt: skip
    checks = []
    for minute, alerts in firing.items():
        for rule in RULES:
            expected = [
                {"exp_labels": {k: v for k, v in a.labels.items() if k != "alertname"},
                 "exp_annotations": a.annotations}
                for a in alerts if a.rule == rule.name
            ]  # fmt: skip
            checks.append(
                {"eval_time": f"{minute}m", "alertname": rule.name, "exp_alerts": expected}
            )
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    ran = _run(promtool, "test", "rules", str(tmp_path / "test.yaml"))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "SUCCESS" in ran.stdout
    # and the comparison is not vacuous: a wrong expectation makes promtool fail
    checks[-1]["exp_alerts"] = [{"exp_labels": {"model": "nobody"}}]
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    assert _run(promtool, "test", "rules", str(tmp_path / "test.yaml")).returncode != 0


def test_grafana_dashboard_is_ready_for_file_provisioning(tmp_path: Path) -> None:
    path = write_grafana_dashboard(tmp_path / "dash.json")
    text = path.read_text()
    board = json.loads(text)
    assert board["id"] is None
    assert board["uid"] == "driftline-overview" == grafana_dashboard()["uid"]  # stable
    assert "${DS_" not in text and "__inputs" not in board and "__requires" not in board
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])


def test_every_panel_query_uses_catalogue_metrics_only() -> None:
    exposed = CATALOGUE.exposed_names()
    queries = panel_queries(grafana_dashboard())
    used = set()
    for title, expr in queries:
        names = metric_names_in(expr)
        assert names and names <= exposed, (title, names - exposed)
        used |= names
    for needed in (
        "driftline_requests_total",  # traffic and errors
        "driftline_request_duration_seconds_bucket",  # latency percentiles
        "driftline_feature_drift_score",  # drift per feature
        "driftline_model_accuracy",  # performance
        "ALERTS",  # alerts
    ):
        assert needed in used
    exprs = " ".join(e for _, e in queries)
    assert all(f"histogram_quantile({q}," in exprs for q in ("0.5", "0.95", "0.99"))


def test_a_query_on_an_unknown_metric_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"'driftline_request_total'.*did you mean"):
        CATALOGUE.check_promql("rate(driftline_request_total[5m])", where="panel 'x'")


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (le) (rate(a_bucket{job="x"}[5m]))', {"a_bucket"}),
        ("a / on (model) group_left (version) b offset 5m", {"a", "b"}),
        ('max_over_time(a[10m:1m]) > bool 1 and c{x=~"by(y)"}', {"a", "c"}),
        ("histogram_quantile(0.99, x) > 1e-3", {"x"}),
        ("label_replace(up, 'dst', '$1', 'src', '(.*)')", {"up"}),
    ],
)
def test_metric_names_in_promql(expr: str, names: set[str]) -> None:
    assert metric_names_in(expr) == names
