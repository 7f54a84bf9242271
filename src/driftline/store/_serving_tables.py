"""Tables of serving: deployments, one row per model version a server started serving."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from driftline.store._tables import metadata

__all__ = ["deployments"]

# A deployment is one server process serving one model version under one route, from its
# start until it stops serving it (a swap, a routing change or shutdown sets ended_at).
deployments = Table(
    "deployments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model_name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("model_version_id", String(36), nullable=False),
    Column("route", String(64), nullable=False),
    Column("percent", Float, nullable=True),
    Column("started_at", String(40), nullable=False),
    Column("ended_at", String(40), nullable=True),
    Column("config", Text, nullable=False),
    Index("ix_deployments_model", "model_name", "started_at"),
)
