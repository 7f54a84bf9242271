"""The metadata DB: open (with migrations), read and write transactions, schema checks."""

from __future__ import annotations

import ast
import functools
import hashlib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from driftline.exceptions import ConflictError, IncompatibleWorkspaceError, UnavailableError
from driftline.store._engine import WRITE, make_engine, safe_url
from driftline.store._tables import workspace

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["Clock", "MetadataStore", "iso_utc", "utc_now"]

Clock = Callable[[], datetime]

_MIGRATIONS = Path(__file__).parent / "migrations"
_VERSION_TABLE = "alembic_version"  # Alembic's default; env.py keeps it
# Any constant works; it only has to be the same in every process that migrates.
_PG_MIGRATION_LOCK = 0x6472696674  # "drift"


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """One text form for stored times: UTC, microseconds, ``+00:00``; sorts as it compares.

    Naive datetimes are taken to be UTC.

    >>> iso_utc(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    '2026-01-02T03:04:05.000000+00:00'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class MetadataStore:
    """The metadata DB behind a workspace: SQLite by default, PostgreSQL by URL.

    Opening applies pending migrations under a lock, and refuses a DB whose schema is newer
    than this code. Use :meth:`read` for consistent reads and :meth:`write` for changes; a
    write is one transaction (on SQLite it takes the write lock when it begins).
    """

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def open(
        cls, url: str, *, busy_timeout_ms: int = 30_000, clock: Clock = utc_now, version: str = ""
    ) -> MetadataStore:
        """Connect to ``url``, migrate it to the current schema and return the store."""
        store = cls(make_engine(url, busy_timeout_ms=busy_timeout_ms), clock=clock)
        try:
            store._migrate(version)
        except BaseException:
            store.close()
            raise
        return store

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The DB URL with its password hidden."""
        return safe_url(self.engine.url)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (one snapshot on SQLite WAL)."""
        with self._connect(write=False) as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction: everything in it commits or nothing does."""
        with self._connect(write=True) as conn, conn.begin():
            yield conn

    def lock(self, conn: Connection, key: str) -> None:
        """Serialise writers on ``key`` until ``conn``'s transaction ends.

        PostgreSQL takes a transaction-scoped advisory lock; SQLite needs none, because a
        write transaction there already holds the database's write lock from its start.
        """
        if self.dialect == "postgresql":
            number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": number})

    def schema_revision(self) -> str | None:
        """The Alembic revision the DB is at."""
        heads = self._current_heads()
        if len(heads) > 1:
            raise IncompatibleWorkspaceError(
                f"the metadata DB {self.url} has several schema heads: {', '.join(sorted(heads))}"
            )
        return next(iter(heads), None)

    @staticmethod
    def code_revision() -> str:
        """The newest schema revision this code knows."""
        (head,) = code_heads()
        return head

    def workspace_info(self) -> dict[str, str]:
        """Id, creation time and creating version of this workspace."""
        with self.read() as conn:
            row = conn.execute(select(workspace)).mappings().one()
        return dict(row)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except (OperationalError, DBAPIError) as exc:
            raise UnavailableError(
                f"cannot connect to the metadata DB {self.url}: {_first_line(exc)}; "
                "check DRIFTLINE_DB_URL and that the server is running and reachable"
            ) from exc
        with conn:
            yield conn.execution_options(**{WRITE: True}) if write else conn

    def _migrate(self, version: str) -> None:
        if self._current_heads() == code_heads():
            return  # the usual open: no need for Alembic (~12 MB and ~0.1 s to import)
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        config = _config()
        script = ScriptDirectory.from_config(config)
        heads = set(script.get_heads())
        with self._connect(write=True) as conn:
            try:
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
                        )
                    current = set(MigrationContext.configure(conn).get_current_heads())
                    self._refuse_unknown(current, script)
                    if current != heads:
                        config.attributes["connection"] = conn
                        command.upgrade(config, "heads")
                    self._ensure_workspace_row(conn, version)
            except OperationalError as exc:
                raise UnavailableError(
                    f"cannot migrate the metadata DB {self.url}: {_first_line(exc)}; "
                    "check that the workspace directory is writable"
                ) from exc
            except CommandError as exc:
                raise ConflictError(
                    f"cannot migrate the metadata DB {self.url}: {exc}. Nothing was changed."
                ) from exc

    def _current_heads(self) -> set[str]:
        """The revisions in Alembic's version table (none before the first migration)."""
        try:
            with self._connect(write=False) as conn:
                if not inspect(conn).has_table(_VERSION_TABLE):
                    return set()
                rows = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}"))
                return {str(row[0]) for row in rows}
        except OperationalError as exc:
            raise UnavailableError(
                f"cannot read the metadata DB {self.url}: {_first_line(exc)}"
            ) from exc

    def _refuse_unknown(self, current: set[str], script: ScriptDirectory) -> None:
        known = {rev.revision for rev in script.walk_revisions()}
        unknown = sorted(current - known)
        if unknown:
            raise IncompatibleWorkspaceError(
                f"the metadata DB {self.url} is at schema revision {', '.join(unknown)}, "
                "written by a newer driftline than this one; upgrade driftline "
                "(pip install -U driftline) to open it. Nothing was changed."
            )

    def _ensure_workspace_row(self, conn: Connection, version: str) -> None:
        if conn.execute(select(func.count()).select_from(workspace)).scalar_one():
            return
        conn.execute(
            insert(workspace).values(
                id=str(uuid.uuid4()),
                created_at=iso_utc(self.clock()),
                created_by_version=version,
            )
        )


@functools.cache
def code_heads() -> frozenset[str]:
    """The newest revisions in ``migrations/versions``, read without importing Alembic.

    Each migration file assigns ``revision`` and ``down_revision`` literals (Alembic's own
    template); a head is a revision no other one names as its ``down_revision``.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((_MIGRATIONS / "versions").glob("*.py")):
        values = _literals(path, ("revision", "down_revision"))
        if "revision" not in values:
            continue
        revisions.add(str(values["revision"]))
        down = values.get("down_revision")
        parents.update([down] if isinstance(down, str) else list(down or ()))
    return frozenset(revisions - parents)


def _literals(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """Module-level ``name = <literal>`` assignments of ``names`` in ``path``."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            found[target.id] = ast.literal_eval(value)
    return found


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
