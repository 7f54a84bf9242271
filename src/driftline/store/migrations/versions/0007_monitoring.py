"""Monitoring: metric history, alerts, transitions, silences and deliveries.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_samples",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("series", sa.String(64), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("time", sa.String(40), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("resolution", sa.String(8), nullable=False),
        sa.Column("sample_count", sa.Integer, nullable=False),
        sa.Column("min_value", sa.Float, nullable=False),
        sa.Column("max_value", sa.Float, nullable=False),
    )
    op.create_index("ix_metric_samples_name_time", "metric_samples", ["name", "time"])
    op.create_index("ix_metric_samples_series", "metric_samples", ["series", "resolution", "time"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("active_fingerprint", sa.String(64), nullable=True, unique=True),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("annotations", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("fired_at", sa.String(40), nullable=True),
        sa.Column("ended_at", sa.String(40), nullable=True),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_alerts_fingerprint", "alerts", ["fingerprint", "started_at"])
    op.create_index("ix_alerts_state", "alerts", ["state", "started_at"])
    op.create_index("ix_alerts_rule", "alerts", ["rule", "started_at"])
    op.create_table(
        "alert_transitions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("alert_id", sa.String(36), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("time", sa.String(40), nullable=False),
    )
    op.create_index("ix_alert_transitions_alert", "alert_transitions", ["alert_id", "time"])
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("rule", sa.String(200), nullable=True),
        sa.Column("matchers", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("starts_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_alert_silences_expires", "alert_silences", ["expires_at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("notification_id", sa.String(36), nullable=False),
        sa.Column("alert_id", sa.String(36), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("time", sa.String(40), nullable=False),
    )
    op.create_index(
        "ix_alert_deliveries_alert",
        "alert_deliveries",
        ["alert_id", "channel", "event", "time"],
    )


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_alert", "alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alert_silences_expires", "alert_silences")
    op.drop_table("alert_silences")
    op.drop_index("ix_alert_transitions_alert", "alert_transitions")
    op.drop_table("alert_transitions")
    op.drop_index("ix_alerts_rule", "alerts")
    op.drop_index("ix_alerts_state", "alerts")
    op.drop_index("ix_alerts_fingerprint", "alerts")
    op.drop_table("alerts")
    op.drop_index("ix_metric_samples_series", "metric_samples")
    op.drop_index("ix_metric_samples_name_time", "metric_samples")
    op.drop_table("metric_samples")
