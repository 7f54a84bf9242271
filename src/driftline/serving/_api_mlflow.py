"""MLflow's scoring protocol: ``POST /invocations``, ``/ping``, ``/version``.

The four JSON input formats (``dataframe_split``, ``dataframe_records``, ``instances``,
``inputs``) and ``text/csv`` give the same predictions; errors come back as MLflow writes
them, ``{"error_code": "BAD_REQUEST", "message": ...}``.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

import pandas as pd
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from driftline._version import __version__
from driftline.exceptions import DriftlineError, ValidationError
from driftline.serving._api_native import served_headers
from driftline.serving._http import (
    UnsupportedMediaTypeError,
    add_route,
    decode_json,
    is_big,
    json_response,
    read_body,
)
from driftline.serving._inputs import InputSchema, ModelInput
from driftline.serving._server import ModelServer

__all__ = ["mount_mlflow"]

_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_REQUIRED = f"The input must be a JSON dictionary with exactly one of the input fields {_FORMATS}"
_CODES = {404: "RESOURCE_DOES_NOT_EXIST", 503: "TEMPORARILY_UNAVAILABLE", 500: "INTERNAL_ERROR"}

Parse = Callable[[InputSchema], ModelInput]


class RequestFormatError(ValidationError):
    """The request is not in one of MLflow's formats (MLflow's ``BAD_REQUEST``)."""


def mlflow_error(error: DriftlineError | None, message: str, status: int) -> dict[str, Any]:
    """MLflow's error body."""
    if isinstance(error, RequestFormatError) or status in (413, 415):
        code = "BAD_REQUEST"
    elif status == 400:
        code = "INVALID_PARAMETER_VALUE"
    else:
        code = _CODES.get(status, "INTERNAL_ERROR")
    return {"error_code": code, "message": message}


_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "dataframe_split": {
                        "type": "object",
                        "properties": {
                            "columns": {"type": "array", "items": {"type": "string"}},
                            "data": {"type": "array", "items": {"type": "array"}},
                        },
                    },
                    "dataframe_records": {"type": "array", "items": {"type": "object"}},
                    "instances": {"type": "array"},
                    "inputs": {},
                    "params": {"type": "object"},
                },
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}


def mount_mlflow(app: FastAPI, server: ModelServer) -> None:
    """Add MLflow's scoring routes to ``app``; ``/invocations`` serves the first model."""
    limit = server.options.max_body_bytes
    default = next(iter(server.endpoints))

    async def invocations(request: Request) -> Response:
        """Score rows sent in one of MLflow's JSON formats or as CSV."""
        mime = _mime(request.headers.get("content-type"))
        body = await read_body(request, limit)
        parse = await _parser(mime, body)
        name = request.query_params.get("model", default)
        result = await server.predict(
            name, parse, key=request.headers.get("x-driftline-key"), offload=is_big(body)
        )
        predictions = result.prediction.predictions.tolist()
        return json_response({"predictions": predictions}, headers=served_headers(result))

    async def ping(request: Request) -> Response:
        """200 once the served models are loaded (MLflow's health check)."""
        status = 200 if server.ready else 503
        return Response(b"\n", status_code=status, media_type="application/json")

    async def version(request: Request) -> Response:
        """The server's version."""
        return Response(__version__.encode(), media_type="text/plain")

    add_route(app, "/invocations", "POST", invocations, mlflow_error, tag="mlflow", body=_BODY)
    add_route(app, "/ping", "GET", ping, mlflow_error, tag="mlflow")
    add_route(app, "/version", "GET", version, mlflow_error, tag="mlflow")


async def _parser(mime: str, body: bytes) -> Parse:
    if mime != "text/csv":
        return _json_parser(await decode_json(body))
    if not is_big(body):
        return _csv_parser(body)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, _csv_parser, body)


def _mime(content_type: str | None) -> str:
    if content_type is None:
        return "application/json"
    parts = [p.strip() for p in content_type.split(";")]
    mime = parts[0].lower()
    if mime not in ("application/json", "text/csv"):
        raise UnsupportedMediaTypeError(
            "This predictor only supports the following content types: "
            f"application/json, text/csv. Got {content_type!r}."
        )
    for param in parts[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() != "charset" or value.strip().strip('"').lower() != "utf-8":
            raise UnsupportedMediaTypeError(
                f"unsupported content type parameter {param!r}; use charset=utf-8"
            )
    return mime


def _json_parser(payload: Any) -> Parse:
    if isinstance(payload, list):
        raise RequestFormatError(f"{_REQUIRED}. Received a list.")
    if not isinstance(payload, dict):
        raise RequestFormatError(f"{_REQUIRED}. Received a {type(payload).__name__}.")
    found = [k for k in _FORMATS if k in payload]
    if len(found) != 1:
        raise RequestFormatError(f"{_REQUIRED}. Received dictionary with fields {list(payload)}.")
    kind = found[0]
    data = payload[kind]
    if kind == "dataframe_split":
        return _split(data)
    if kind == "dataframe_records":
        return lambda schema: schema.from_records(data, what=kind)
    return _tensor_like(data, kind)


def _split(data: Any) -> Parse:
    if not isinstance(data, dict) or "data" not in data:
        raise RequestFormatError("dataframe_split must be an object with 'columns' and 'data'")
    rows, columns = data["data"], data.get("columns")
    return lambda schema: schema.from_rows(rows, columns, what="dataframe_split")


def _tensor_like(data: Any, kind: str) -> Parse:
    """``instances``/``inputs``: records, rows, or a column -> values object."""
    if isinstance(data, dict):
        return lambda schema: schema.from_columns(data, what=kind)
    if not isinstance(data, list) or not data:
        raise RequestFormatError(f"{kind} must be a non-empty list of rows or records")
    if all(isinstance(row, dict) for row in data):
        return lambda schema: schema.from_records(data, what=kind)
    if all(isinstance(row, list) for row in data):
        return lambda schema: schema.from_rows(data, what=kind)
    return lambda schema: _scalars(schema, data, kind)


def _scalars(schema: InputSchema, data: list[Any], kind: str) -> ModelInput:
    columns = schema.columns
    if columns is not None and len(columns) == 1:
        return schema.from_rows([[value] for value in data], what=kind)
    raise RequestFormatError(f"{kind} must be a list of rows (lists) or records (objects)")


def _csv_parser(body: bytes) -> Parse:
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise RequestFormatError(
            f"Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV "
            f"with a header row. Error: {exc}"
        ) from None
    return lambda schema: schema.from_frame(frame, what="csv")
