"""The native API: predictions, ids, headers, validation, limits, feedback and the logs."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

from driftline.ids import uuid7_time_ms
from driftline.serving import join_feedback, read_feedback, read_predictions


def test_records_and_columns_give_the_models_own_answers(
    models: Any, make_app: Any, run_app: Any
) -> None:
    rows = models.features.head(25)

    async def scenario(client: Any, app: Any) -> tuple[Any, Any]:
        by_records = await client.post(
            "/v1/models/elec/predict", json={"records": rows.to_dict("records")}
        )
        by_columns = await client.post(
            "/v1/models/elec/predict", json={"columns": rows.to_dict("list")}
        )
        return by_records, by_columns

    by_records, by_columns = run_app(make_app(), scenario)
    estimator = models.estimators[1]
    for response in (by_records, by_columns):
        assert response.status_code == 200
        body = response.json()
        assert body["predictions"] == estimator.predict(rows).tolist()
        np.testing.assert_allclose(body["probabilities"], estimator.predict_proba(rows))
        assert body["classes"] == estimator.classes_.tolist()
        assert (body["model_version"], body["route"]) == (1, "primary")
        assert response.headers["x-driftline-route"] == "primary"
        assert response.headers["x-driftline-model-version"] == "1"
    ids = by_records.json()["prediction_ids"] + by_columns.json()["prediction_ids"]
    assert len(set(ids)) == 50
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids, key=uuid7_time_ms)  # time-ordered, as UUIDv7 promises


@pytest.mark.parametrize(
    ("mutate", "status", "needle"),
    [
        (lambda r: r.pop("nswprice"), 400, "missing column(s): nswprice"),
        (lambda r: r.update(surprise=1.0), 400, "unexpected column(s): surprise"),
        (lambda r: r.update(day="monday"), 400, "'day'"),
        (lambda r: r.update(period=None), 400, "'period'"),
        (lambda r: r.update(vicdemand=True), 400, "'vicdemand'"),
    ],
    ids=["missing", "extra", "text-in-number", "null", "boolean"],
)
def test_bad_rows_get_400_naming_the_column(
    models: Any, make_app: Any, run_app: Any, mutate: Any, status: int, needle: str
) -> None:
    record = models.features.iloc[0].to_dict()
    mutate(record)

    async def scenario(client: Any, app: Any) -> Any:
        return await client.post("/v1/models/elec/predict", json={"records": [record]})

    response = run_app(make_app(), scenario)
    assert response.status_code == status
    assert needle in response.json()["error"]


def test_infinity_from_csv_is_refused_by_the_signature(
    models: Any, make_app: Any, run_app: Any
) -> None:
    rows = models.features.head(2).copy()
    rows.loc[1, "transfer"] = np.inf
    csv = rows.to_csv(index=False)

    async def scenario(client: Any, app: Any) -> Any:
        return await client.post("/invocations", content=csv, headers={"content-type": "text/csv"})

    response = run_app(make_app(), scenario)
    assert response.status_code == 400
    assert "'transfer'" in response.json()["message"]
    assert "infinite" in response.json()["message"]


def test_limits_unknown_models_and_garbage_are_4xx(
    models: Any, make_app: Any, run_app: Any, options: Any
) -> None:
    record = models.features.iloc[0].to_dict()
    app = make_app(options=options(max_body_bytes=2000, max_batch_rows=5))

    async def scenario(client: Any, app: Any) -> dict[str, Any]:
        post = client.post
        return {
            "big": await post("/v1/models/elec/predict", json={"records": [record] * 40}),
            "rows": await post("/v1/models/elec/predict", json={"records": [record] * 6}),
            "unknown": await post("/v1/models/nope/predict", json={"records": [record]}),
            "garbage": await post("/v1/models/elec/predict", content=b"{not json"),
            "both": await post(
                "/v1/models/elec/predict", json={"records": [record], "columns": {}}
            ),
            "empty": await post("/v1/models/elec/predict", json={"records": []}),
        }

    got = run_app(app, scenario)
    assert got["big"].status_code == 413
    assert got["rows"].status_code == 400 and "limit of 5" in got["rows"].json()["error"]
    assert got["unknown"].status_code == 404 and "'nope'" in got["unknown"].json()["error"]
    assert got["garbage"].status_code == 400 and "not valid JSON" in got["garbage"].json()["error"]
    assert got["both"].status_code == 400
    assert got["empty"].status_code == 400 and "no rows" in got["empty"].json()["error"]


def test_feedback_joins_the_prediction_log_by_id(models: Any, make_app: Any, run_app: Any) -> None:
    rows = models.features.head(3)
    truth = models.frame["class"].head(3).tolist()

    async def scenario(client: Any, app: Any) -> tuple[list[str], list[Any]]:
        answer = await client.post(
            "/v1/models/elec/predict", json={"records": rows.to_dict("records")}
        )
        ids = answer.json()["prediction_ids"]
        feedback = [
            {"prediction_id": pid, "label": label, "value": 10.0 * i}
            for i, (pid, label) in enumerate(zip(ids, truth, strict=True))
        ]
        bad = [
            await client.post("/v1/feedback", json={"feedback": [{"label": "UP"}]}),
            await client.post(
                "/v1/feedback", json={"feedback": [{"prediction_id": "x", "label": 1}]}
            ),
            await client.post(
                "/v1/feedback", content=b"label,UP", headers={"content-type": "text/csv"}
            ),
            await client.post("/v1/feedback", json=[1, 2]),
        ]
        ok = await client.post("/v1/feedback", json={"feedback": feedback})
        assert ok.json() == {"received": 3, "accepted": 3}
        return ids, bad

    ids, bad = run_app(make_app(), scenario)  # shutdown closes and flushes both logs
    assert [r.status_code for r in bad] == [400, 400, 400, 400]
    assert "prediction_id" in bad[0].json()["error"]
    home = models.ws.home
    predictions = read_predictions(home / "predictions", model="elec")
    assert sorted(predictions["prediction_id"]) == sorted(ids)
    assert set(predictions["route"]) == {"primary"}
    assert predictions["version"].tolist() == [1, 1, 1]
    feedback = read_feedback(home / "feedback")
    joined = join_feedback(predictions, feedback)
    assert sorted(joined["label"].tolist()) == sorted(truth)
    assert sorted(joined["value"].tolist()) == [0.0, 10.0, 20.0]


def test_models_list_and_health(models: Any, make_app: Any, run_app: Any) -> None:
    async def scenario(client: Any, app: Any) -> dict[str, Any]:
        return {
            "models": (await client.get("/v1/models")).json(),
            "live": await client.get("/health/live"),
            "ready": await client.get("/health/ready"),
            "docs": await client.get("/docs"),
            "openapi": (await client.get("/openapi.json")).json(),
        }

    got = run_app(make_app(), scenario)
    (elec,) = got["models"]["models"]
    assert elec["name"] == "elec" and elec["ready"] and elec["primary_version"] == 1
    assert elec["refs"][0]["uri"] == "models:/elec@champion"
    assert got["live"].status_code == 200 and got["ready"].status_code == 200
    assert got["docs"].status_code == 200
    paths = got["openapi"]["paths"]
    assert {"/v1/models/{name}/predict", "/invocations", "/v2/models/{model}/infer"} <= set(paths)
