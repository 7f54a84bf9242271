"""Tables of training: runs and stored champion/challenger comparisons."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from driftline.store._tables import metadata

__all__ = ["comparisons", "training_runs"]

training_runs = Table(
    "training_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("params", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("seed", Integer, nullable=True),
    Column("inputs", Text, nullable=False),
    Column("model_version_id", String(36), nullable=True),
    Column("environment", Text, nullable=False),
    Column("error", Text, nullable=True),
    Column("started_at", String(40), nullable=False),
    Column("ended_at", String(40), nullable=True),
    Column("created_by", String(200), nullable=False),
    Index("ix_training_runs_name", "name", "started_at"),
)

comparisons = Table(
    "comparisons",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("model_name", String(128), nullable=False),
    Column("challenger_version", Integer, nullable=False),
    Column("champion_version", Integer, nullable=False),
    Column("dataset_version_id", String(36), nullable=True),
    Column("metric", String(32), nullable=False),
    Column("promote", Boolean, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Index("ix_comparisons_model", "model_name", "created_at"),
)
