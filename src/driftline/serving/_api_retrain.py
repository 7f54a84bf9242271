"""``POST /v1/retrain``: an orchestrator (Airflow, Prefect, a person) asks for a retrain.

The server does not retrain. It records a pending request in the metadata DB (with an audit
entry) and answers 202; the retraining controller of that model (``driftline run`` or
``driftline retrain check``) takes it as a manual trigger in its next cycle and turns it into
a decision, "not now, and why" included. ``GET /v1/retrain/{request_id}`` says where the
request stands. Both need the admin token.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from sqlalchemy import insert, select
from starlette.requests import Request
from starlette.responses import Response

from driftline.exceptions import ConflictError, NotFoundError, ValidationError
from driftline.ids import uuid7
from driftline.registry._uri import check_name
from driftline.serving._api_native import native_error
from driftline.serving._http import add_route, check_admin, json_response, parse_json, read_body
from driftline.store import iso_utc
from driftline.store._retraining_tables import retrain_decisions, retrain_requests

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["mount_retrain", "request_status", "submit_request"]

_KEYS = frozenset({"model", "reason", "requested_by"})
_MAX_REASON = 2000
_MAX_BY = 200
_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["model", "reason"],
                "properties": {
                    "model": {"type": "string", "description": "A registered model's name."},
                    "reason": {"type": "string", "description": "Why it should retrain."},
                    "requested_by": {
                        "type": "string",
                        "description": "Who asks (e.g. airflow:dag_id); recorded in the audit log.",
                    },
                },
            },
            "example": {"model": "fraud", "reason": "new upstream feed since Monday"},
        }
    },
}


def mount_retrain(
    app: FastAPI, workspace: Workspace, *, admin_token: str | None, max_body_bytes: int
) -> None:
    """Add ``POST /v1/retrain`` and ``GET /v1/retrain/{request_id}`` to ``app``."""

    async def request_retrain(request: Request) -> Response:
        """Ask for a retrain of a model, with a reason; its controller decides (admin)."""
        check_admin(request, admin_token)
        model, reason, by = _checked(parse_json(await read_body(request, max_body_bytes)))
        loop = asyncio.get_running_loop()
        status = await loop.run_in_executor(None, submit_request, workspace, model, reason, by)
        location = {"location": f"/v1/retrain/{status['request_id']}"}
        return json_response(status, 202, headers=location)

    async def retrain_status(request: Request) -> Response:
        """Where a retrain request stands: pending, or consumed by a decision (admin)."""
        check_admin(request, admin_token)
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(
            None, request_status, workspace, request.path_params["request_id"]
        )
        return json_response(found)

    add_route(app, "/v1/retrain", "POST", request_retrain, native_error, tag="admin", body=_BODY)
    add_route(app, "/v1/retrain/{request_id}", "GET", retrain_status, native_error, tag="admin")


def submit_request(
    workspace: Workspace, model: str, reason: str, requested_by: str = "api"
) -> dict[str, Any]:
    """Record a pending retrain request for ``model`` (and its audit entry); its status."""
    versions = workspace.registry.list(model)
    if not versions:
        raise NotFoundError(
            f"model {model!r} is not registered; `driftline models list` shows the registered "
            "models"
        )
    if not any("champion" in v.aliases for v in versions):
        raise ConflictError(
            f"model {model!r} has no champion: a retrain starts from the champion; promote a "
            "version first (`driftline models alias NAME VERSION champion --reason ...`)"
        )
    row = {
        "id": str(uuid7()),
        "model_name": model,
        "reason": reason,
        "requested_by": requested_by,
        "requested_at": iso_utc(workspace.store.clock()),
    }
    with workspace.store.write() as conn:
        conn.execute(insert(retrain_requests).values(**row))
        workspace.audit.append(
            conn,
            action="retrain.request",
            subject=f"retrain-request/{row['id']}",
            payload={"model": model, "reason": reason},
            actor=requested_by,
        )
    return _status(row, None)


def request_status(workspace: Workspace, request_id: str) -> dict[str, Any]:
    """A retrain request and, once consumed, the decision it became."""
    missing = NotFoundError(
        f"retrain request {request_id!r} not found; POST /v1/retrain answers with the id"
    )
    try:
        uuid.UUID(request_id)
    except ValueError:
        raise missing from None
    with workspace.store.read() as conn:
        row = (
            conn.execute(select(retrain_requests).where(retrain_requests.c.id == request_id))
            .mappings()
            .first()
        )
        if row is None:
            raise missing
        decision = None
        if row["decision_id"] is not None:
            decision = (
                conn.execute(
                    select(retrain_decisions).where(retrain_decisions.c.id == row["decision_id"])
                )
                .mappings()
                .first()
            )
    return _status(row, decision)


def _status(row: Any, decision: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "request_id": row["id"],
        "model": row["model_name"],
        "reason": row["reason"],
        "requested_by": row["requested_by"],
        "requested_at": row["requested_at"],
        "status": "pending" if row.get("consumed_at") is None else "consumed",
        "consumed_at": row.get("consumed_at"),
        "decision_id": row.get("decision_id"),
        # None while pending; then "refused", "running", or how the retrain ended.
        "outcome": None,
        "decision": None,
    }
    if decision is not None:
        allowed = bool(decision["allowed"])
        running = allowed and decision["status"] == "started"
        out["outcome"] = "refused" if not allowed else "running" if running else decision["outcome"]
        out["decision"] = {
            "id": decision["id"],
            "allowed": allowed,
            "status": decision["status"],
            "outcome": decision["outcome"],
            "reason": decision["reason"],
            "challenger_version": decision["challenger_version"],
        }
    return out


def _checked(payload: Any) -> tuple[str, str, str]:
    if not isinstance(payload, dict):
        raise ValidationError("the body must be a JSON object: {'model': NAME, 'reason': TEXT}")
    unknown = sorted(str(k) for k in set(payload) - _KEYS)
    if unknown:
        raise ValidationError(
            f"unknown field(s) {', '.join(unknown)}; send 'model', 'reason' (and 'requested_by')"
        )
    model = payload.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ValidationError("'model' is required: the name of a registered model")
    check_name(model.strip(), "'model'")
    reason = payload.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("'reason' is required and must not be empty: say why to retrain")
    if len(reason) > _MAX_REASON or "\x00" in reason:
        raise ValidationError(f"'reason' must be text of at most {_MAX_REASON} characters")
    by = payload.get("requested_by", "api")
    if not isinstance(by, str) or not by.strip() or len(by) > _MAX_BY or "\x00" in by:
        raise ValidationError(f"'requested_by' must be a non-empty string of at most {_MAX_BY}")
    return model.strip(), reason.strip(), by.strip()
