"""Routing in the server: sticky A/B, shadow mirroring, canary rollback and promotion."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pytest

from driftline.serving import read_predictions

TOKEN = "routing-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def routed(models: Any) -> Any:
    models.ws.settings = models.ws.settings.model_copy(update={"admin_token": TOKEN})
    return models


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_ab_split_is_sticky_and_reports_its_arm(routed: Any, make_app: Any, run_app: Any) -> None:
    record = routed.features.iloc[0].to_dict()
    spec = {"policy": "ab", "arms": {"control": [1, 0.5], "treatment": [2, 0.5]}}

    async def scenario(client: Any, app: Any) -> list[tuple[str, Any, Any]]:
        setting = await client.put("/v1/admin/models/elec/routing", headers=ADMIN, json=spec)
        assert setting.status_code == 200, setting.text
        assert setting.json()["routing"]["policy"] == "ab"
        seen = []
        for user in range(30):
            headers = {"x-driftline-key": f"user-{user}"}
            body = {"records": [record]}
            first = await client.post("/v1/models/elec/predict", json=body, headers=headers)
            again = await client.post("/v1/models/elec/predict", json=body, headers=headers)
            seen.append((f"user-{user}", first, again))
        return seen

    seen = run_app(make_app(), scenario)
    arms = {"ab:control": "1", "ab:treatment": "2"}
    for _, first, again in seen:
        route = first.headers["x-driftline-route"]
        assert route == again.headers["x-driftline-route"]  # sticky by key
        assert first.headers["x-driftline-model-version"] == arms[route]
        assert first.json()["model_version"] == int(arms[route])
    assert {first.headers["x-driftline-route"] for _, first, _ in seen} == set(arms)


def test_shadow_is_mirrored_logged_and_compared(routed: Any, make_app: Any, run_app: Any) -> None:
    rows = routed.features.head(200)
    primary, shadow = (routed.estimators[v].predict(rows) for v in (1, 2))
    differ = int((primary != shadow).sum())
    assert differ > 0  # the two versions must disagree somewhere for this test to mean much
    spec = {"policy": "shadow", "primary": 1, "shadow": 2, "percent": 1.0}

    async def scenario(client: Any, app: Any) -> tuple[list[Any], str]:
        await client.put("/v1/admin/models/elec/routing", headers=ADMIN, json=spec)
        answers = []
        for start in range(0, 200, 20):
            body = {"records": rows.iloc[start : start + 20].to_dict("records")}
            answers.append(await client.post("/v1/models/elec/predict", json=body))
        await app.state.server.settle()
        return answers, (await client.get("/metrics")).text

    answers, metrics = run_app(make_app(), scenario)
    served = [p for a in answers for p in a.json()["predictions"]]
    assert served == primary.tolist()  # the client only ever sees the primary
    assert {a.json()["model_version"] for a in answers} == {1}
    labels = {"model": "elec", "version": "1", "shadow_version": "2"}
    assert _metric(metrics, "driftline_shadow_disagreement_total", **labels) == differ
    logged = read_predictions(routed.ws.home / "predictions", model="elec")
    mirrored = logged[logged["route"] == "shadow"]
    assert len(mirrored) == 200 and set(mirrored["version"]) == {2}
    main = logged[logged["route"] == "primary"].set_index("prediction_id")
    # The shadow row carries the served row's prediction id, so feedback scores both.
    assert set(mirrored["prediction_id"]) == set(main.index)


def test_canary_rolls_back_when_it_disagrees(
    routed: Any, make_app: Any, run_app: Any, ticker: Any, fit: Any, elec: Any, options: Any
) -> None:
    flipped = routed.register(fit(elec.iloc[:3000], flip=True), elec.iloc[:3000])
    rows = routed.features.head(40)
    spec = {
        "policy": "canary",
        "stable": 1,
        "canary": flipped.version,
        "steps": [0.5, 1.0],
        "bake_time_s": 60,
        "slo": {"max_disagreement": 0.2, "min_requests": 10},
    }
    draws = itertools.cycle([0.1, 0.9])  # every other request falls under the 50% step

    async def scenario(client: Any, app: Any) -> dict[str, Any]:
        server = app.state.server
        await client.put("/v1/admin/models/elec/routing", headers=ADMIN, json=spec)
        ticker.advance(30)
        before = [await _predict(client, rows.iloc[[i]]) for i in range(40)]
        await server.settle()
        ticker.advance(31)
        state = server.evaluate_canaries()
        after = [await _predict(client, rows.iloc[[i]]) for i in range(10)]
        return {
            "before": before,
            "state": state,
            "after": after,
            "status": (await client.get("/v1/models/elec")).json(),
            "metrics": (await client.get("/metrics")).text,
        }

    app = make_app(clock=ticker, draw=lambda: next(draws), options=options())
    got = run_app(app, scenario)
    assert {r.headers["x-driftline-route"] for r in got["before"]} == {"canary", "stable"}
    assert got["state"] == {"elec": "rolled_back"}
    assert {r.headers["x-driftline-route"] for r in got["after"]} == {"stable"}
    assert {r.json()["model_version"] for r in got["after"]} == {1}
    canary = got["status"]["canary"]
    assert canary["state"] == "rolled_back" and "disagreement" in canary["reason"]
    assert _metric(got["metrics"], "driftline_canary_rollbacks_total", model="elec") == 1


def test_canary_steps_up_and_is_promoted(
    routed: Any, make_app: Any, run_app: Any, ticker: Any, options: Any
) -> None:
    rows = routed.features.head(20)
    spec = {
        "policy": "canary",
        "stable": 1,
        "canary": 2,
        "steps": [0.5, 1.0],
        "bake_time_s": 60,
        "slo": {"max_error_rate": 0.0, "max_p99_latency_s": 5.0, "min_requests": 5},
    }
    draws = itertools.cycle([0.2, 0.7])

    async def scenario(client: Any, app: Any) -> list[Any]:
        server = app.state.server
        await client.put("/v1/admin/models/elec/routing", headers=ADMIN, json=spec)
        states, routes = [], []
        for _ in range(2):
            ticker.advance(30)
            answers = [await _predict(client, rows.iloc[[i]]) for i in range(20)]
            routes.append(sorted({a.headers["x-driftline-route"] for a in answers}))
            ticker.advance(31)
            states.append(server.evaluate_canaries()["elec"])
        final = await _predict(client, rows.iloc[[0]])
        return [states, routes, final.json()["model_version"]]

    app = make_app(clock=ticker, draw=lambda: next(draws), options=options())
    states, routes, final = run_app(app, scenario)
    assert states == ["step_up", "promoted"]
    assert routes == [["canary", "stable"], ["canary"]]
    assert final == 2


def test_routing_mistakes_are_400(routed: Any, make_app: Any, run_app: Any) -> None:
    bad = [
        {"policy": "zigzag"},
        {"policy": "single"},
        {"policy": "ab", "arms": {"a": [1, -1]}},
        {"policy": "shadow", "primary": 1, "shadow": 1, "percent": 0.5},
        {"policy": "canary", "stable": 1, "canary": 2, "steps": [0.5, 0.1]},
        {"policy": "canary", "stable": 1, "canary": 2, "slo": {"speed": 1}},
        [1, 2],
    ]

    async def scenario(client: Any, app: Any) -> list[Any]:
        url = "/v1/admin/models/elec/routing"
        out = [await client.put(url, headers=ADMIN, json=spec) for spec in bad]
        out.append(await client.put(url, headers=ADMIN, json={"policy": "single", "version": 99}))
        return out

    responses = run_app(make_app(), scenario)
    assert [r.status_code for r in responses] == [400] * len(bad) + [404]


async def _predict(client: Any, rows: Any) -> Any:
    response = await client.post(
        "/v1/models/elec/predict", json={"records": rows.to_dict("records")}
    )
    assert response.status_code == 200, response.text
    return response


def test_probabilities_follow_the_routed_version(routed: Any, make_app: Any, run_app: Any) -> None:
    rows = routed.features.head(5)

    async def scenario(client: Any, app: Any) -> Any:
        await client.put(
            "/v1/admin/models/elec/routing", headers=ADMIN, json={"policy": "single", "version": 2}
        )
        return (await _predict(client, rows)).json()

    body = run_app(make_app(), scenario)
    assert body["model_version"] == 2 and body["route"] == "primary"
    np.testing.assert_allclose(body["probabilities"], routed.estimators[2].predict_proba(rows))
