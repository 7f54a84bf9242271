from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from driftline.exceptions import (
    DependencyMissingError,
    IncompatibleWorkspaceError,
    UnavailableError,
    ValidationError,
)
from driftline.store import AuditLog, MetadataStore
from driftline.store._metadata import _config, code_heads
from driftline.store._tables import metadata


def test_open_migrates_to_head_and_is_idempotent(db_url: str) -> None:
    store = MetadataStore.open(db_url, version="9.9")
    first = store.workspace_info()
    assert store.schema_revision() == MetadataStore.code_revision()
    store.close()
    again = MetadataStore.open(db_url)
    assert again.workspace_info() == first  # no second workspace row, same identity
    assert first["created_by_version"] == "9.9"
    again.close()


def test_code_heads_read_without_alembic_match_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert code_heads() == set(ScriptDirectory.from_config(_config()).get_heads())


def test_opening_a_current_db_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    MetadataStore.open(url).close()  # creates and migrates
    probe = (
        "import sys\nfrom driftline.store import MetadataStore\n"
        f"store = MetadataStore.open({url!r})\n"
        "print(store.schema_revision(), 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [MetadataStore.code_revision(), "False"]


def test_tables_in_code_match_the_migrations(db_url: str) -> None:
    store = MetadataStore.open(db_url)
    inspector = sa.inspect(store.engine)
    for table in metadata.sorted_tables:
        in_db = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
        in_code = {c.name: c.nullable for c in table.columns}
        assert in_db == in_code, table.name
    store.close()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = MetadataStore.open(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=1234)
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
    store.close()


def test_newer_schema_is_refused_and_left_untouched(db_url: str) -> None:
    store = MetadataStore.open(db_url)
    AuditLog(store).record(action="a", subject="s")
    with store.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    store.close()
    with pytest.raises(IncompatibleWorkspaceError, match=r"9999_future.*newer driftline"):
        MetadataStore.open(db_url)
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            "9999_future"
        )
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "error", "match"),
    [
        ("not a url", ValidationError, "not a database URL"),
        ("mysql://root@127.0.0.1/test", ValidationError, "not supported"),
        ("sqlite://", ValidationError, "in-memory"),
        ("sqlite:////nonexistent-dir/sub/x.db", UnavailableError, "does not exist"),
        ("postgresql+nosuchdriver://u@h/db", DependencyMissingError, "driftline\\[postgres\\]"),
    ],
    ids=["garbage", "unsupported", "memory", "missing-dir", "missing-driver"],
)
def test_bad_urls_give_clear_errors(url: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        MetadataStore.open(url)


def test_unreachable_server_is_unavailable_with_password_hidden() -> None:
    url = "postgresql+psycopg://user:s3cret@127.0.0.1:1/test?connect_timeout=2"
    with pytest.raises(UnavailableError, match="cannot connect") as info:
        MetadataStore.open(url)
    assert "s3cret" not in str(info.value)
