"""Settings: the one place that reads the environment (prefix ``DRIFTLINE_``).

Build a :class:`Settings` once at an entry point (the CLI, the server, a script) and pass it
down; library code receives values, never reads ``os.environ`` itself.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


class Settings(BaseSettings):
    """driftline's configuration, from ``DRIFTLINE_*`` environment variables or arguments.

    >>> Settings(home="/srv/driftline").db_url_or_default()
    'sqlite:////srv/driftline/driftline.db'
    """

    model_config = SettingsConfigDict(env_prefix="DRIFTLINE_", extra="ignore")

    home: Path = Field(
        default=Path(".driftline"),
        description="Workspace directory: SQLite database, artifacts, prediction logs.",
    )
    db_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata DB, e.g. postgresql+psycopg://user@host/db. "
        "Default: SQLite at HOME/driftline.db.",
    )
    artifacts: str | None = Field(
        default=None,
        description="Artifact store: a local directory or an fsspec URL such as "
        "s3://bucket/prefix. "
        "Default: HOME/artifacts.",
    )
    actor: str = Field(
        default_factory=_default_actor,
        description="Who is acting, recorded in every audit entry.",
    )
    busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long SQLite waits for a lock before failing."
    )
    admin_token: str | None = Field(
        default=None,
        repr=False,
        description="Bearer token for the model server's admin endpoints (reload, routing); "
        "unset disables them.",
    )

    def db_url_or_default(self) -> str:
        """The metadata DB URL, SQLite inside ``home`` unless ``db_url`` is set."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home.resolve() / 'driftline.db').as_posix()}"

    def artifacts_or_default(self) -> str:
        """The artifact store location, ``home/artifacts`` unless ``artifacts`` is set."""
        return self.artifacts or str(self.home.resolve() / "artifacts")
