"""Retrain requests as a controller sees them: pending, then consumed by a decision.

``POST /v1/retrain`` records a request (see :mod:`driftline.serving._api_retrain`); the
controller of that model reads the pending ones at the start of a cycle, fires a manual
trigger with their reasons, and marks them consumed with the decision the arbiter made,
allowed or refused, so whoever asked can see what became of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from driftline.store import iso_utc
from driftline.store._retraining_tables import retrain_decisions, retrain_requests

if TYPE_CHECKING:
    from driftline.retraining.arbiter import Decision
    from driftline.workspace import Workspace

__all__ = ["RetrainRequest", "consume_requests", "has_pending_requests", "pending_requests"]


@dataclass(frozen=True)
class RetrainRequest:
    """One request for a retrain, not yet turned into a decision."""

    id: str
    model: str
    reason: str
    requested_by: str
    requested_at: str


def pending_requests(workspace: Workspace, model: str) -> list[RetrainRequest]:
    """``model``'s pending requests, oldest first."""
    with workspace.store.read() as conn:
        rows = (
            conn.execute(
                select(retrain_requests)
                .where(
                    retrain_requests.c.model_name == model,
                    retrain_requests.c.consumed_at.is_(None),
                )
                .order_by(retrain_requests.c.requested_at, retrain_requests.c.id)
            )
            .mappings()
            .all()
        )
    return [
        RetrainRequest(r["id"], r["model_name"], r["reason"], r["requested_by"], r["requested_at"])
        for r in rows
    ]


def has_pending_requests(workspace: Workspace, model: str) -> bool:
    """Whether ``model`` has a pending request (one indexed lookup)."""
    with workspace.store.read() as conn:
        found = conn.execute(
            select(retrain_requests.c.id)
            .where(
                retrain_requests.c.model_name == model,
                retrain_requests.c.consumed_at.is_(None),
            )
            .limit(1)
        ).first()
    return found is not None


def consume_requests(
    workspace: Workspace, requests: Sequence[RetrainRequest], decision: Decision
) -> list[str]:
    """Mark ``requests`` consumed by ``decision``; returns the ids marked.

    A request another controller already consumed keeps its decision, unless that one was a
    refusal and ``decision`` is allowed (two controllers raced for it and this one won).
    """
    if not requests:
        return []
    ids = [r.id for r in requests]
    with workspace.store.write() as conn:
        workspace.store.lock(conn, f"retrain-requests/{decision.model}")
        rows = conn.execute(
            select(retrain_requests.c.id, retrain_requests.c.decision_id).where(
                retrain_requests.c.id.in_(ids)
            )
        ).all()
        earlier = [d for _, d in rows if d is not None]
        refused = set(
            conn.execute(
                select(retrain_decisions.c.id).where(
                    retrain_decisions.c.id.in_(earlier), retrain_decisions.c.allowed.is_(False)
                )
            ).scalars()
        )
        marked = [i for i, d in rows if d is None or (decision.allowed and d in refused)]
        if not marked:
            return []
        conn.execute(
            update(retrain_requests)
            .where(retrain_requests.c.id.in_(marked))
            .values(consumed_at=iso_utc(workspace.store.clock()), decision_id=decision.id)
        )
        for request_id in marked:
            workspace.audit.append(
                conn,
                action="retrain.request.consume",
                subject=f"retrain-request/{request_id}",
                payload={
                    "model": decision.model,
                    "decision_id": decision.id,
                    "allowed": decision.allowed,
                },
            )
    return sorted(marked)
