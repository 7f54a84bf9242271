"""The workspace: the library's front door, tying settings to the stores."""

from __future__ import annotations

import os
import tempfile
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from driftline._version import __version__
from driftline.config import Settings
from driftline.exceptions import NotFoundError, UnavailableError
from driftline.store import (
    ArtifactStore,
    AuditLog,
    Clock,
    MetadataStore,
    open_artifact_store,
    utc_now,
)

if TYPE_CHECKING:
    from driftline.data import Datasets, QualityRuns
    from driftline.lineage import Lineage
    from driftline.registry import Registry
    from driftline.training import Trainer, TrainingResult

__all__ = ["Workspace"]


class Workspace:
    """One driftline workspace: metadata DB, artifacts and audit log.

    >>> import tempfile
    >>> with Workspace.open(home=tempfile.mkdtemp()) as ws:
    ...     ws.status()["audit"]["entries"]
    0
    """

    def __init__(
        self,
        *,
        settings: Settings,
        store: MetadataStore,
        artifacts: ArtifactStore,
        audit: AuditLog,
    ) -> None:
        self.settings = settings
        self.store = store
        self.artifacts = artifacts
        self.audit = audit

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        db_url: str | None = None,
        *,
        settings: Settings | None = None,
        create: bool = True,
        clock: Clock = utc_now,
    ) -> Workspace:
        """Open (and with ``create``, initialise) the workspace at ``home``.

        ``home`` and ``db_url`` override the matching fields of ``settings``; without
        settings, they are read once from ``DRIFTLINE_*`` here.
        """
        settings = settings or Settings()
        overrides: dict[str, Any] = {}
        if home is not None:
            overrides["home"] = Path(home)
        if db_url is not None:
            overrides["db_url"] = db_url
        if overrides:
            settings = settings.model_copy(update=overrides)
        _prepare_home(settings.home, create=create)
        store = MetadataStore.open(
            settings.db_url_or_default(),
            busy_timeout_ms=settings.busy_timeout_ms,
            clock=clock,
            version=__version__,
        )
        artifacts = open_artifact_store(
            settings.artifacts_or_default(), cache_dir=str(settings.home / "cache")
        )
        audit = AuditLog(store, actor=settings.actor, clock=clock)
        return cls(settings=settings, store=store, artifacts=artifacts, audit=audit)

    @cached_property
    def datasets(self) -> Datasets:
        """Dataset versions: register, list, load."""
        from driftline.data import Datasets

        return Datasets(
            store=self.store,
            artifacts=self.artifacts,
            audit=self.audit,
            clock=self.store.clock,
            lineage=self.lineage,
        )

    @cached_property
    def lineage(self) -> Lineage:
        """The lineage graph of this workspace (see :class:`driftline.lineage.Lineage`)."""
        from driftline.lineage import Lineage

        return Lineage(self.store, self.audit, clock=self.store.clock)

    @cached_property
    def quality(self) -> QualityRuns:
        """Quality checks of data and dataset versions, stored and linked."""
        from driftline.data import QualityRuns

        return QualityRuns(self.datasets, lineage=self.lineage)

    @cached_property
    def registry(self) -> Registry:
        """Model versions, aliases with history, verified artifacts."""
        from driftline.registry import Registry

        return Registry(
            store=self.store,
            artifacts=self.artifacts,
            audit=self.audit,
            clock=self.store.clock,
            lineage=self.lineage,
        )

    @cached_property
    def training(self) -> Trainer:
        """Training runs on dataset versions."""
        from driftline.training import Trainer

        return Trainer(datasets=self.datasets, registry=self.registry, lineage=self.lineage)

    def train(self, train_fn: Any, **kwargs: Any) -> TrainingResult:
        """Run ``train_fn`` on a dataset version and register its model (see
        :meth:`driftline.training.Trainer.train`)."""
        return self.training.train(train_fn, **kwargs)

    @property
    def home(self) -> Path:
        """The workspace directory."""
        return self.settings.home

    def status(self) -> dict[str, Any]:
        """A JSON-ready summary: versions, where things live, and how much is stored."""
        info = self.store.workspace_info()
        head_seq, head_hash = self.audit.head()
        return {
            "version": __version__,
            "workspace_id": info["id"],
            "created_at": info["created_at"],
            "home": str(self.home.resolve()),
            "db": {
                "url": self.store.url,
                "dialect": self.store.dialect,
                "schema_revision": self.store.schema_revision(),
            },
            "artifacts": {"location": self.artifacts.location, **self.artifacts.stats()},
            "audit": {"entries": head_seq, "head_hash": head_hash},
        }

    def close(self) -> None:
        """Release database connections."""
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _prepare_home(home: Path, *, create: bool) -> None:
    if home.is_dir():
        _check_writable(home)
        return
    if home.exists():
        raise UnavailableError(f"workspace home {str(home)!r} exists but is not a directory")
    if not create:
        raise NotFoundError(
            f"no driftline workspace at {str(home)!r}; create one with `driftline init` "
            "(or set DRIFTLINE_HOME to an existing workspace)"
        )
    try:
        home.mkdir(parents=True)
    except OSError as exc:
        raise UnavailableError(
            f"cannot create workspace home {str(home)!r}: {exc.strerror}"
        ) from exc


def _check_writable(home: Path) -> None:
    # A probe name of its own: processes opening one workspace at the same moment must not
    # delete each other's probe (a shared name made the slower one fail with ENOENT).
    try:
        handle, probe = tempfile.mkstemp(prefix=".write-probe-", dir=home)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise UnavailableError(
            f"workspace home {str(home)!r} is not writable ({exc.strerror}); "
            "fix its permissions or point DRIFTLINE_HOME elsewhere"
        ) from exc
