"""Deployments: which server served which model version, from when to when.

Each start writes the ``deployments`` row, its audit entry, a lineage node of kind
``deployment`` and the edge ``model_version -> deployment`` (relation ``deployed``) in one
transaction, so a served prediction can be walked back to the version and its training data.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from driftline._canonical import canonical_json
from driftline.ids import uuid7
from driftline.lineage import NodeKind, Relation
from driftline.store import iso_utc
from driftline.store._serving_tables import deployments

if TYPE_CHECKING:
    from driftline.lineage import Lineage
    from driftline.registry import ModelVersion
    from driftline.store import AuditLog, Clock, MetadataStore

__all__ = ["DeploymentRecorder"]


class DeploymentRecorder:
    """Records deployments of model versions by one server process.

    >>> import tempfile
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from driftline import Workspace
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"x": rng.normal(size=50)})
    >>> frame["y"] = 2 * frame["x"]
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> version = ws.registry.register("demo", LinearRegression().fit(frame[["x"]], frame["y"]),
    ...                                frame=frame, target="y")
    >>> recorder = DeploymentRecorder(ws.store, ws.audit, ws.lineage, clock=ws.store.clock)
    >>> deployment = recorder.start(version, route="primary")
    >>> recorder.end(deployment, reason="doctest")
    >>> [(d["version"], d["ended_at"] is not None) for d in recorder.list("demo")]
    [(1, True)]
    >>> deployment in ws.lineage.downstream(version.id).ids
    True
    >>> ws.close()
    """

    def __init__(
        self, store: MetadataStore, audit: AuditLog, lineage: Lineage, *, clock: Clock
    ) -> None:
        self.store = store
        self.audit = audit
        self.lineage = lineage
        self.clock = clock
        self.server = f"{socket.gethostname()}:{os.getpid()}"

    def start(
        self,
        version: ModelVersion,
        *,
        route: str,
        percent: float | None = None,
        config: dict[str, Any] | None = None,
    ) -> str:
        """Record that this server now serves ``version``; returns the deployment id."""
        deployment_id = str(uuid7())
        now = iso_utc(self.clock())
        settings = {"server": self.server, **(config or {})}
        with self.store.write() as conn:
            conn.execute(
                deployments.insert().values(
                    id=deployment_id,
                    model_name=version.name,
                    version=version.version,
                    model_version_id=version.id,
                    route=route,
                    percent=percent,
                    started_at=now,
                    ended_at=None,
                    config=canonical_json(settings).decode(),
                )
            )
            self.audit.append(
                conn,
                action="deployment.start",
                subject=f"deployment/{deployment_id}",
                payload={"model": version.name, "version": version.version, "route": route},
            )
            self.lineage.add_node(
                deployment_id,
                NodeKind.DEPLOYMENT,
                version.name,
                version=str(version.version),
                attributes={"route": route, "server": self.server, "uri": version.uri},
                conn=conn,
            )
            self.lineage.add_edge(version.id, deployment_id, Relation.DEPLOYED, conn=conn)
        return deployment_id

    def end(self, deployment_id: str, *, reason: str) -> None:
        """Record that the deployment stopped serving (idempotent)."""
        now = iso_utc(self.clock())
        with self.store.write() as conn:
            done = conn.execute(
                update(deployments)
                .where(deployments.c.id == deployment_id, deployments.c.ended_at.is_(None))
                .values(ended_at=now)
            )
            if done.rowcount:
                self.audit.append(
                    conn,
                    action="deployment.end",
                    subject=f"deployment/{deployment_id}",
                    payload={"reason": reason},
                )

    def list(self, model: str | None = None) -> list[dict[str, Any]]:
        """Deployment rows, oldest first."""
        query = select(deployments).order_by(deployments.c.started_at, deployments.c.id)
        if model is not None:
            query = query.where(deployments.c.model_name == model)
        with self.store.read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]
