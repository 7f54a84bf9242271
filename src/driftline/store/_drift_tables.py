"""Drift events: one row per monitored window of served traffic compared with its reference."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from driftline.store._tables import metadata

__all__ = ["drift_events"]

drift_events = Table(
    "drift_events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model_name", String(128), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("window_start", String(40), nullable=False),
    Column("window_end", String(40), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("drift_detected", Boolean, nullable=False),
    Column("drift_share", Float, nullable=False),
    Column("report", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_drift_events_model_window", "model_name", "window_end"),
)
