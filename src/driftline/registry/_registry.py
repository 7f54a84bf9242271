"""The model registry (``ws.registry``): register versions, resolve references, move aliases."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from driftline._canonical import canonical_json
from driftline.exceptions import ConflictError, NotFoundError, ValidationError
from driftline.ids import uuid7
from driftline.lineage import Lineage, NodeKind, Relation
from driftline.registry import _aliases, _models
from driftline.registry._card import card_html, card_markdown
from driftline.registry._records import AliasChange, ModelVersion, model_version
from driftline.registry._signature import Signature
from driftline.registry._uri import ModelRef, check_name, parse_model_ref
from driftline.store import ArtifactStore, AuditLog, Clock, MetadataStore, iso_utc
from driftline.store._registry_tables import model_aliases, model_versions, registered_models

if TYPE_CHECKING:
    from driftline.registry.flavors import LoadedModel

__all__ = ["Registry"]

_ATTEMPTS = 5


class Registry:
    """Model versions with verified artifacts, signatures, and aliases with full history."""

    def __init__(
        self,
        *,
        store: MetadataStore,
        artifacts: ArtifactStore,
        audit: AuditLog,
        clock: Clock,
        lineage: Lineage | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.audit = audit
        self.clock = clock
        self.lineage = lineage

    # -- registering -------------------------------------------------------------------
    def register_saved(
        self,
        name: str,
        *,
        flavor: str,
        data: bytes,
        flavor_meta: Mapping[str, Any],
        signature: Signature | None = None,
        dataset_version_id: str | None = None,
        run_id: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        reference_profile: bytes | None = None,
        conn: Connection | None = None,
    ) -> ModelVersion:
        """Register already-serialised model bytes as the next version of ``name``."""
        check_name(name)
        artifact = self.artifacts.put_bytes(data)
        profile = self.artifacts.put_bytes(reference_profile) if reference_profile else None
        row = {
            "name": name,
            "flavor": flavor,
            "artifact_sha256": artifact.sha256,
            "artifact_size": artifact.size,
            "flavor_meta": _json(flavor_meta),
            "signature": _json(signature.to_dict()) if signature else None,
            "dataset_version_id": dataset_version_id,
            "run_id": run_id,
            "metrics": _json(metrics or {}),
            "params": _json(params or {}),
            "tags": _json(tags or {}),
            "description": description,
            "reference_profile_sha256": profile.sha256 if profile else None,
        }
        if conn is not None:
            return self._insert(conn, row)
        for _ in range(_ATTEMPTS):
            try:
                with self.store.write() as own:
                    return self._insert(own, row)
            except DBIntegrityError:
                continue  # two writers took the same version number; take the next one
        raise ConflictError(f"could not register a version of {name!r}: too much contention")

    def _insert(self, conn: Connection, row: dict[str, Any]) -> ModelVersion:
        now = iso_utc(self.clock())
        name = row["name"]
        if (
            conn.execute(
                select(registered_models.c.name).where(registered_models.c.name == name)
            ).first()
            is None
        ):
            conn.execute(
                insert(registered_models).values(
                    name=name, created_at=now, created_by=self.audit.actor
                )
            )
        latest = conn.execute(
            select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
        ).scalar()
        full = {
            **row,
            "id": str(uuid7()),
            "version": (latest or 0) + 1,
            "status": "ready",
            "created_at": now,
            "created_by": self.audit.actor,
        }
        conn.execute(insert(model_versions).values(**full))
        version = model_version(full)
        self.audit.append(
            conn,
            action="model.register",
            subject=f"model/{name}/{version.version}",
            payload={
                "id": version.id,
                "flavor": version.flavor,
                "sha256": version.artifact_sha256,
                "dataset_version_id": version.dataset_version_id,
                "run_id": version.run_id,
            },
        )
        if self.lineage is not None:
            _record_lineage(self.lineage, conn, version)
        return version

    def register(
        self,
        name: str,
        model: Any,
        *,
        flavor: str | None = None,
        frame: pd.DataFrame | None = None,
        target: str | None = None,
        dataset: Any = None,
        **fields: Any,
    ) -> ModelVersion:
        """Register an in-memory model; ``frame`` (its training data) gives the signature and
        the reference profile, ``dataset`` the dataset version it came from."""
        saved = _models.saved_from(model, flavor)
        return _models.register_model(
            self, name, saved, frame=frame, target=target, dataset=dataset, **fields
        )

    def register_file(
        self,
        name: str,
        path: str | Path,
        *,
        flavor: str,
        frame: pd.DataFrame | None = None,
        target: str | None = None,
        dataset: Any = None,
        **fields: Any,
    ) -> ModelVersion:
        """Register a model file written by its library (``driftline models register``)."""
        saved = _models.saved_from_file(path, flavor)
        return _models.register_model(
            self, name, saved, frame=frame, target=target, dataset=dataset, **fields
        )

    def load(self, ref: str | ModelVersion) -> LoadedModel:
        """A predictor for the version, after its artifact matched the registered sha256."""
        return _models.load_model(self, ref)[1]

    def card(self, ref: str | ModelVersion, *, format: str = "markdown") -> str:
        """The model card of a version, as ``markdown`` or ``html``."""
        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        if format == "markdown":
            return card_markdown(self, version)
        if format == "html":
            return card_html(self, version)
        raise ValidationError(f"card format {format!r} is not one of 'markdown', 'html'")

    # -- reading -----------------------------------------------------------------------
    def get(self, ref: str | ModelRef) -> ModelVersion:
        """The version named by ``models:/n/3``, ``models:/n@alias``, ``n/3``, ``n@alias``
        or ``n`` (the newest version)."""
        parsed = ref if isinstance(ref, ModelRef) else parse_model_ref(ref)
        with self.store.read() as conn:
            return self._get(conn, parsed)

    def _get(self, conn: Connection, ref: ModelRef) -> ModelVersion:
        query = select(model_versions).where(model_versions.c.name == ref.name)
        if ref.alias is not None:
            version = conn.execute(
                select(model_aliases.c.version).where(
                    model_aliases.c.name == ref.name, model_aliases.c.alias == ref.alias
                )
            ).scalar()
            if version is None:
                raise NotFoundError(f"{ref.uri}: model {ref.name!r} has no alias {ref.alias!r}")
            query = query.where(model_versions.c.version == version)
        elif ref.version is not None:
            query = query.where(model_versions.c.version == ref.version)
        else:
            query = query.order_by(model_versions.c.version.desc()).limit(1)
        row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(
                f"{ref.uri} not found; `driftline models list` shows registered models"
            )
        aliases = _aliases.aliases_of(conn, ref.name).get(int(row["version"]), ())
        return model_version(row, aliases)

    def list(self, name: str | None = None) -> list[ModelVersion]:
        """All versions, by name then version, with their current aliases."""
        query = select(model_versions).order_by(model_versions.c.name, model_versions.c.version)
        if name is not None:
            query = query.where(model_versions.c.name == name)
        with self.store.read() as conn:
            rows = conn.execute(query).mappings().all()
            aliases = {n: _aliases.aliases_of(conn, n) for n in {r["name"] for r in rows}}
        return [model_version(r, aliases[r["name"]].get(int(r["version"]), ())) for r in rows]

    def load_bytes(self, ref: str | ModelVersion) -> tuple[ModelVersion, bytes]:
        """A version and its artifact bytes, verified against the registered sha256."""
        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        return version, self.artifacts.get_bytes(version.artifact_sha256)

    def verify(self, ref: str | ModelVersion) -> ModelVersion:
        """Check the artifact of a version hashes to what was registered (IntegrityError if not)."""
        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        self.artifacts.local_path(version.artifact_sha256)
        return version

    # -- aliases -----------------------------------------------------------------------
    def set_alias(
        self, name: str, version: int, alias: str, *, reason: str, conn: Connection | None = None
    ) -> AliasChange:
        """Point ``alias`` at ``version``; the move, its reason and its audit entry commit
        together."""
        return self._move(name, alias, version, reason, conn)

    def delete_alias(self, name: str, alias: str, *, reason: str) -> AliasChange:
        """Remove ``alias`` (recorded in its history)."""
        return self._move(name, alias, None, reason, None)

    def _move(
        self, name: str, alias: str, version: int | None, reason: str, conn: Connection | None
    ) -> AliasChange:
        kwargs = {
            "name": name,
            "alias": alias,
            "version": version,
            "reason": reason,
            "time": iso_utc(self.clock()),
        }
        if conn is not None:
            return _aliases.move_alias(conn, self.audit, **kwargs)  # type: ignore[arg-type]
        with self.store.write() as own:
            return _aliases.move_alias(own, self.audit, **kwargs)  # type: ignore[arg-type]

    def alias_history(self, name: str, alias: str) -> builtins.list[AliasChange]:
        """Every move of ``alias`` of ``name``, oldest first."""
        with self.store.read() as conn:
            return _aliases.history(conn, name, alias)

    def version_at(self, name: str, alias: str, when: datetime) -> int | None:
        """Which version ``alias`` pointed at, at ``when`` (None if none)."""
        with self.store.read() as conn:
            return _aliases.version_at(conn, name, alias, iso_utc(when))

    def promote(
        self,
        name: str,
        version: int,
        *,
        reason: str,
        alias: str = "champion",
        conn: Connection | None = None,
    ) -> AliasChange:
        """Move ``champion`` (or ``alias``) to ``version``."""
        return self.set_alias(name, version, alias, reason=reason, conn=conn)

    def rollback(self, name: str, *, reason: str, alias: str = "champion") -> AliasChange:
        """Move ``alias`` back to the version it pointed at before its last move."""
        with self.store.write() as conn:
            moves = _aliases.history(conn, name, alias)
            if not moves or moves[-1].from_version is None:
                raise ConflictError(
                    f"alias {alias!r} of {name!r} has no earlier version to roll back to"
                )
            return _aliases.move_alias(
                conn,
                self.audit,
                name=name,
                alias=alias,
                version=moves[-1].from_version,
                reason=reason,
                time=iso_utc(self.clock()),
            )

    # -- lifecycle ---------------------------------------------------------------------
    def archive(self, ref: str, *, reason: str) -> ModelVersion:
        """Mark a version archived: kept and loadable, but no alias may point at it."""
        with self.store.write() as conn:
            version = self._get(conn, parse_model_ref(ref))
            self._refuse_if_aliased(version, "archive")
            conn.execute(
                update(model_versions)
                .where(model_versions.c.id == version.id)
                .values(status="archived")
            )
            self.audit.append(
                conn,
                action="model.archive",
                subject=f"model/{version.name}/{version.version}",
                payload={"reason": reason},
            )
        return self.get(version.uri)

    def delete(self, ref: str, *, reason: str) -> None:
        """Delete a version's record (its artifact stays, content-addressed)."""
        with self.store.write() as conn:
            version = self._get(conn, parse_model_ref(ref))
            self._refuse_if_aliased(version, "delete")
            conn.execute(delete(model_versions).where(model_versions.c.id == version.id))
            self.audit.append(
                conn,
                action="model.delete",
                subject=f"model/{version.name}/{version.version}",
                payload={"reason": reason, "sha256": version.artifact_sha256},
            )

    @staticmethod
    def _refuse_if_aliased(version: ModelVersion, what: str) -> None:
        if version.aliases:
            raise ConflictError(
                f"cannot {what} {version.uri}: alias(es) {', '.join(version.aliases)} point at "
                "it; move them first"
            )


def _record_lineage(lineage: Lineage, conn: Connection, version: ModelVersion) -> None:
    lineage.add_node(
        version.id,
        NodeKind.MODEL_VERSION,
        version.name,
        version=str(version.version),
        content_hash=version.artifact_sha256,
        conn=conn,
        attributes={"flavor": version.flavor, "uri": version.uri},
    )
    # A training run links its own output; a model registered from a file links straight
    # to the data it was trained on.
    if version.run_id is None and version.dataset_version_id is not None:
        lineage.add_edge(version.dataset_version_id, version.id, Relation.INPUT, conn=conn)


def _json(value: Any) -> str:
    try:
        return canonical_json(value).decode()
    except TypeError as exc:
        raise ValidationError(f"value is not JSON-serialisable: {exc}") from None
