"""Retraining: every decision (including "not now, and why"), the single-flight leases, and
retrain requests from people and orchestrators (``POST /v1/retrain``)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from driftline.store._tables import metadata

__all__ = ["retrain_decisions", "retrain_leases", "retrain_requests"]

retrain_decisions = Table(
    "retrain_decisions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model_name", String(128), nullable=False),
    Column("time", String(40), nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("triggers", Text, nullable=False),
    # Unique among allowed decisions: the same model, reason, window and data snapshot is
    # never retrained twice.
    Column("idempotency_key", String(64), nullable=True, unique=True),
    Column("status", String(16), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("challenger_version", Integer, nullable=True),
    Column("details", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("ix_retrain_decisions_model_time", "model_name", "time"),
)

retrain_leases = Table(
    "retrain_leases",
    metadata,
    Column("model_name", String(128), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("acquired_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
)

# A request is pending until a controller of its model turned it into a decision (allowed or
# refused); then it is consumed and names that decision.
retrain_requests = Table(
    "retrain_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model_name", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", String(40), nullable=False),
    Column("consumed_at", String(40), nullable=True),
    Column("decision_id", String(36), nullable=True),
    Index("ix_retrain_requests_model_consumed", "model_name", "consumed_at"),
)
