"""The Open Inference Protocol v2 (KServe, Triton, MLServer) over HTTP/JSON.

The body is read raw whatever the Content-Type: tritonclient's sync client sends none and
its async client sends ``application/octet-stream``. A model takes either one tensor per
input column (shape ``[n]`` or ``[n, 1]``) or a single ``[n, columns]`` tensor. Inputs may
also use the binary tensor extension (``Inference-Header-Content-Length``); outputs are
always JSON. Errors are ``{"error": "..."}``: 400 bad input, 404 unknown model, 503 not
ready.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from driftline._version import __version__
from driftline.exceptions import DriftlineError, NotFoundError, UnavailableError, ValidationError
from driftline.serving._api_native import served_headers
from driftline.serving._endpoint import ModelEndpoint
from driftline.serving._http import add_route, is_big, json_response, parse_json, read_body
from driftline.serving._inputs import InputSchema, ModelInput
from driftline.serving._runtime import ServedVersion
from driftline.serving._server import ModelServer, Served

__all__ = ["mount_oip"]

_DTYPES: dict[str, Any] = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": object,
}
_SPEC_TYPES = {"double": "FP64", "long": "INT64", "boolean": "BOOL"}
_OUTPUTS = ("predict", "predict_proba")

Parse = Callable[[InputSchema], ModelInput]

_INFER_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["inputs"],
                "properties": {
                    "id": {"type": "string"},
                    "inputs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "shape", "datatype", "data"],
                            "properties": {
                                "name": {"type": "string"},
                                "shape": {"type": "array", "items": {"type": "integer"}},
                                "datatype": {"type": "string", "enum": list(_DTYPES)},
                                "data": {"type": "array"},
                            },
                        },
                    },
                    "outputs": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                    },
                },
            }
        }
    },
}


def oip_error(error: DriftlineError | None, message: str, status: int) -> dict[str, Any]:
    """The protocol's error body."""
    return {"error": message}


def mount_oip(app: FastAPI, server: ModelServer) -> None:
    """Add the ``/v2`` routes to ``app``."""
    limit = server.options.max_body_bytes

    async def server_metadata(request: Request) -> Response:
        """Server name, version and protocol extensions."""
        return json_response({"name": "driftline", "version": __version__, "extensions": []})

    async def live(request: Request) -> Response:
        """200 while the process serves HTTP."""
        return json_response({"live": True})

    async def ready(request: Request) -> Response:
        """200 when every served model is loaded and warm, else 503."""
        return json_response({"ready": server.ready}, 200 if server.ready else 503)

    async def model_metadata(request: Request) -> Response:
        """A model's versions, platform and input/output tensors."""
        endpoint, served = _resolve(server, request)
        return json_response(_metadata(endpoint, served))

    async def model_ready(request: Request) -> Response:
        """200 when the model (version) is loaded and warm, else 503."""
        endpoint, served = _resolve(server, request, allow_loading=True)
        ok = served.warm if served is not None else endpoint.ready
        body = {"name": endpoint.name, "ready": ok}
        return json_response(body, 200 if ok else 503)

    async def infer(request: Request) -> Response:
        """Run the model on JSON (or binary-extension) tensors."""
        body = await read_body(request, limit)
        payload, binary = _split_binary(body, request.headers)
        parse, wanted, request_id = _infer_parser(payload, binary)
        version = _version_param(request)
        result = await server.predict(
            request.path_params["model"],
            parse,
            key=request.headers.get("x-driftline-key"),
            version=version,
            offload=is_big(body),
        )
        return json_response(
            _infer_body(result, wanted, request_id), headers=served_headers(result)
        )

    tag = "open inference protocol v2"
    add_route(app, "/v2", "GET", server_metadata, oip_error, tag=tag)
    add_route(app, "/v2/health/live", "GET", live, oip_error, tag=tag)
    add_route(app, "/v2/health/ready", "GET", ready, oip_error, tag=tag)
    for base in ("/v2/models/{model}", "/v2/models/{model}/versions/{version}"):
        add_route(app, base, "GET", model_metadata, oip_error, tag=tag)
        add_route(app, f"{base}/ready", "GET", model_ready, oip_error, tag=tag)
        add_route(app, f"{base}/infer", "POST", infer, oip_error, tag=tag, body=_INFER_BODY)


def _version_param(request: Request) -> int | None:
    text = request.path_params.get("version")
    if text is None:
        return None
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise NotFoundError(f"model version {text!r} is not a version number")
    return int(text)


