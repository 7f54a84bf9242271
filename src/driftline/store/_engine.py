"""Engines for the metadata DB: URL checks, SQLite pragmas, explicit transaction begins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from driftline.exceptions import DependencyMissingError, UnavailableError, ValidationError

__all__ = ["WRITE", "make_engine", "parse_db_url", "safe_url"]

# Execution option that marks a connection as a writer: on SQLite it begins with
# BEGIN IMMEDIATE, taking the write lock up front instead of failing on upgrade later.
WRITE = "driftline_write"

_DRIVER_EXTRAS = {"postgresql": "postgres"}


def parse_db_url(url: str) -> URL:
    """Parse ``url`` or raise a ValidationError that shows the expected form."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValidationError(
            f"DRIFTLINE_DB_URL {url!r} is not a database URL; expected e.g. "
            "sqlite:///path/driftline.db or postgresql+psycopg://user@host:5432/db"
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValidationError(
            f"DRIFTLINE_DB_URL {safe_url(parsed)!r}: backend {parsed.get_backend_name()!r} is "
            "not supported; use sqlite:/// or postgresql+psycopg://"
        )
    return parsed


def safe_url(url: URL | str) -> str:
    """The URL with any password hidden, for messages and status output."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, *, busy_timeout_ms: int = 30_000) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and real BEGINs."""
    parsed = parse_db_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        _check_sqlite_path(parsed)
        kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        extra = _DRIVER_EXTRAS.get(backend, backend)
        raise DependencyMissingError(
            f"no database driver for {safe_url(parsed)!r}; install it with: "
            f'pip install "driftline[{extra}]"'
        ) from exc
    if backend == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms)
    return engine


def _check_sqlite_path(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:"):
        raise ValidationError(
            "an in-memory SQLite database cannot be shared between connections; "
            "give a file path, e.g. sqlite:///.driftline/driftline.db"
        )
    parent = Path(database).parent
    if not parent.is_dir():
        raise UnavailableError(
            f"the directory {str(parent)!r} of SQLite database {database!r} does not exist"
        )


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    # pysqlite opens transactions lazily and never for SELECTs; take control of BEGIN so
    # that a transaction is one (the recipe in SQLAlchemy's SQLite dialect docs).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writer = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")
