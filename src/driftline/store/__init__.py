"""Storage: the metadata DB, the content-addressed artifact store and the audit log."""

from driftline.store._artifacts import (
    ArtifactRef,
    ArtifactStore,
    FsspecArtifactStore,
    LocalArtifactStore,
    open_artifact_store,
)
from driftline.store._audit import AuditEntry, AuditLog, AuditVerification
from driftline.store._metadata import Clock, MetadataStore, utc_now

__all__ = [
    "ArtifactRef",
    "ArtifactStore",
    "AuditEntry",
    "AuditLog",
    "AuditVerification",
    "Clock",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "MetadataStore",
    "open_artifact_store",
    "utc_now",
]
