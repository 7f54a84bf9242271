"""Operations: health, ``/metrics``, and the admin endpoints behind a bearer token."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from driftline.exceptions import ConflictError, ValidationError
from driftline.serving._api_native import native_error
from driftline.serving._http import add_route, check_admin, json_response, parse_json, read_body
from driftline.serving._server import ModelServer

__all__ = ["mount_ops"]


def mount_ops(app: FastAPI, server: ModelServer, *, admin_token: str | None) -> None:
    """Add health, metrics and admin routes to ``app``."""
    limit = server.options.max_body_bytes

    async def live(request: Request) -> Response:
        """200 while the process serves HTTP; never looks at models."""
        return json_response({"status": "live"})

    async def ready(request: Request) -> Response:
        """200 when every served model is loaded and warmed, else 503 with each model's state."""
        models = {name: e.ready for name, e in server.endpoints.items()}
        return json_response(
            {"ready": server.ready, "models": models}, 200 if server.ready else 503
        )

    async def metrics(request: Request) -> Response:
        """Prometheus metrics (merged over worker processes)."""
        body, content_type = server.metrics.render()
        return Response(body, media_type=content_type)

    async def reload(request: Request) -> Response:
        """Re-resolve aliases now and hot-swap any that moved (admin)."""
        check_admin(request, admin_token)
        body = await read_body(request, limit)
        name = _optional_model(parse_json(body)) if body.strip() else None
        if name is not None:
            server.endpoint(name)
        results = await server.swapper.refresh(name)
        return json_response({"results": results})

    async def routing(request: Request) -> Response:
        """Set a model's routing policy: default, single, ab, shadow or canary (admin)."""
        check_admin(request, admin_token)
        spec = parse_json(await read_body(request, limit))
        status = await server.set_routing(request.path_params["name"], spec)
        return json_response(status)

    async def rollback(request: Request) -> Response:
        """Roll a running canary back to its stable version now (admin)."""
        check_admin(request, admin_token)
        endpoint = server.endpoint(request.path_params["name"])
        body = await read_body(request, limit)
        reason = _reason(parse_json(body)) if body.strip() else "operator request"
        if endpoint.rollout is None:
            raise ConflictError(f"model {endpoint.name} has no canary to roll back")
        endpoint.rollout.rollback(reason, at=server.clock())
        return json_response(endpoint.status())

    add_route(app, "/health/live", "GET", live, native_error, tag="health")
    add_route(app, "/health/ready", "GET", ready, native_error, tag="health")
    add_route(app, "/metrics", "GET", metrics, native_error, tag="health")
    add_route(app, "/v1/admin/reload", "POST", reload, native_error, tag="admin")
    add_route(app, "/v1/admin/models/{name}/routing", "PUT", routing, native_error, tag="admin")
    add_route(
        app, "/v1/admin/models/{name}/canary/rollback", "POST", rollback, native_error, tag="admin"
    )


def _optional_model(payload: Any) -> str | None:
    if not isinstance(payload, dict) or set(payload) - {"model"}:
        raise ValidationError("the reload body must be empty or {'model': NAME}")
    name = payload.get("model")
    if name is not None and not isinstance(name, str):
        raise ValidationError("'model' must be a model name")
    return name


def _reason(payload: Any) -> str:
    if not isinstance(payload, dict) or not isinstance(payload.get("reason", ""), str):
        raise ValidationError("the rollback body must be empty or {'reason': TEXT}")
    return str(payload.get("reason") or "operator request")
