"""Retrain requests: manual retrains asked for over HTTP, pending until a controller decides.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrain_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.String(40), nullable=False),
        sa.Column("consumed_at", sa.String(40), nullable=True),
        sa.Column("decision_id", sa.String(36), nullable=True),
    )
    op.create_index(
        "ix_retrain_requests_model_consumed", "retrain_requests", ["model_name", "consumed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_retrain_requests_model_consumed", "retrain_requests")
    op.drop_table("retrain_requests")
