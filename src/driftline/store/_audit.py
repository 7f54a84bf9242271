"""The append-only, hash-chained audit log.

Each entry's hash is ``sha256(prev_hash + canonical_json(entry))`` where the entry is its seq,
time, actor, action, subject and payload. Appends lock the single ``audit_head`` row inside
the caller's write transaction, so concurrent writers (threads or processes, SQLite or
PostgreSQL) queue up instead of forking the chain, and a state change commits together with
its audit entry or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from driftline._canonical import canonical_json, loads
from driftline.store._engine import WRITE
from driftline.store._metadata import Clock, MetadataStore, iso_utc
from driftline.store._tables import GENESIS_HASH, audit_head, audit_log

__all__ = ["AuditEntry", "AuditLog", "AuditVerification", "entry_hash"]

_BATCH = 1000


@dataclass(frozen=True)
class AuditEntry:
    """One recorded state change."""

    seq: int
    time: str
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of recomputing the chain."""

    intact: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int = 0
    head_hash: str = field(default=GENESIS_HASH)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


def entry_hash(
    prev_hash: str, *, seq: int, time: str, actor: str, action: str, subject: str, payload: str
) -> str:
    """The chain hash of one entry; ``payload`` is its canonical JSON text."""
    body = canonical_json(
        {
            "seq": seq,
            "time": time,
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload,
        }
    )
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


class AuditLog:
    """Append entries and verify the chain.

    >>> import tempfile, pathlib
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> store = MetadataStore.open(f"sqlite:///{home}/driftline.db")
    >>> log = AuditLog(store, actor="alice")
    >>> log.record(action="demo.start", subject="demo", payload={"rows": 3}).seq
    1
    >>> log.verify().intact
    True
    >>> store.close()
    """

    def __init__(self, store: MetadataStore, *, actor: str = "unknown", clock: Clock | None = None):
        self.store = store
        self.actor = actor
        self.clock = clock or store.clock

    def append(
        self,
        conn: Connection,
        *,
        action: str,
        subject: str,
        payload: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> AuditEntry:
        """Append one entry inside the caller's write transaction (see ``store.write()``)."""
        if not conn.get_execution_options().get(WRITE, False):
            raise RuntimeError("AuditLog.append needs a connection from MetadataStore.write()")
        head = conn.execute(
            select(audit_head.c.seq, audit_head.c.hash)
            .where(audit_head.c.id == 1)
            .with_for_update()
        ).one()
        text_payload = canonical_json(payload or {}).decode()
        fields = {
            "seq": head.seq + 1,
            "time": iso_utc(self.clock()),
            "actor": actor or self.actor,
            "action": action,
            "subject": subject,
            "payload": text_payload,
        }
        digest = entry_hash(head.hash, **fields)
        conn.execute(insert(audit_log).values(**fields, prev_hash=head.hash, hash=digest))
        conn.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=fields["seq"], hash=digest)
        )
        return AuditEntry(**{**fields, "payload": payload or {}}, prev_hash=head.hash, hash=digest)

    def record(
        self,
        *,
        action: str,
        subject: str,
        payload: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> AuditEntry:
        """Append one entry in a transaction of its own."""
        with self.store.write() as conn:
            return self.append(conn, action=action, subject=subject, payload=payload, actor=actor)

    def head(self) -> tuple[int, str]:
        """The newest entry's seq and hash (0 and the genesis hash when empty)."""
        with self.store.read() as conn:
            row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
        return int(row.seq), str(row.hash)

    def entries(
        self, *, limit: int | None = None, subject: str | None = None, newest_first: bool = True
    ) -> list[AuditEntry]:
        """Recorded entries, newest first unless asked otherwise."""
        order = audit_log.c.seq.desc() if newest_first else audit_log.c.seq.asc()
        query = select(audit_log).order_by(order).limit(limit)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        with self.store.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_entry(row) for row in rows]

    def verify(self) -> AuditVerification:
        """Recompute the whole chain and report the first entry that does not hold."""
        with self.store.read() as conn:
            head_seq, head_hash = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
            count, prev, bad = 0, GENESIS_HASH, None
            for row in _rows_in_order(conn, head_seq):
                count += 1
                bad = _check(row, count, prev)
                if bad:
                    return AuditVerification(False, count - 1, bad[0], bad[1], head_seq, head_hash)
                prev = row["hash"]
        if count != head_seq or prev != head_hash:
            reason = (
                f"the log ends at seq {count} but its head says {head_seq}: entries are missing"
            )
            return AuditVerification(False, count, count + 1, reason, head_seq, head_hash)
        return AuditVerification(True, count, head_seq=head_seq, head_hash=head_hash)


def _rows_in_order(conn: Connection, up_to: int) -> Iterator[Any]:
    last = 0
    while True:
        rows = (
            conn.execute(
                select(audit_log)
                .where(audit_log.c.seq > last, audit_log.c.seq <= up_to)
                .order_by(audit_log.c.seq)
                .limit(_BATCH)
            )
            .mappings()
            .all()
        )
        yield from rows
        if len(rows) < _BATCH:
            return
        last = rows[-1]["seq"]


def _check(row: Any, expected_seq: int, prev: str) -> tuple[int, str] | None:
    seq = row["seq"]
    if seq != expected_seq:
        return expected_seq, f"entry {expected_seq} is missing (the next entry is {seq})"
    if row["prev_hash"] != prev:
        return seq, f"entry {seq} does not follow entry {seq - 1} (prev_hash differs)"
    recomputed = entry_hash(
        prev,
        seq=seq,
        time=row["time"],
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        payload=row["payload"],
    )
    if recomputed != row["hash"]:
        return seq, f"entry {seq} was changed after it was written (hash differs)"
    return None


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=int(row["seq"]),
        time=row["time"],
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        payload=loads(row["payload"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
