"""Tables of monitoring: metric history, alerts, their transitions, silences and deliveries."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from driftline.store._tables import metadata

__all__ = [
    "alert_deliveries",
    "alert_silences",
    "alert_transitions",
    "alerts",
    "metric_samples",
]

# One row per raw sample, or per hourly rollup of one series once raw samples age out
# (resolution "1h": value is the mean, with min, max and the number of samples folded in).
metric_samples = Table(
    "metric_samples",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("name", String(200), nullable=False),
    Column("series", String(64), nullable=False),
    Column("labels", Text, nullable=False),
    Column("time", String(40), nullable=False),
    Column("value", Float, nullable=False),
    Column("resolution", String(8), nullable=False),
    Column("sample_count", Integer, nullable=False),
    Column("min_value", Float, nullable=False),
    Column("max_value", Float, nullable=False),
    Index("ix_metric_samples_name_time", "name", "time"),
    Index("ix_metric_samples_series", "series", "resolution", "time"),
)

# One row per alert episode (pending or firing until it resolves). active_fingerprint holds
# the fingerprint while the episode is open and NULL after, so the unique constraint allows
# at most one open alert per fingerprint even with several evaluators.
alerts = Table(
    "alerts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("active_fingerprint", String(64), nullable=True, unique=True),
    Column("rule", String(200), nullable=False),
    Column("metric", String(200), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("labels", Text, nullable=False),
    Column("annotations", Text, nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("fired_at", String(40), nullable=True),
    Column("ended_at", String(40), nullable=True),
    Column("updated_at", String(40), nullable=False),
    Index("ix_alerts_fingerprint", "fingerprint", "started_at"),
    Index("ix_alerts_state", "state", "started_at"),
    Index("ix_alerts_rule", "rule", "started_at"),
)

alert_transitions = Table(
    "alert_transitions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("alert_id", String(36), ForeignKey("alerts.id"), nullable=False),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("value", Float, nullable=True),
    Column("time", String(40), nullable=False),
    Index("ix_alert_transitions_alert", "alert_id", "time"),
)

alert_silences = Table(
    "alert_silences",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("rule", String(200), nullable=True),
    Column("matchers", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("starts_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Index("ix_alert_silences_expires", "expires_at"),
)

# One row per alert per attempt to deliver a notification to a channel; a notification
# that carries several grouped alerts writes one row for each, sharing notification_id.
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("notification_id", String(36), nullable=False),
    Column("alert_id", String(36), ForeignKey("alerts.id"), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("event", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("time", String(40), nullable=False),
    Index("ix_alert_deliveries_alert", "alert_id", "channel", "event", "time"),
)
