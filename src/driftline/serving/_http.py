"""HTTP plumbing shared by the protocols: bounded body reading, JSON, errors, auth."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from driftline.exceptions import DriftlineError, ValidationError, http_status_for
from driftline.serving._batching import QueueFullError

__all__ = [
    "ErrorBody",
    "ForbiddenError",
    "PayloadTooLargeError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "add_route",
    "check_admin",
    "decode_json",
    "guarded",
    "is_big",
    "json_response",
    "parse_json",
    "read_body",
    "status_of",
]

_log = logging.getLogger("driftline.serving")
_JSON = "application/json"
# Bodies larger than this are parsed in a worker thread (orjson takes ~1 ms per 500 kB).
_BIG_BODY = 256 * 1024

ErrorBody = Callable[[DriftlineError | None, str, int], Any]
Handler = Callable[[Request], Awaitable[Response]]


class PayloadTooLargeError(ValidationError):
    """A request body over the server's size limit (HTTP 413)."""


class UnauthorizedError(ValidationError):
    """No usable bearer token on an admin request (HTTP 401)."""


class ForbiddenError(ValidationError):
    """A bearer token that is not the admin token, or admin endpoints are off (HTTP 403)."""


class UnsupportedMediaTypeError(ValidationError):
    """A content type the endpoint does not take (HTTP 415)."""


_SPECIAL = {
    PayloadTooLargeError: 413,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    UnsupportedMediaTypeError: 415,
}


def status_of(error: DriftlineError) -> int:
    """The HTTP status of an error (the shared table, plus 401/403/413 of this layer)."""
    for family, status in _SPECIAL.items():
        if isinstance(error, family):
            return status
    return http_status_for(error)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything larger than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(
            f"request body of {declared} bytes is over the limit of {limit} bytes"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes, what: str = "request body") -> Any:
    """``body`` parsed as JSON, or a ValidationError saying where it broke."""
    if not body:
        raise ValidationError(f"{what} is empty; send a JSON document")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"{what} is not valid JSON: {exc}") from None


async def decode_json(body: bytes, what: str = "request body") -> Any:
    """:func:`parse_json`, in a worker thread when the body is large."""
    if len(body) < _BIG_BODY:
        return parse_json(body, what)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, parse_json, body, what)


def is_big(body: bytes) -> bool:
    """Whether parsing this body should leave the event loop."""
    return len(body) >= _BIG_BODY


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response serialised with orjson (numpy values allowed)."""
    body = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


def guarded(handler: Handler, error_body: ErrorBody) -> Handler:
    """``handler`` with errors turned into responses shaped by ``error_body``.

    ``error_body(error, message, status)`` gets None for an unexpected exception, which is
    logged with its traceback and answered 500 without internals.
    """

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except DriftlineError as exc:
            status = status_of(exc)
            headers = None
            if isinstance(exc, QueueFullError):
                headers = {"Retry-After": str(exc.retry_after)}
            elif isinstance(exc, UnauthorizedError):
                headers = {"WWW-Authenticate": 'Bearer realm="driftline"'}
            return json_response(error_body(exc, str(exc), status), status, headers)
        except Exception:
            _log.exception("unexpected error serving %s %s", request.method, request.url.path)
            message = "internal server error; the server log has the details"
            return json_response(error_body(None, message, 500), 500)

    run.__name__ = getattr(handler, "__name__", "handler")
    run.__doc__ = handler.__doc__
    return run


def check_admin(request: Request, token: str | None) -> None:
    """Refuse (401/403) an admin request without the right ``Authorization: Bearer`` token."""
    if not token:
        raise ForbiddenError(
            "admin endpoints are disabled: set DRIFTLINE_ADMIN_TOKEN on the server to enable them"
        )
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise UnauthorizedError("admin endpoints need an 'Authorization: Bearer <token>' header")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ForbiddenError("the bearer token is not the admin token")


def add_route(
    app: FastAPI,
    path: str,
    method: str,
    handler: Handler,
    error_body: ErrorBody,
    *,
    tag: str,
    body: dict[str, Any] | None = None,
) -> None:
    """Mount ``handler`` (which reads its own body) with its path parameters documented."""
    extra: dict[str, Any] = {
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in re.findall(r"{(\w+)}", path)
        ]
    }
    if body is not None:
        extra["requestBody"] = body
    app.add_api_route(
        path,
        guarded(handler, error_body),
        methods=[method],
        openapi_extra=extra,
        tags=[tag],
        response_class=Response,
        summary=(handler.__doc__ or "").split("\n")[0].rstrip(".") or None,
    )
