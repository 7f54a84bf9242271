"""A Grafana dashboard for file provisioning: traffic, latency, errors, drift, performance,
data quality, alerts and system, over the metric names in the catalogue.

Provisioning needs what an export for import does not: ``"id": null``, a stable ``uid``, and
a data source chosen by a ``datasource`` template variable instead of ``${DS_...}`` inputs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from driftline.exceptions import ValidationError
from driftline.monitoring.catalogue import CATALOGUE, MetricCatalogue

__all__ = ["DASHBOARD_UID", "grafana_dashboard", "panel_queries", "write_grafana_dashboard"]

DASHBOARD_UID = "driftline-overview"
_DS = {"type": "prometheus", "uid": "${datasource}"}
_M = 'model=~"$model"'
_RATE = "$__rate_interval"
_UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_LABEL_VALUES = re.compile(r"label_values\((\w+),\s*(\w+)\)")

Target = tuple[str, str]  # (PromQL, legend format)


def _latency(q: float) -> Target:
    buckets = f"rate(driftline_request_duration_seconds_bucket{{{_M}}}[{_RATE}])"
    return (
        f"histogram_quantile({q}, sum by (le, model) ({buckets}))",
        f"p{q * 100:g} {{{{model}}}}",
    )


def _ratio(status: str) -> Target:
    by = "sum by (model, version)"
    part = f'rate(driftline_requests_total{{{_M},status=~"{status}"}}[{_RATE}])'
    whole = f"rate(driftline_requests_total{{{_M}}}[{_RATE}])"
    return (f"{by} ({part}) / {by} ({whole})", f"{status} {{{{model}}}} v{{{{version}}}}")


def _panels() -> list[tuple[str, str, list[Target]]]:
    mv = "{{model}} v{{version}}"
    return [
        ("Traffic (requests/s)", "reqps", [(
            f"sum by (model, version, route) (rate(driftline_requests_total{{{_M}}}[{_RATE}]))",
            f"{mv} {{{{route}}}}",
        )]),
        ("Latency percentiles", "s", [_latency(0.5), _latency(0.95), _latency(0.99)]),
        ("Errors (share of requests)", "percentunit", [_ratio("5.."), _ratio("4..")]),
        ("Dropped and rejected", "short", [
            (f"sum by (model) (rate(driftline_inference_rejected_total{{{_M}}}[{_RATE}]))",
             "rejected {{model}}"),
            (f"rate(driftline_prediction_log_dropped_total[{_RATE}])", "prediction log dropped"),
            (f"rate(driftline_feedback_log_dropped_total[{_RATE}])", "feedback log dropped"),
        ]),
        ("Drift score per feature", "short", [
            (f"driftline_feature_drift_score{{{_M}}}", f"{mv} {{{{feature}}}}"),
        ]),
        ("Share of drifted features", "percentunit", [
            (f"driftline_dataset_drift_share{{{_M}}}", mv),
        ]),
        ("Performance", "percentunit", [
            (f"driftline_model_accuracy{{{_M}}}", f"accuracy {mv}"),
            (f"driftline_model_accuracy_estimated{{{_M}}}", f"accuracy (estimated) {mv}"),
            (f"driftline_label_coverage{{{_M}}}", f"label coverage {mv}"),
        ]),
        ("Degradation from baseline", "percentunit", [
            (f"driftline_model_performance_degradation{{{_M}}}", f"{{{{metric}}}} {mv}"),
        ]),
        ("Data quality violations", "percentunit", [
            (f"driftline_quality_violation_rate{{{_M}}}", f"{{{{check}}}} {mv}"),
        ]),
        ("Alerts", "short", [
            ('sum by (alertname, severity) (ALERTS{alertstate="firing"})',
             "{{alertname}} ({{severity}}) firing"),
            ('sum by (alertname, severity) (ALERTS{alertstate="pending"})',
             "{{alertname}} ({{severity}}) pending"),
        ]),
        ("Alert notifications", "short", [
            (f"sum by (channel, result) (increase(driftline_alert_notifications_total[{_RATE}]))",
             "{{channel}} {{result}}"),
        ]),
        ("System", "percent", [
            ("driftline_system_cpu_percent", "CPU"),
            ("driftline_system_memory_percent", "memory"),
            ("driftline_system_disk_percent", "disk {{path}}"),
        ]),
    ]  # fmt: skip


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """``(panel title, PromQL)`` for every query in ``dashboard``."""
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def _panel(number: int, title: str, unit: str, targets: list[Target]) -> dict[str, Any]:
    return {
        "id": number,
        "type": "timeseries",
        "title": title,
        "datasource": _DS,
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((number - 1) % 2), "y": 8 * ((number - 1) // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": _DS, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def _variables() -> list[dict[str, Any]]:
    query = "label_values(driftline_requests_total, model)"
    return [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "refresh": 1,
            "regex": "",
            "options": [],
        },
        {
            "name": "model",
            "label": "Model",
            "type": "query",
            "datasource": _DS,
            "definition": query,
            "query": {"query": query, "refId": "model"},
            "refresh": 2,
            "includeAll": True,
            "allValue": ".*",
            "multi": True,
            "current": {},
            "options": [],
            "sort": 1,
        },
    ]


def grafana_dashboard(
    *,
    title: str = "driftline",
    uid: str = DASHBOARD_UID,
    catalogue: MetricCatalogue = CATALOGUE,
) -> dict[str, Any]:
    """The dashboard as data; every query is checked against ``catalogue``."""
    if not isinstance(uid, str) or not _UID.fullmatch(uid):
        raise ValidationError(f"grafana dashboard uid {uid!r}: use 1-40 letters, digits, - or _")
    panels = [_panel(i, t, unit, targets) for i, (t, unit, targets) in enumerate(_panels(), 1)]
    dashboard: dict[str, Any] = {
        "id": None,
        "uid": uid,
        "title": title,
        "tags": ["driftline"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": _variables()},
        "annotations": {"list": []},
        "panels": panels,
    }
    for panel_title, expr in panel_queries(dashboard):
        catalogue.check_promql(expr, where=f"grafana panel {panel_title!r}")
    for variable in dashboard["templating"]["list"]:
        for metric, _label in _LABEL_VALUES.findall(variable.get("definition", "")):
            catalogue.check_promql(metric, where=f"grafana variable {variable['name']!r}")
    return dashboard


def write_grafana_dashboard(path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write the dashboard JSON to ``path`` and return the path."""
    out = Path(path)
    out.write_text(json.dumps(grafana_dashboard(**kwargs), indent=2) + "\n", encoding="utf-8")
    return out
