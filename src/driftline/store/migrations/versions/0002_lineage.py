"""Lineage: typed nodes, the edges between them, and the state of transformation runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lineage_node",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("version", sa.String(200), nullable=True),
        sa.Column("content_hash", sa.String(200), nullable=True),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_lineage_node_kind", "lineage_node", ["kind"])
    op.create_index("ix_lineage_node_name", "lineage_node", ["name"])
    op.create_index("ix_lineage_node_content_hash", "lineage_node", ["content_hash"])
    # The primary key serves downstream walks (src -> dst) and the second index upstream
    # walks (dst -> src); both cover the relation, so a walk never reads the table rows.
    op.create_table(
        "lineage_edge",
        sa.Column("src_id", sa.String(200), sa.ForeignKey("lineage_node.id"), nullable=False),
        sa.Column("dst_id", sa.String(200), sa.ForeignKey("lineage_node.id"), nullable=False),
        sa.Column("relation", sa.String(100), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("src_id", "dst_id", "relation", name="pk_lineage_edge"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_lineage_edge_upstream", "lineage_edge", ["dst_id", "src_id", "relation"])
    op.create_table(
        "lineage_run",
        sa.Column("id", sa.String(200), sa.ForeignKey("lineage_node.id"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("error_trace", sa.Text, nullable=True),
    )
    op.create_index("ix_lineage_run_status", "lineage_run", ["status"])


def downgrade() -> None:
    op.drop_index("ix_lineage_run_status", "lineage_run")
    op.drop_table("lineage_run")
    op.drop_index("ix_lineage_edge_upstream", "lineage_edge")
    op.drop_table("lineage_edge")
    op.drop_index("ix_lineage_node_content_hash", "lineage_node")
    op.drop_index("ix_lineage_node_name", "lineage_node")
    op.drop_index("ix_lineage_node_kind", "lineage_node")
    op.drop_table("lineage_node")
