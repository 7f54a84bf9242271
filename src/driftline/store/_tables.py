"""Table definitions of the metadata DB (SQLAlchemy Core), current revision.

Migrations in ``migrations/versions`` are the frozen history that builds these tables; this
module is what the code reads and writes. Keep both in step: a test compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

__all__ = [
    "GENESIS_HASH",
    "audit_head",
    "audit_log",
    "lineage_edge",
    "lineage_node",
    "lineage_run",
    "metadata",
    "workspace",
]

GENESIS_HASH = "0" * 64

metadata = MetaData()

workspace = Table(
    "workspace",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("created_at", String(40), nullable=False),
    Column("created_by_version", String(40), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("time", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(200), nullable=False, index=True),
    Column("subject", String(500), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
)

# One row: the newest entry's seq and hash. Appends lock it, so the chain never forks, and
# verify() compares it with the last row, so a deleted tail is caught too.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Lineage (migration 0002). Node ids are the domain objects' own ids.
lineage_node = Table(
    "lineage_node",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(40), nullable=False, index=True),
    Column("name", String(500), nullable=False, index=True),
    Column("version", String(200), nullable=True),
    Column("content_hash", String(200), nullable=True, index=True),
    Column("attributes", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

# The primary key serves downstream walks and ix_lineage_edge_upstream serves upstream walks;
# both cover every column a walk reads. WITHOUT ROWID on SQLite clusters rows by the key.
lineage_edge = Table(
    "lineage_edge",
    metadata,
    Column("src_id", String(200), ForeignKey("lineage_node.id"), nullable=False),
    Column("dst_id", String(200), ForeignKey("lineage_node.id"), nullable=False),
    Column("relation", String(100), nullable=False),
    Column("created_at", String(40), nullable=False),
    PrimaryKeyConstraint("src_id", "dst_id", "relation", name="pk_lineage_edge"),
    Index("ix_lineage_edge_upstream", "dst_id", "src_id", "relation"),
    sqlite_with_rowid=False,
)

lineage_run = Table(
    "lineage_run",
    metadata,
    Column("id", String(200), ForeignKey("lineage_node.id"), primary_key=True),
    Column("status", String(16), nullable=False, index=True),
    Column("parameters", Text, nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("ended_at", String(40), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("error_trace", Text, nullable=True),
)
