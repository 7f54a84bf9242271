"""Open Inference Protocol v2: tritonclient's sync and aio clients against a live server."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import orjson
import pytest

httpclient = pytest.importorskip("tritonclient.http")
aioclient = pytest.importorskip("tritonclient.http.aio")


def _column_inputs(rows: Any, *, binary: bool) -> list[Any]:
    """One tensor per column, typed as the model's signature says."""
    tensors = []
    for column in rows.columns:
        values = rows[column].to_numpy()
        datatype = "INT64" if values.dtype.kind == "i" else "FP64"
        tensor = httpclient.InferInput(column, [len(rows)], datatype)
        tensor.set_data_from_numpy(values.astype(np.int64 if datatype == "INT64" else np.float64),
                                   binary_data=binary)  # fmt: skip
        tensors.append(tensor)
    return tensors


def _outputs() -> list[Any]:
    return [
        httpclient.InferRequestedOutput("predict", binary_data=False),
        httpclient.InferRequestedOutput("predict_proba", binary_data=False),
    ]


def test_sync_client_health_metadata_and_infer(models: Any, make_app: Any, live: Any) -> None:
    rows = models.features.head(7)
    estimator = models.estimators[1]
    with live(make_app()) as server:
        client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
        try:
            assert client.is_server_live() and client.is_server_ready()
            assert client.is_model_ready("elec")
            assert client.is_model_ready("elec", "1")
            assert not client.is_model_ready("nope")
            meta = client.get_model_metadata("elec")
            assert meta["name"] == "elec" and meta["versions"] == ["1"]
            assert [t["name"] for t in meta["inputs"]] == list(rows.columns)
            assert [t["name"] for t in meta["outputs"]] == ["predict", "predict_proba"]
            for binary in (False, True):  # JSON tensors, then the binary tensor extension
                result = client.infer(
                    "elec", _column_inputs(rows, binary=binary), outputs=_outputs()
                )
                labels = [v.decode() if isinstance(v, bytes) else v for v in
                          result.as_numpy("predict").tolist()]  # fmt: skip
                assert labels == estimator.predict(rows).tolist()
                np.testing.assert_allclose(
                    result.as_numpy("predict_proba"), estimator.predict_proba(rows)
                )
            matrix = httpclient.InferInput("input-0", list(rows.shape), "FP64")
            matrix.set_data_from_numpy(rows.to_numpy(dtype=np.float64), binary_data=False)
            pinned = client.infer("elec", [matrix], model_version="1", outputs=_outputs()[:1])
            assert pinned.get_response()["model_version"] == "1"
            assert pinned.get_response()["parameters"]["route"] == "pinned"
        finally:
            client.close()


def test_aio_client_sends_octet_stream_and_is_understood(
    models: Any, make_app: Any, live: Any
) -> None:
    rows = models.features.head(4)

    async def scenario(port: int) -> Any:
        client = aioclient.InferenceServerClient(url=f"127.0.0.1:{port}")
        try:
            assert await client.is_server_live()
            assert await client.is_server_ready()
            assert await client.is_model_ready("elec")
            meta = await client.get_model_metadata("elec")
            result = await client.infer(
                "elec", _column_inputs(rows, binary=False), outputs=_outputs()
            )
            return meta, result
        finally:
            await client.close()

    with live(make_app()) as server:
        meta, result = asyncio.run(scenario(server.port))
    assert meta["platform"] == "driftline_sklearn"
    labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("predict")]
    assert labels == models.estimators[1].predict(rows).tolist()


def test_protocol_errors(models: Any, make_app: Any, run_app: Any) -> None:
    row = models.features.iloc[0]
    good = [{"name": c, "shape": [1], "datatype": "FP64", "data": [float(row[c])]}
            for c in models.features.columns]  # fmt: skip

    async def scenario(client: Any, app: Any) -> dict[str, Any]:
        post = client.post
        return {
            "short": await post(
                "/v2/models/elec/infer",
                json={"inputs": [{**good[0], "shape": [2]}, *good[1:]]},
            ),
            "dtype": await post(
                "/v2/models/elec/infer", json={"inputs": [{**good[0], "datatype": "FP128"}]}
            ),
            "missing": await post("/v2/models/elec/infer", json={"inputs": good[1:]}),
            "unknown": await post("/v2/models/nope/infer", json={"inputs": good}),
            "version": await post("/v2/models/elec/versions/9/infer", json={"inputs": good}),
            "server": await client.get("/v2"),
            "ok": await post(
                "/v2/models/elec/infer",
                content=orjson.dumps({"inputs": good}),
                headers={"content-type": "application/octet-stream"},
            ),
        }

    got = run_app(make_app(), scenario)
    assert got["short"].status_code == 400 and "needs 2 values" in got["short"].json()["error"]
    assert got["dtype"].status_code == 400 and "FP128" in got["dtype"].json()["error"]
    assert got["missing"].status_code == 400 and "date" in got["missing"].json()["error"]
    assert got["unknown"].status_code == 404 and "error" in got["unknown"].json()
    assert got["version"].status_code == 404
    assert got["server"].json()["name"] == "driftline"
    assert got["ok"].status_code == 200
    assert got["ok"].headers["x-driftline-model-version"] == "1"


def test_not_ready_is_503(models: Any, make_app: Any, run_app: Any) -> None:
    models.ws.registry.delete_alias("elec", "champion", reason="test: nothing to serve")

    async def scenario(client: Any, app: Any) -> dict[str, Any]:
        record = models.features.iloc[0].to_dict()
        return {
            "ready": await client.get("/v2/health/ready"),
            "model": await client.get("/v2/models/elec/ready"),
            "infer": await client.post("/v1/models/elec/predict", json={"records": [record]}),
            "live": await client.get("/v2/health/live"),
            "status": (await client.get("/v1/models/elec")).json(),
        }

    got = run_app(make_app(), scenario)
    assert got["ready"].status_code == 503 and got["model"].status_code == 503
    assert got["infer"].status_code == 503
    assert "no alias 'champion'" in got["infer"].json()["error"]
    assert got["live"].status_code == 200
    assert got["status"]["refs"][0]["status"] == "failed"
