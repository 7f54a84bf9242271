"""Monitoring: metric history, alert rules, the alert lifecycle, channels and exports.

Monitors (drift, quality, performance, system) record named samples in a
:class:`MetricStore`; an :class:`AlertManager` evaluates :class:`AlertRule` s over the latest
samples, moves alerts inactive -> pending -> firing -> resolved (each change stored, audited
and linked in lineage) and delivers notifications through channels (webhook, Slack,
PagerDuty, email, log). The same rules export as Prometheus alerting rules, and a Grafana
dashboard covers the metric names in :data:`CATALOGUE`.
"""

from driftline.monitoring import presets
from driftline.monitoring._alert_types import Alert, AlertState, Delivery, Silence, Transition
from driftline.monitoring._dispatch import Dispatch
from driftline.monitoring._durations import format_duration, parse_duration
from driftline.monitoring.alerts import Alerts
from driftline.monitoring.catalogue import CATALOGUE, MetricCatalogue, MetricSpec
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
    "Channel",
    "CompactionResult",
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
    "dump_rules",
    "fingerprint",
    "format_duration",
    "grafana_dashboard",
    "load_rules",
    "parse_duration",
    "presets",
    "prometheus_expr",
    "prometheus_rules",
    "rules_from_data",
    "write_grafana_dashboard",
    "write_prometheus_rules",
]
