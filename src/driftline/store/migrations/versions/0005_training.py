"""Training runs and stored champion/challenger comparisons.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("seed", sa.Integer, nullable=True),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("model_version_id", sa.String(36), nullable=True),
        sa.Column("environment", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_training_runs_name", "training_runs", ["name", "started_at"])
    op.create_table(
        "comparisons",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("challenger_version", sa.Integer, nullable=False),
        sa.Column("champion_version", sa.Integer, nullable=False),
        sa.Column("dataset_version_id", sa.String(36), nullable=True),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("promote", sa.Boolean, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_comparisons_model", "comparisons", ["model_name", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_comparisons_model", "comparisons")
    op.drop_table("comparisons")
    op.drop_index("ix_training_runs_name", "training_runs")
    op.drop_table("training_runs")
