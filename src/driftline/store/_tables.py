"""Table definitions of the metadata DB (SQLAlchemy Core), current revision.

Migrations in ``migrations/versions`` are the frozen history that builds these tables; this
module is what the code reads and writes. Keep both in step: a test compares them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text

__all__ = ["GENESIS_HASH", "audit_head", "audit_log", "metadata", "workspace"]

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
