"""driftline's own API: ``/v1/models/{name}/predict``, ``/v1/models``, ``/v1/feedback``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from driftline.exceptions import DriftlineError, ValidationError
from driftline.serving._http import (
    add_route,
    decode_json,
    is_big,
    json_response,
    parse_json,
    read_body,
)
from driftline.serving._inputs import InputSchema, ModelInput
from driftline.serving._server import ModelServer, Served

__all__ = ["mount_native", "served_headers"]

_PREDICT_KEYS = frozenset({"records", "columns", "key"})
_FEEDBACK_KEYS = frozenset({"prediction_id", "label", "value", "model"})
_SCALAR = (str, int, float, bool)
# numpy types orjson serialises itself (OPT_SERIALIZE_NUMPY) exactly as their .tolist()
# would be (float32 is not: orjson writes its shortest form).
_NATIVE_DTYPES = frozenset(
    np.dtype(t)
    for t in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float64",
    )
)

_PREDICT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "records": {"type": "array", "items": {"type": "object"}},
                    "columns": {
                        "type": "object",
                        "additionalProperties": {"type": "array"},
                    },
                    "key": {"type": "string", "description": "Sticky routing key."},
                },
            },
            "example": {"records": [{"x1": 0.5, "x2": 3}]},
        }
    },
}
_FEEDBACK_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "feedback": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["prediction_id", "label"],
                            "properties": {
                                "prediction_id": {"type": "string", "format": "uuid"},
                                "label": {},
                                "value": {"type": "number"},
                                "model": {"type": "string"},
                            },
                        },
                    }
                },
            }
        }
    },
}


def native_error(error: DriftlineError | None, message: str, status: int) -> dict[str, Any]:
    """driftline's error body: the message and the error family."""
    return {"error": message, "type": type(error).__name__ if error else "InternalError"}


def served_headers(result: Served) -> dict[str, str]:
    """The headers that say which route and version answered."""
    return {"x-driftline-route": result.route, "x-driftline-model-version": result.version.label}


def mount_native(app: FastAPI, server: ModelServer) -> None:
    """Add the native routes to ``app``."""
    limit = server.options.max_body_bytes

    async def predict(request: Request) -> Response:
        """Predict rows given as ``records`` or ``columns``; one prediction id per row."""
        name = request.path_params["name"]
        body = await read_body(request, limit)
        parse, key = _predict_parser(await decode_json(body))
        key = request.headers.get("x-driftline-key", key)
        result = await server.predict(name, parse, key=key, offload=is_big(body))
        return json_response(predict_body(result), headers=served_headers(result))

    async def list_models(request: Request) -> Response:
        """Every served model with its versions, references, routing and load errors."""
        return json_response({"models": [e.status() for e in server.endpoints.values()]})

    async def model_status(request: Request) -> Response:
        """One served model's versions, references, routing and load errors."""
        return json_response(server.endpoint(request.path_params["name"]).status())

    async def feedback(request: Request) -> Response:
        """Labels (and optional business values) for earlier predictions, by prediction id."""
        rows = feedback_rows(parse_json(await read_body(request, limit)), server.clock())
        accepted = server.feedback(rows)
        return json_response({"received": len(rows), "accepted": accepted})

    tag = "driftline"
    add_route(
        app, "/v1/models/{name}/predict", "POST", predict, native_error, tag=tag, body=_PREDICT_BODY
    )
    add_route(app, "/v1/models", "GET", list_models, native_error, tag=tag)
    add_route(app, "/v1/models/{name}", "GET", model_status, native_error, tag=tag)
    add_route(app, "/v1/feedback", "POST", feedback, native_error, tag=tag, body=_FEEDBACK_BODY)


def _predict_parser(payload: Any) -> tuple[Callable[[InputSchema], ModelInput], str | None]:
    if isinstance(payload, list):
        return (lambda schema: schema.from_records(payload)), None
    if not isinstance(payload, dict):
        raise ValidationError("the body must be a JSON object with 'records' or 'columns'")
    unknown = sorted(set(payload) - _PREDICT_KEYS)
    if unknown:
        raise ValidationError(
            f"unknown field(s) {', '.join(unknown)}; send 'records' or 'columns' (and 'key')"
        )
    key = payload.get("key")
    if key is not None and not isinstance(key, str):
        raise ValidationError("'key' must be a string (the sticky routing key)")
    if ("records" in payload) == ("columns" in payload):
        raise ValidationError("send exactly one of 'records' (a list of objects) or 'columns'")
    if "records" in payload:
        records = payload["records"]
        return (lambda schema: schema.from_records(records)), key
    columns = payload["columns"]
    return (lambda schema: schema.from_columns(columns)), key


def predict_body(result: Served) -> dict[str, Any]:
    """The native response for an answered request."""
    body: dict[str, Any] = {
        "model": result.model,
        "model_version": result.version.number,
        "route": result.route,
        "predictions": _jsonable(result.prediction.predictions),
        "prediction_ids": result.prediction_ids,
    }
    if result.prediction.probabilities is not None:
        body["probabilities"] = _jsonable(result.prediction.probabilities)
        body["classes"] = result.version.classes
    return body


def _jsonable(values: np.ndarray) -> Any:
    """The array itself when orjson writes it natively (faster than a list), else a list."""
    if values.dtype in _NATIVE_DTYPES and values.flags.c_contiguous:
        return values
    return values.tolist()


def feedback_rows(payload: Any, now: Any) -> list[dict[str, Any]]:
    """Checked feedback rows from ``{"feedback": [...]}`` or one feedback object."""
    if isinstance(payload, dict) and "feedback" in payload:
        if set(payload) != {"feedback"}:
            raise ValidationError("send only 'feedback': a list of {prediction_id, label, value}")
        items = payload["feedback"]
    elif isinstance(payload, dict):
        items = [payload]
    else:
        raise ValidationError(
            "the body must be {'feedback': [{'prediction_id': ..., 'label': ...}, ...]}"
        )
    if not isinstance(items, list) or not items:
        raise ValidationError("'feedback' must be a non-empty list of objects")
    return [_feedback_row(i, item, now) for i, item in enumerate(items)]


def _feedback_row(index: int, item: Any, now: Any) -> dict[str, Any]:
    where = f"feedback[{index}]"
    if not isinstance(item, dict):
        raise ValidationError(f"{where} must be an object with prediction_id and label")
    unknown = sorted(set(item) - _FEEDBACK_KEYS)
    if unknown:
        raise ValidationError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    pid = item.get("prediction_id")
    try:
        parsed = uuid.UUID(pid) if isinstance(pid, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(f"{where}: prediction_id must be the UUID a prediction returned")
    if "label" not in item or not isinstance(item["label"], _SCALAR):
        raise ValidationError(f"{where}: label must be a string, number or boolean")
    value = item.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValidationError(f"{where}: value must be a number (the business value)")
    if isinstance(value, int) and abs(value) > 2**53:
        raise ValidationError(f"{where}: value is too large to store exactly")
    model = item.get("model")
    if model is not None and not isinstance(model, str):
        raise ValidationError(f"{where}: model must be a string")
    return {
        "prediction_id": str(parsed),
        "time": now,
        "label": item["label"],
        "value": None if value is None else float(value),
        "extra": None if model is None else {"model": model},
    }
