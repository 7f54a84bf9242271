"""Serving: deployments of model versions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("model_version_id", sa.String(36), nullable=False),
        sa.Column("route", sa.String(64), nullable=False),
        sa.Column("percent", sa.Float, nullable=True),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40), nullable=True),
        sa.Column("config", sa.Text, nullable=False),
    )
    op.create_index("ix_deployments_model", "deployments", ["model_name", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_deployments_model", "deployments")
    op.drop_table("deployments")
