"""Tables of the model registry: models, versions, aliases and their history."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from driftline.store._tables import metadata

__all__ = ["model_alias_history", "model_aliases", "model_versions", "registered_models"]

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("description", Text, nullable=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "name",
        String(128),
        ForeignKey("registered_models.name", name="fk_mv_model"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("flavor", String(32), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("artifact_size", BigInteger, nullable=False),
    Column("flavor_meta", Text, nullable=False),
    Column("signature", Text, nullable=True),
    Column(
        "dataset_version_id",
        String(36),
        ForeignKey("dataset_versions.id", name="fk_mv_dataset"),
        nullable=True,
    ),
    Column("run_id", String(36), nullable=True),
    Column("metrics", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("reference_profile_sha256", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
    Index("ix_model_versions_dataset", "dataset_version_id"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column(
        "name",
        String(128),
        ForeignKey("registered_models.name", name="fk_alias_model"),
        nullable=False,
    ),
    Column("alias", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column(
        "model_version_id",
        String(36),
        ForeignKey("model_versions.id", name="fk_alias_version"),
        nullable=False,
    ),
    Column("updated_at", String(40), nullable=False),
    Column("updated_by", String(200), nullable=False),
    PrimaryKeyConstraint("name", "alias", name="pk_model_aliases"),
)

# Every alias move, never updated or deleted: "which version was champion at time T" is the
# newest row for (name, alias) with time <= T.
model_alias_history = Table(
    "model_alias_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=True),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("time", String(40), nullable=False),
    Index("ix_alias_history_lookup", "name", "alias", "time"),
)