def _resolve(
    server: ModelServer, request: Request, *, allow_loading: bool = False
) -> tuple[ModelEndpoint, ServedVersion | None]:
    endpoint = server.endpoint(request.path_params["model"])
    version = _version_param(request)
    if version is None:
        version = endpoint.primary
        if version is None or version not in endpoint.versions:
            if allow_loading:
                return endpoint, None
            raise UnavailableError(f"model {endpoint.name} is not loaded yet; retry shortly")
    served = endpoint.versions.get(version)
    if served is None:
        raise NotFoundError(f"model {endpoint.name} version {version} is not served here")
    return endpoint, served


def _metadata(endpoint: ModelEndpoint, served: ServedVersion | None) -> dict[str, Any]:
    if served is None:
        raise UnavailableError(f"model {endpoint.name} is not loaded yet; retry shortly")
    signature = served.record.signature
    inputs = [
        {"name": c.name, "datatype": _SPEC_TYPES.get(c.type, "BYTES"), "shape": [-1]}
        for c in (signature.inputs if signature else ())
    ]
    outputs = [{"name": "predict", "datatype": _label_type(served.classes), "shape": [-1]}]
    if served.has_proba:
        width = len(served.classes or ())
        outputs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, width]})
    return {
        "name": endpoint.name,
        "versions": [str(v) for v in sorted(endpoint.versions)],
        "platform": f"driftline_{served.model.flavor}",
        "inputs": inputs,
        "outputs": outputs,
    }


def _label_type(values: list[Any] | None) -> str:
    if not values:
        return "FP64"
    first = values[0]
    if isinstance(first, bool):
        return "BOOL"
    if isinstance(first, int):
        return "INT64"
    if isinstance(first, float):
        return "FP64"
    return "BYTES"


# -- requests -------------------------------------------------------------------------------
def _split_binary(body: bytes, headers: Any) -> tuple[Any, bytes | None]:
    header = headers.get("inference-header-content-length")
    if header is None:
        return parse_json(body), None
    if not header.isdigit() or int(header) > len(body):
        raise ValidationError("Inference-Header-Content-Length is not a length within the body")
    size = int(header)
    return parse_json(body[:size], "inference header"), body[size:]


def _infer_parser(payload: Any, binary: bytes | None) -> tuple[Parse, list[str] | None, Any]:
    if not isinstance(payload, dict):
        raise ValidationError("the inference request must be a JSON object with 'inputs'")
    tensors = payload.get("inputs")
    if not isinstance(tensors, list) or not tensors:
        raise ValidationError("'inputs' must be a non-empty list of tensors")
    reader = _BinaryReader(binary)
    decoded = [_tensor(i, t, reader) for i, t in enumerate(tensors)]
    reader.finish()
    wanted = _wanted_outputs(payload.get("outputs"))
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise ValidationError("'id' must be a string")

    def parse(schema: InputSchema) -> ModelInput:
        return _to_input(schema, decoded)

    return parse, wanted, request_id


def _tensor(index: int, tensor: Any, reader: _BinaryReader) -> tuple[str, np.ndarray]:
    where = f"inputs[{index}]"
    if not isinstance(tensor, dict):
        raise ValidationError(f"{where} must be an object with name, shape, datatype and data")
    name, shape, dtype = tensor.get("name"), tensor.get("shape"), tensor.get("datatype")
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{where}: 'name' must be a non-empty string")
    where = f"input {name!r}"
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise ValidationError(f"{where}: datatype {dtype!r} is not one of {', '.join(_DTYPES)}")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**31 for d in shape)
    ):
        raise ValidationError(f"{where}: 'shape' must be a list of non-negative integers")
    params = tensor.get("parameters") or {}
    size = params.get("binary_data_size") if isinstance(params, dict) else None
    if size is not None:
        flat = reader.take(where, size, dtype)
    elif "data" in tensor:
        flat = _from_json(where, tensor["data"], dtype)
    else:
        raise ValidationError(f"{where}: 'data' is missing")
    expected = math.prod(shape)
    if flat.size != expected:
        raise ValidationError(
            f"{where}: shape {shape} needs {expected} values, 'data' has {flat.size}"
        )
    return name, flat.reshape(shape)


