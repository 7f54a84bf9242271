"""Quality checks of dataset versions, stored with their result and linked in lineage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from driftline._canonical import canonical_json, loads
from driftline.data._canonical import canonicalize, content_hash
from driftline.data._datasets import Datasets, DatasetVersion
from driftline.data._readers import DataSource, read_table
from driftline.ids import uuid7
from driftline.lineage import Lineage, NodeKind, Relation
from driftline.quality import QualityResult, Suite
from driftline.store import iso_utc
from driftline.store._dataset_tables import dataset_versions, quality_results

__all__ = ["QualityRuns", "StoredQualityResult"]


@dataclass(frozen=True)
class StoredQualityResult:
    """A quality result as stored: its id, what it checked, and the result itself."""

    id: str
    dataset_version_id: str | None
    suite_sha256: str
    result: dict[str, Any]
    created_at: str

    @property
    def passed(self) -> bool:
        """Whether no error-severity check failed."""
        return bool(self.result["passed"])

    def to_dict(self) -> dict[str, Any]:
        """The result's dict plus the stored id and the dataset version it checked."""
        return {
            **self.result,
            "id": self.id,
            "dataset_version_id": self.dataset_version_id,
            "suite_sha256": self.suite_sha256,
        }


class QualityRuns:
    """Run suites on data or dataset versions and keep the results (``ws.quality``)."""

    def __init__(self, datasets: Datasets, *, lineage: Lineage | None = None) -> None:
        self.datasets = datasets
        self.lineage = lineage

    def check(
        self,
        data: DataSource | DatasetVersion,
        suite: Suite,
        *,
        null_values: tuple[str, ...] = (),
        **run_options: Any,
    ) -> tuple[QualityResult, StoredQualityResult]:
        """Run ``suite`` on a dataset version or on data, store the result and return both.

        Data whose content is a registered dataset version is linked to that version.
        """
        if isinstance(data, DatasetVersion):
            version: DatasetVersion | None = data
            table = self.datasets.load(data, format="arrow")
        else:
            table, _ = read_table(data, null_values=null_values, allow_mixed=True)
            version = self._registered(content_hash(canonicalize(table)))
        result = suite.run(table, **run_options)
        return result, self._store(result, suite, version)

    def latest(self, dataset_version_id: str) -> StoredQualityResult | None:
        """The newest stored result for a dataset version."""
        with self.datasets.store.read() as conn:
            row = (
                conn.execute(
                    select(quality_results)
                    .where(quality_results.c.dataset_version_id == dataset_version_id)
                    .order_by(quality_results.c.created_at.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return _stored(row) if row else None

    def _registered(self, sha: str) -> DatasetVersion | None:
        with self.datasets.store.read() as conn:
            row = conn.execute(
                select(dataset_versions.c.id)
                .where(dataset_versions.c.sha256 == sha)
                .order_by(dataset_versions.c.created_at)
            ).first()
        return self.datasets.get(row[0]) if row else None

    def _store(
        self, result: QualityResult, suite: Suite, version: DatasetVersion | None
    ) -> StoredQualityResult:
        body = result.to_dict()
        row_id = str(uuid7())
        row: dict[str, Any] = {
            "id": row_id,
            "dataset_version_id": version.id if version else None,
            "suite_sha256": hashlib.sha256(suite.to_yaml().encode()).hexdigest(),
            "passed": result.passed,
            "score": float(result.score),
            "result": canonical_json(body).decode(),
            "created_at": iso_utc(self.datasets.clock()),
            "created_by": self.datasets.audit.actor,
        }
        with self.datasets.store.write() as conn:
            conn.execute(insert(quality_results).values(**row))
            self.datasets.audit.append(
                conn,
                action="quality.check",
                subject=f"quality/{row['id']}",
                payload={
                    "dataset_version_id": row["dataset_version_id"],
                    "passed": row["passed"],
                    "score": row["score"],
                },
            )
            if self.lineage is not None and version is not None:
                self.lineage.add_node(
                    row["id"],
                    NodeKind.QUALITY_RESULT,
                    f"quality of {version.ref}",
                    conn=conn,
                    attributes={
                        "passed": result.passed,
                        "score": float(result.score),
                        "failed_checks": [c.name for c in result.failed],
                    },
                )
                self.lineage.add_edge(version.id, row_id, Relation.CHECKED, conn=conn)
        return _stored(row)


def _stored(row: Any) -> StoredQualityResult:
    return StoredQualityResult(
        id=row["id"],
        dataset_version_id=row["dataset_version_id"],
        suite_sha256=row["suite_sha256"],
        result=loads(row["result"]),
        created_at=row["created_at"],
    )
