"""Dataset versions: register data once by content, load it back, list and resolve refs."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from driftline._canonical import canonical_json, loads
from driftline.data._canonical import canonicalize, content_hash
from driftline.data._readers import DataSource, read_table
from driftline.data._schema import ColumnSchema, infer_schema
from driftline.exceptions import NotFoundError, ValidationError
from driftline.ids import uuid7
from driftline.lineage import Lineage, NodeKind
from driftline.store import ArtifactStore, AuditLog, Clock, MetadataStore, iso_utc
from driftline.store._dataset_tables import dataset_versions

__all__ = ["DatasetVersion", "Datasets", "parse_ref"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ATTEMPTS = 5


@dataclass(frozen=True)
class DatasetVersion:
    """One registered version of a dataset, identified by the hash of its content."""

    id: str
    name: str
    version: int
    sha256: str
    rows: int
    columns: list[ColumnSchema]
    artifact_sha256: str
    artifact_size: int
    source_uri: str | None
    created_at: str
    created_by: str
    existed: bool = field(default=False, compare=False)

    @property
    def ref(self) -> str:
        """``name:version``, the form the CLI and other commands accept."""
        return f"{self.name}:{self.version}"

    def summary(self) -> dict[str, Any]:
        """The short JSON form: id, name, version, sha256, rows and columns."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "rows": self.rows,
            "columns": [c.name for c in self.columns],
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready, with the full column schema."""
        return {
            **self.summary(),
            "schema": [c.to_dict() for c in self.columns],
            "artifact_sha256": self.artifact_sha256,
            "artifact_size": self.artifact_size,
            "source_uri": self.source_uri,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``name`` or ``name:version``; the version is None for "latest"."""
    name, _, version = ref.partition(":")
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"dataset name {name!r} is invalid: use letters, digits, '.', '_' or '-' "
            "(at most 128), starting with a letter or digit"
        )
    if not version:
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise ValidationError(f"dataset version {version!r} in {ref!r} is not a number >= 1")
    return name, int(version)


class Datasets:
    """Register, find and load dataset versions (``ws.datasets``)."""

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

    def add(
        self,
        data: DataSource,
        *,
        name: str,
        source_uri: str | None = None,
        null_values: Iterable[str] = (),
        allow_mixed: bool = False,
    ) -> DatasetVersion:
        """Register ``data`` as the next version of ``name``, or return the existing version
        of ``name`` with the same content."""
        parse_ref(name)
        table, file_uri = read_table(data, null_values=null_values, allow_mixed=allow_mixed)
        if table.num_columns == 0:
            raise ValidationError(f"dataset {name!r} has no columns")
        table = canonicalize(table)
        sha = content_hash(table)
        existing = self._find(name, sha)
        if existing is not None:
            return existing
        artifact = self.artifacts.put_bytes(_parquet_bytes(table))
        row = {
            "name": name,
            "sha256": sha,
            "rows": table.num_rows,
            "columns": canonical_json([c.to_dict() for c in infer_schema(table)]).decode(),
            "artifact_sha256": artifact.sha256,
            "artifact_size": artifact.size,
            "source_uri": source_uri or file_uri,
        }
        return self._insert(row)

    def get(self, ref: str) -> DatasetVersion:
        """The version named by ``name:version``, ``name`` (latest) or its id."""
        with self.store.read() as conn:
            found = self._lookup(conn, ref)
        if found is None:
            raise NotFoundError(
                f"dataset {ref!r} not found; `driftline data list` shows what is registered"
            )
        return found

    def list(self, name: str | None = None) -> list[DatasetVersion]:
        """All versions, by name then version."""
        query = select(dataset_versions).order_by(
            dataset_versions.c.name, dataset_versions.c.version
        )
        if name is not None:
            query = query.where(dataset_versions.c.name == name)
        with self.store.read() as conn:
            return [_version(row) for row in conn.execute(query).mappings()]

    def load(
        self, ref: str | DatasetVersion, *, format: Literal["pandas", "arrow"] = "pandas"
    ) -> Any:
        """The data of a version, read from its verified artifact."""
        version = ref if isinstance(ref, DatasetVersion) else self.get(ref)
        table = pq.read_table(self.artifacts.local_path(version.artifact_sha256))
        if format == "arrow":
            return table
        if format == "pandas":
            return table.to_pandas()
        raise ValidationError(f"format {format!r} is not one of 'pandas', 'arrow'")

    def _find(self, name: str, sha: str) -> DatasetVersion | None:
        with self.store.read() as conn:
            row = (
                conn.execute(
                    select(dataset_versions).where(
                        dataset_versions.c.name == name, dataset_versions.c.sha256 == sha
                    )
                )
                .mappings()
                .first()
            )
        return _version(row, existed=True) if row else None

    def _insert(self, row: dict[str, Any]) -> DatasetVersion:
        # Two writers may pick the same next version number on PostgreSQL; the unique
        # constraint turns that into a retry, and the same content into "already there".
        for _ in range(_ATTEMPTS):
            try:
                with self.store.write() as conn:
                    return self._insert_in(conn, row)
            except DBIntegrityError:
                existing = self._find(row["name"], row["sha256"])
                if existing is not None:
                    return existing
        raise ValidationError(f"could not register dataset {row['name']!r}: too much contention")

    def _insert_in(self, conn: Connection, row: dict[str, Any]) -> DatasetVersion:
        latest = conn.execute(
            select(func.max(dataset_versions.c.version)).where(
                dataset_versions.c.name == row["name"]
            )
        ).scalar()
        full = {
            **row,
            "id": str(uuid7()),
            "version": (latest or 0) + 1,
            "created_at": iso_utc(self.clock()),
            "created_by": self.audit.actor,
        }
        conn.execute(insert(dataset_versions).values(**full))
        version = _version(full)
        self.audit.append(
            conn,
            action="dataset.register",
            subject=f"dataset/{version.ref}",
            payload={k: full[k] for k in ("id", "sha256", "rows", "source_uri")},
        )
        if self.lineage is not None:
            self.lineage.add_node(
                version.id,
                NodeKind.DATASET_VERSION,
                version.name,
                version=str(version.version),
                content_hash=version.sha256,
                conn=conn,
                attributes={
                    "columns": [{"name": c.name, "type": c.logical_type} for c in version.columns],
                    "rows": version.rows,
                    "source_uri": version.source_uri,
                },
            )
        return version

    def _lookup(self, conn: Connection, ref: str) -> DatasetVersion | None:
        by_id = (
            conn.execute(select(dataset_versions).where(dataset_versions.c.id == ref))
            .mappings()
            .first()
        )
        if by_id:
            return _version(by_id)
        name, number = parse_ref(ref)
        query = select(dataset_versions).where(dataset_versions.c.name == name)
        if number is None:
            query = query.order_by(dataset_versions.c.version.desc()).limit(1)
        else:
            query = query.where(dataset_versions.c.version == number)
        row = conn.execute(query).mappings().first()
        return _version(row) if row else None


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _version(row: Any, *, existed: bool = False) -> DatasetVersion:
    return DatasetVersion(
        id=row["id"],
        name=row["name"],
        version=int(row["version"]),
        sha256=row["sha256"],
        rows=int(row["rows"]),
        columns=[ColumnSchema.from_dict(c) for c in loads(row["columns"])],
        artifact_sha256=row["artifact_sha256"],
        artifact_size=int(row["artifact_size"]),
        source_uri=row["source_uri"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        existed=existed,
    )