def _from_json(where: str, data: Any, dtype: str) -> np.ndarray:
    if not isinstance(data, list):
        data = [data]
    try:
        if dtype == "BYTES":
            flat = np.asarray(data, dtype=object).reshape(-1)
            if not all(isinstance(v, str) for v in flat):
                raise ValidationError(f"{where}: BYTES data must be strings")
            return flat
        values = np.asarray(data)
        if values.dtype.kind not in "biuf":
            raise ValidationError(f"{where}: {dtype} data must be numbers, got {values.dtype}")
        if dtype != "BOOL" and values.dtype.kind == "b":
            raise ValidationError(f"{where}: {dtype} data must be numbers, got booleans")
        return values.astype(_DTYPES[dtype]).reshape(-1)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationError(
            f"{where}: 'data' is not a rectangular list of {dtype}: {exc}"
        ) from None


class _BinaryReader:
    """Reads tensors of the binary extension off the bytes after the JSON header."""

    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self.offset = 0

    def take(self, where: str, size: Any, dtype: str) -> np.ndarray:
        if self.data is None:
            raise ValidationError(
                f"{where}: binary_data_size given but the body has no binary part"
            )
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValidationError(f"{where}: binary_data_size must be a non-negative integer")
        chunk = self.data[self.offset : self.offset + size]
        if len(chunk) != size:
            raise ValidationError(f"{where}: binary data is shorter than binary_data_size")
        self.offset += size
        if dtype == "BYTES":
            return _bytes_elements(where, chunk)
        item = np.dtype(_DTYPES[dtype]).newbyteorder("<")
        if size % item.itemsize:
            raise ValidationError(f"{where}: {size} bytes is not a whole number of {dtype} values")
        return np.frombuffer(chunk, dtype=item).astype(_DTYPES[dtype])

    def finish(self) -> None:
        if self.data is not None and self.offset != len(self.data):
            raise ValidationError("the binary part of the body is longer than its tensors")


def _bytes_elements(where: str, chunk: bytes) -> np.ndarray:
    out, offset = [], 0
    while offset < len(chunk):
        if offset + 4 > len(chunk):
            raise ValidationError(f"{where}: truncated BYTES element length")
        (length,) = struct.unpack_from("<I", chunk, offset)
        offset += 4
        if offset + length > len(chunk):
            raise ValidationError(f"{where}: truncated BYTES element")
        try:
            out.append(chunk[offset : offset + length].decode())
        except UnicodeDecodeError:
            raise ValidationError(f"{where}: BYTES elements must be UTF-8 text") from None
        offset += length
    return np.asarray(out, dtype=object)


def _wanted_outputs(outputs: Any) -> list[str] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, list):
        raise ValidationError("'outputs' must be a list of {name} objects")
    names = []
    for i, item in enumerate(outputs):
        name = item.get("name") if isinstance(item, dict) else None
        if name not in _OUTPUTS:
            raise ValidationError(
                f"outputs[{i}]: unknown output {name!r}; this model has {', '.join(_OUTPUTS)}"
            )
        names.append(name)
    return names


def _to_input(schema: InputSchema, tensors: list[tuple[str, np.ndarray]]) -> ModelInput:
    columns = schema.columns
    if len(tensors) == 1 and tensors[0][1].ndim == 2 and (columns is None or len(columns) > 1):
        name, values = tensors[0]
        if columns is None or name not in columns:
            if values.dtype == object:
                return schema.from_rows(values.tolist(), what=f"input {name!r}")
            return schema.from_matrix(values, what=f"input {name!r}")
    data = {}
    for name, values in tensors:
        if values.ndim > 2 or (values.ndim == 2 and values.shape[1] != 1):
            raise ValidationError(
                f"input {name!r}: a column tensor must have shape [n] or [n, 1], "
                f"got {list(values.shape)}"
            )
        data[name] = values.reshape(-1).tolist()
    return schema.from_columns(data, what="inputs")


# -- responses ------------------------------------------------------------------------------
def _infer_body(result: Served, wanted: list[str] | None, request_id: Any) -> dict[str, Any]:
    predictions = result.prediction.predictions
    outputs = []
    if wanted is None or "predict" in wanted:
        values = predictions.reshape(-1).tolist()
        outputs.append(
            {
                "name": "predict",
                "datatype": _label_type(values),
                "shape": list(predictions.shape),
                "data": values,
            }
        )
    proba = result.prediction.probabilities
    if proba is not None and (wanted is None or "predict_proba" in wanted):
        outputs.append(
            {
                "name": "predict_proba",
                "datatype": "FP64",
                "shape": list(proba.shape),
                "data": proba.reshape(-1).tolist(),
            }
        )
    body: dict[str, Any] = {
        "model_name": result.model,
        "model_version": result.version.label,
        "outputs": outputs,
        "parameters": {"prediction_ids": result.prediction_ids, "route": result.route},
    }
    if request_id is not None:
        body["id"] = request_id
    return body
