"""Monitoring: metric history, alert rules, the alert lifecycle, channels and exports.

Monitors (drift, quality, performance, system) record named samples in a
:class:`MetricStore`; an :class:`AlertManager` evaluates :class:`AlertRule` s over the latest
samples, moves alerts inactive -> pending -> firing -> resolved (each change stored, audited
and linked in lineage) and delivers notifications through channels (webhook, Slack,
PagerDuty, email, log). The same rules export as Prometheus alerting rules, and a Grafana
dashboard covers the metric names in :data:`CATALOGUE`.

A :class:`MonitoringCycle` runs every monitor over the served models (drift, performance from
delayed labels and its estimate without them, live data quality, latency, business metrics,
system) and then the alert rules; :class:`MonitoringCollector` exposes what they found to
Prometheus at scrape time. Both load lazily (they pull in the prediction log readers and
scikit-learn).
"""

from typing import Any

from driftline.monitoring import presets
from driftline.monitoring._alert_types import Alert, AlertState, Delivery, Silence, Transition
from driftline.monitoring._dispatch import Dispatch
from driftline.monitoring._durations import format_duration, parse_duration
from driftline.monitoring.alerts import Alerts
from driftline.monitoring.business import BusinessMetric, CpuCost, revenue_per_prediction
from driftline.monitoring.catalogue import CATALOGUE, MetricCatalogue, MetricSpec
from driftline.monitoring.channel_files import channels_from_data, load_channels
from driftline.monitoring.channels import (
    Channel,
    DeliveryResult,
    EmailChannel,
    LogChannel,
    Notification,
    PagerDutyChannel,
    RetryPolicy,
    SlackChannel,
    WebhookChannel,
)
from driftline.monitoring.grafana import grafana_dashboard, write_grafana_dashboard
from driftline.monitoring.history import CompactionResult, MetricStore, Sample
from driftline.monitoring.manager import (
    REFERENCE_LABELS,
    AlertManager,
    EvaluationResult,
    fingerprint,
)
from driftline.monitoring.prometheus_rules import (
    prometheus_expr,
    prometheus_rules,
    write_prometheus_rules,
)
from driftline.monitoring.rule_files import dump_rules, load_rules, rules_from_data
from driftline.monitoring.rules import COMPARISONS, SEVERITIES, AlertRule
from driftline.monitoring.summary import MetricsSummary, SeriesSummary, Trend

__all__ = [
    "CATALOGUE",
    "COMPARISONS",
    "REFERENCE_LABELS",
    "SEVERITIES",
    "Alert",
    "AlertManager",
    "AlertRule",
    "AlertState",
    "Alerts",
    "BusinessMetric",
    "Channel",
    "CompactionResult",
    "CpuCost",
    "CycleSummary",
    "Delivery",
    "DeliveryResult",
    "Dispatch",
    "EmailChannel",
    "EvaluationResult",
    "LogChannel",
    "MetricCatalogue",
    "MetricSpec",
    "MetricStore",
    "MetricsSummary",
    "ModelReport",
    "MonitoringCollector",
    "MonitoringCycle",
    "Notification",
    "PagerDutyChannel",
    "RetryPolicy",
    "Sample",
    "SeriesSummary",
    "Silence",
    "SlackChannel",
    "Transition",
    "Trend",
    "WebhookChannel",
    "channels_from_data",
    "dump_rules",
    "fingerprint",
    "format_duration",
    "grafana_dashboard",
    "load_channels",
    "load_rules",
    "parse_duration",
    "presets",
    "prometheus_expr",
    "prometheus_rules",
    "quality_suite_tags",
    "revenue_per_prediction",
    "rules_from_data",
    "write_grafana_dashboard",
    "write_prometheus_rules",
]

_LAZY = {
    "CycleSummary": "driftline.monitoring.cycle",
    "ModelReport": "driftline.monitoring.cycle",
    "MonitoringCycle": "driftline.monitoring.cycle",
    "MonitoringCollector": "driftline.monitoring.collectors",
    "quality_suite_tags": "driftline.monitoring.live_quality",
}


def __getattr__(name: str) -> Any:
    # The cycle and the collector import the log readers and scikit-learn; the CLI and
    # the alert manager should not pay for that on every start.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'driftline.monitoring' has no attribute {name!r}")
