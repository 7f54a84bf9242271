"""MLflow's scoring protocol: every input format agrees; errors carry MLflow's codes."""

from __future__ import annotations

from typing import Any

import pytest


def _requests(rows: Any) -> dict[str, tuple[dict[str, str], bytes | None, Any]]:
    """The same rows in each of MLflow's formats: (headers, raw body, JSON body)."""
    shuffled = rows[list(reversed(rows.columns))]  # column order must not matter
    json_ = {"content-type": "application/json"}
    return {
        "dataframe_split": (json_, None, {"dataframe_split": shuffled.to_dict("split")}),
        "dataframe_records": (json_, None, {"dataframe_records": rows.to_dict("records")}),
        "instances": (json_, None, {"instances": rows.to_dict("records")}),
        "inputs": (json_, None, {"inputs": rows.to_dict("list")}),
        "instances-rows": (json_, None, {"instances": rows.to_numpy().tolist()}),
        "csv": ({"content-type": "text/csv"}, shuffled.to_csv(index=False).encode(), None),
    }


def test_every_format_gives_the_same_predictions(models: Any, make_app: Any, run_app: Any) -> None:
    rows = models.features.head(20)
    requests = _requests(rows)

    async def scenario(client: Any, app: Any) -> dict[str, Any]:
        out = {}
        for name, (headers, raw, body) in requests.items():
            out[name] = await client.post("/invocations", headers=headers, content=raw, json=body)
        return out

    responses = run_app(make_app(), scenario)
    expected = models.estimators[1].predict(rows).tolist()
    for name, response in responses.items():
        assert response.status_code == 200, (name, response.text)
        assert response.json() == {"predictions": expected}, name


@pytest.mark.parametrize(
    ("headers", "body", "status", "code", "needle"),
    [
        ({"content-type": "application/json"}, b'{"instances": [], "inputs": []}', 400,
         "BAD_REQUEST", "exactly one of the input fields"),
        ({"content-type": "application/json"}, b"[[1, 2, 3]]", 400, "BAD_REQUEST",
         "Received a list"),
        ({"content-type": "application/json"}, b'{"data": [[1]]}', 400, "BAD_REQUEST",
         "exactly one of the input fields"),
        ({"content-type": "application/json"}, b"{oops", 400, "INVALID_PARAMETER_VALUE",
         "not valid JSON"),
        ({"content-type": "application/xml"}, b"<rows/>", 415, "BAD_REQUEST",
         "content types"),
        ({"content-type": "text/csv"}, b"", 400, "BAD_REQUEST", "CSV"),
        ({"content-type": "application/json"},
         b'{"dataframe_records": [{"date": 0.1}]}', 400, "INVALID_PARAMETER_VALUE",
         "missing column(s)"),
    ],
    ids=["two-keys", "top-level-list", "no-format-key", "bad-json", "xml", "empty-csv",
         "missing-columns"],
)  # fmt: skip
def test_mistakes_get_mlflow_error_codes(
    make_app: Any,
    run_app: Any,
    headers: dict[str, str],
    body: bytes,
    status: int,
    code: str,
    needle: str,
) -> None:
    async def scenario(client: Any, app: Any) -> Any:
        return await client.post("/invocations", headers=headers, content=body)

    response = run_app(make_app(), scenario)
    assert response.status_code == status
    assert response.json()["error_code"] == code
    assert needle in response.json()["message"]


def test_ping_and_version(make_app: Any, run_app: Any) -> None:
    async def scenario(client: Any, app: Any) -> tuple[Any, Any]:
        return await client.get("/ping"), await client.get("/version")

    ping, version = run_app(make_app(), scenario)
    from driftline import __version__

    assert ping.status_code == 200
    assert version.text == __version__
