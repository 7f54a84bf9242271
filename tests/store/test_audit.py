from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from driftline.store import AuditLog, MetadataStore
from driftline.store._tables import audit_log


@pytest.fixture
def store(db_url: str) -> MetadataStore:
    store = MetadataStore.open(db_url)
    yield store
    store.close()


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.record(action="test.step", subject=f"item/{i}", payload={"i": i, "x": [i, None]})


def test_append_builds_a_chain(store: MetadataStore) -> None:
    ticks = iter(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s) for s in range(10))
    log = AuditLog(store, actor="alice", clock=lambda: next(ticks))
    first = log.record(action="a.create", subject="a/1", payload={"k": 1})
    second = log.record(action="a.update", subject="a/1", payload={"k": 2}, actor="bob")
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash
    assert first.time == "2026-01-01T00:00:00.000000+00:00"
    assert [e.actor for e in log.entries()] == ["bob", "alice"]
    assert log.entries(subject="a/1", newest_first=False)[0].payload == {"k": 1}
    assert log.head() == (2, second.hash)
    result = log.verify()
    assert result.intact and result.entries == 2 and result.first_bad_seq is None


def test_entry_commits_with_the_state_change_or_not_at_all(store: MetadataStore) -> None:
    log = AuditLog(store)
    with pytest.raises(RuntimeError, match="boom"), store.write() as conn:
        log.append(conn, action="x", subject="y")
        raise RuntimeError("boom")
    assert log.entries() == []
    assert log.head()[0] == 0
    assert log.verify().intact


def test_append_refuses_a_connection_outside_a_write(store: MetadataStore) -> None:
    log = AuditLog(store)
    with pytest.raises(RuntimeError, match=r"MetadataStore.write\(\)"), store.read() as conn:
        log.append(conn, action="x", subject="y")


def _tamper(store: MetadataStore, sql: str) -> None:
    with store.write() as conn:
        for statement in sql.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)


@pytest.mark.parametrize(
    ("sql", "bad_seq"),
    [
        ("UPDATE audit_log SET payload = '{\"i\":999}' WHERE seq = 4", 4),
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", 2),
        ("DELETE FROM audit_log WHERE seq = 3", 3),
        ("DELETE FROM audit_log WHERE seq = 6", 6),
        (
            "UPDATE audit_log SET seq = -1 WHERE seq = 4;"
            "UPDATE audit_log SET seq = 4 WHERE seq = 5;"
            "UPDATE audit_log SET seq = 5 WHERE seq = -1",
            4,
        ),
    ],
    ids=["edit-payload", "edit-actor", "delete-middle", "delete-last", "reorder"],
)
def test_tampering_is_found_at_the_first_bad_seq(
    store: MetadataStore, sql: str, bad_seq: int
) -> None:
    log = AuditLog(store)
    _fill(log, 6)
    _tamper(store, sql)
    result = log.verify()
    assert not result.intact
    assert result.first_bad_seq == bad_seq
    assert result.entries == bad_seq - 1
    assert result.reason


def test_verify_streams_past_one_batch(store: MetadataStore) -> None:
    log = AuditLog(store)
    with store.write() as conn:
        for i in range(1005):
            log.append(conn, action="bulk", subject=str(i))
    assert log.verify().entries == 1005
    _tamper(store, "UPDATE audit_log SET subject = 'x' WHERE seq = 1003")
    assert log.verify().first_bad_seq == 1003


def test_threads_never_fork_the_chain(store: MetadataStore) -> None:
    log = AuditLog(store)
    threads = [threading.Thread(target=_fill, args=(log, 25)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = log.verify()
    assert result.intact and result.entries == 100


_WORKER = textwrap.dedent(
    """
    import sys
    from driftline.store import AuditLog, MetadataStore
    store = MetadataStore.open(sys.argv[1])
    log = AuditLog(store, actor="worker-" + sys.argv[2])
    for i in range(int(sys.argv[3])):
        log.record(action="concurrent.append", subject=f"w{sys.argv[2]}/{i}")
    store.close()
    """
)


@pytest.mark.slow
def test_four_processes_append_800_entries(db_url: str) -> None:
    MetadataStore.open(db_url).close()  # migrate once; workers race on appends only
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, db_url, str(w), "200"]) for w in range(4)
    ]
    assert [p.wait(timeout=300) for p in workers] == [0, 0, 0, 0]
    store = MetadataStore.open(db_url)
    result = AuditLog(store).verify()
    with store.read() as conn:
        actors = conn.execute(
            sa.select(audit_log.c.actor, sa.func.count()).group_by(audit_log.c.actor)
        ).all()
    store.close()
    assert result.intact, result.reason
    assert result.entries == 800
    assert dict(actors) == {f"worker-{w}": 200 for w in range(4)}


@pytest.mark.slow
def test_processes_racing_to_create_the_workspace(db_url: str) -> None:
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, db_url, str(w), "5"]) for w in range(4)
    ]
    assert [p.wait(timeout=300) for p in workers] == [0, 0, 0, 0]
    store = MetadataStore.open(db_url)
    assert AuditLog(store).verify().entries == 20
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM workspace")).scalar() == 1
    store.close()
