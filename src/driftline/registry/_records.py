"""What the registry returns: model versions and alias changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from driftline._canonical import loads
from driftline.registry._signature import Signature

__all__ = ["AliasChange", "ModelVersion", "alias_change", "model_version"]


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model."""

    id: str
    name: str
    version: int
    flavor: str
    artifact_sha256: str
    artifact_size: int
    flavor_meta: dict[str, Any]
    signature: Signature | None
    dataset_version_id: str | None
    run_id: str | None
    metrics: dict[str, Any]
    params: dict[str, Any]
    tags: dict[str, str]
    description: str | None
    reference_profile_sha256: str | None
    status: str
    created_at: str
    created_by: str
    aliases: tuple[str, ...] = field(default=(), compare=False)

    @property
    def uri(self) -> str:
        """``models:/NAME/VERSION``."""
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "flavor": self.flavor,
            "sha256": self.artifact_sha256,
            "size": self.artifact_size,
            "flavor_meta": self.flavor_meta,
            "signature": self.signature.to_dict() if self.signature else None,
            "dataset_version_id": self.dataset_version_id,
            "run_id": self.run_id,
            "metrics": self.metrics,
            "params": self.params,
            "tags": self.tags,
            "description": self.description,
            "reference_profile_sha256": self.reference_profile_sha256,
            "status": self.status,
            "aliases": list(self.aliases),
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


@dataclass(frozen=True)
class AliasChange:
    """One move of an alias: from which version to which, by whom, when and why."""

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    reason: str
    actor: str
    time: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def model_version(row: Any, aliases: tuple[str, ...] = ()) -> ModelVersion:
    """A :class:`ModelVersion` from a ``model_versions`` row."""
    return ModelVersion(
        id=row["id"],
        name=row["name"],
        version=int(row["version"]),
        flavor=row["flavor"],
        artifact_sha256=row["artifact_sha256"],
        artifact_size=int(row["artifact_size"]),
        flavor_meta=loads(row["flavor_meta"]),
        signature=Signature.from_dict(loads(row["signature"])) if row["signature"] else None,
        dataset_version_id=row["dataset_version_id"],
        run_id=row["run_id"],
        metrics=loads(row["metrics"]),
        params=loads(row["params"]),
        tags=loads(row["tags"]),
        description=row["description"],
        reference_profile_sha256=row["reference_profile_sha256"],
        status=row["status"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        aliases=aliases,
    )


def alias_change(row: Any) -> AliasChange:
    """An :class:`AliasChange` from a ``model_alias_history`` row."""
    return AliasChange(
        name=row["name"],
        alias=row["alias"],
        from_version=row["from_version"],
        to_version=row["to_version"],
        reason=row["reason"],
        actor=row["actor"],
        time=row["time"],
    )
