"""Storage: the metadata DB, the content-addressed artifact store and the audit log."""

from driftline.store import (  # noqa: F401  (registers the tables)
    _dataset_tables,
    _drift_tables,
    _monitoring_tables,
    _registry_tables,
    _retraining_tables,
    _serving_tables,
    _training_tables,
)
from driftline.store._artifacts import (
    ArtifactRef,
    ArtifactStore,
    FsspecArtifactStore,
    LocalArtifactStore,
    open_artifact_store,
)
from driftline.store._audit import AuditEntry, AuditLog, AuditVerification
from driftline.store._metadata import Clock, MetadataStore, iso_utc, utc_now

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
    "iso_utc",
    "open_artifact_store",
    "utc_now",
]
