"""Model registry: models, versions, aliases and alias history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "name",
            sa.String(128),
            sa.ForeignKey("registered_models.name", name="fk_mv_model"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("flavor", sa.String(32), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_size", sa.BigInteger, nullable=False),
        sa.Column("flavor_meta", sa.Text, nullable=False),
        sa.Column("signature", sa.Text, nullable=True),
        sa.Column(
            "dataset_version_id",
            sa.String(36),
            sa.ForeignKey("dataset_versions.id", name="fk_mv_dataset"),
            nullable=True,
        ),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("reference_profile_sha256", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
    )
    op.create_index("ix_model_versions_dataset", "model_versions", ["dataset_version_id"])
    op.create_table(
        "model_aliases",
        sa.Column(
            "name",
            sa.String(128),
            sa.ForeignKey("registered_models.name", name="fk_alias_model"),
            nullable=False,
        ),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column(
            "model_version_id",
            sa.String(36),
            sa.ForeignKey("model_versions.id", name="fk_alias_version"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_model_aliases"),
    )
    op.create_table(
        "model_alias_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("from_version", sa.Integer, nullable=True),
        sa.Column("to_version", sa.Integer, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("time", sa.String(40), nullable=False),
    )
    op.create_index("ix_alias_history_lookup", "model_alias_history", ["name", "alias", "time"])


def downgrade() -> None:
    op.drop_index("ix_alias_history_lookup", "model_alias_history")
    op.drop_table("model_alias_history")
    op.drop_table("model_aliases")
    op.drop_index("ix_model_versions_dataset", "model_versions")
    op.drop_table("model_versions")
    op.drop_table("registered_models")
