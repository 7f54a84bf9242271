"""Tables of the data layer: dataset versions and stored quality results."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from driftline.store._tables import metadata

__all__ = ["dataset_versions", "quality_results"]

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("columns", Text, nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("artifact_size", BigInteger, nullable=False),
    Column("source_uri", Text, nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("name", "version", name="uq_dataset_versions_name_version"),
    UniqueConstraint("name", "sha256", name="uq_dataset_versions_name_sha256"),
    Index("ix_dataset_versions_sha256", "sha256"),
)

quality_results = Table(
    "quality_results",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "dataset_version_id",
        String(36),
        ForeignKey("dataset_versions.id", name="fk_quality_results_dataset_version"),
        nullable=True,
        index=True,
    ),
    Column("suite_sha256", String(64), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("score", Float, nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
)
