"""``POST /v1/retrain``: requests recorded by the server, consumed by the controller."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pandas as pd

from driftline import Workspace
from driftline.retraining import Arbiter, RetrainController, RetrainPolicy, pending_requests
from driftline.retraining.requests import consume_requests
from driftline.retraining.triggers import TriggerResult
from driftline.serving import ServingOptions, create_app
from driftline.serving._api_retrain import request_status, submit_request

TOKEN = "retrain-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}

Scenario = Callable[[httpx.AsyncClient], Awaitable[Any]]


def over_http(ws: Workspace, scenario: Scenario) -> Any:
    """Start the model server app of ``ws`` (admin token set) and run ``scenario`` on it."""
    ws.settings = ws.settings.model_copy(update={"admin_token": TOKEN})
    app = create_app(
        ws,
        models=["models:/elec@champion"],
        log_predictions=False,
        options=ServingOptions(poll_interval_s=0, canary_interval_s=0),
    )

    async def main() -> Any:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await scenario(client)

    return asyncio.run(main())


def controller(ws: Workspace, fit: Any, **kwargs: Any) -> RetrainController:
    policy = RetrainPolicy(model="elec", target="class", train_fn=fit)
    return RetrainController(ws, policy, arbiter=Arbiter(ws, owner="ctl"), **kwargs)


def test_a_request_is_recorded_pending_and_audited(
    served: tuple[Workspace, pd.DataFrame],
) -> None:
    ws, _ = served

    async def scenario(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        body = {"model": "elec", "reason": "new upstream feed", "requested_by": "airflow:dag"}
        posted = await client.post("/v1/retrain", json=body, headers=ADMIN)
        status = await client.get(posted.headers["location"], headers=ADMIN)
        return posted, status

    posted, status = over_http(ws, scenario)
    assert posted.status_code == 202
    accepted = posted.json()
    assert accepted["status"] == "pending" and accepted["model"] == "elec"
    assert accepted["reason"] == "new upstream feed"
    assert status.status_code == 200 and status.json() == accepted
    [pending] = pending_requests(ws, "elec")
    assert pending.id == accepted["request_id"] and pending.requested_by == "airflow:dag"
    [entry] = [e for e in ws.audit.entries() if e.action == "retrain.request"]
    assert entry.actor == "airflow:dag" and entry.subject == f"retrain-request/{pending.id}"
    assert entry.payload == {"model": "elec", "reason": "new upstream feed"}


def test_bad_requests_are_refused_with_the_reason(
    served: tuple[Workspace, pd.DataFrame],
) -> None:
    ws, _ = served
    cases: dict[str, tuple[str, str, dict[str, Any] | None, dict[str, str]]] = {
        "no-token": ("POST", "/v1/retrain", {"model": "elec", "reason": "r"}, {}),
        "wrong-token": (
            "POST",
            "/v1/retrain",
            {"model": "elec", "reason": "r"},
            {"authorization": "Bearer nope"},
        ),
        "unknown-model": ("POST", "/v1/retrain", {"model": "fraud", "reason": "r"}, ADMIN),
        "no-reason": ("POST", "/v1/retrain", {"model": "elec"}, ADMIN),
        "blank-reason": ("POST", "/v1/retrain", {"model": "elec", "reason": "  "}, ADMIN),
        "no-model": ("POST", "/v1/retrain", {"reason": "r"}, ADMIN),
        "bad-name": ("POST", "/v1/retrain", {"model": "a\x00b", "reason": "r"}, ADMIN),
        "nul-reason": ("POST", "/v1/retrain", {"model": "elec", "reason": "a\x00b"}, ADMIN),
        "extra-field": (
            "POST",
            "/v1/retrain",
            {"model": "elec", "reason": "r", "force": True},
            ADMIN,
        ),
        "unknown-id": ("GET", "/v1/retrain/01a21c40-0000-7000-8000-000000000000", None, ADMIN),
        "status-no-token": ("GET", "/v1/retrain/x", None, {}),
        "not-an-id": ("GET", "/v1/retrain/x%00y", None, ADMIN),
    }

    async def scenario(client: httpx.AsyncClient) -> dict[str, httpx.Response]:
        return {
            name: await client.request(method, path, json=body, headers=headers)
            for name, (method, path, body, headers) in cases.items()
        }

    got = over_http(ws, scenario)
    expected = {
        "no-token": (401, "Authorization: Bearer"),
        "wrong-token": (403, "not the admin token"),
        "unknown-model": (404, "model 'fraud' is not registered"),
        "no-reason": (400, "'reason' is required"),
        "blank-reason": (400, "'reason' is required"),
        "no-model": (400, "'model' is required"),
        "bad-name": (400, "'model' 'a\\x00b' is invalid"),
        "nul-reason": (400, "'reason' must be text"),
        "extra-field": (400, "unknown field(s) force"),
        "unknown-id": (404, "retrain request '01a21c40-0000-7000-8000-000000000000' not found"),
        "status-no-token": (401, "Authorization: Bearer"),
        "not-an-id": (404, "retrain request 'x\\x00y' not found"),
    }
    seen = {name: (r.status_code, r.json()["error"]) for name, r in got.items()}
    for name, (status, needle) in expected.items():
        assert seen[name][0] == status and needle in seen[name][1], (name, seen[name])
    assert pending_requests(ws, "elec") == []  # nothing bad was recorded


def test_check_once_consumes_requests_into_its_decision(
    served: tuple[Workspace, pd.DataFrame], elec_fit: Any
) -> None:
    ws, _ = served
    first = submit_request(ws, "elec", "new upstream feed", "airflow")
    second = submit_request(ws, "elec", "label fix", "alice")
    report = controller(ws, elec_fit).check_once()
    decision = report.decision
    assert decision is not None and decision["allowed"]
    manual = next(t for t in report.triggers if t["trigger"] == "manual")
    assert manual["fired"] and "new upstream feed (by airflow)" in manual["reason"]
    assert "label fix (by alice)" in manual["reason"]
    assert report.retrain is not None and report.retrain["status"] == "failed"  # no traffic yet
    for asked in (first, second):
        status = request_status(ws, asked["request_id"])
        assert status["status"] == "consumed" and status["decision_id"] == decision["id"]
        assert status["outcome"] == "failed" and status["decision"]["status"] == "finished"
    assert pending_requests(ws, "elec") == []
    consumed = [e for e in ws.audit.entries() if e.action == "retrain.request.consume"]
    assert {e.payload["decision_id"] for e in consumed} == {decision["id"]}
    assert controller(ws, elec_fit).check_once().decision is None  # each request counts once


class BakingPromoter:
    """A promoter whose server is baking a canary."""

    def canary_active(self, model: str) -> bool:
        return True

    def promote(self, model: str, champion: int, challenger: int, *, reason: str) -> Any:
        raise AssertionError("a refused decision promotes nothing")


def test_a_refused_request_names_the_refusal(
    served: tuple[Workspace, pd.DataFrame], elec_fit: Any
) -> None:
    ws, _ = served
    asked = submit_request(ws, "elec", "try again")
    report = controller(ws, elec_fit, promoter=BakingPromoter()).check_once()
    assert report.decision is not None and not report.decision["allowed"]

    async def scenario(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get(f"/v1/retrain/{asked['request_id']}", headers=ADMIN)

    status = over_http(ws, scenario).json()
    assert status["status"] == "consumed" and status["outcome"] == "refused"
    assert status["decision_id"] == report.decision["id"]
    assert "canary is baking" in status["decision"]["reason"]


def test_an_allowed_decision_wins_a_request_over_a_racing_refusal(
    served: tuple[Workspace, pd.DataFrame],
) -> None:
    ws, _ = served
    submit_request(ws, "elec", "race")
    [request] = pending_requests(ws, "elec")
    manual = [TriggerResult("manual", True, "requested: race")]
    refused = Arbiter(ws, owner="b").decide(
        "elec", manual, window_key="w", data_snapshot="0", canary_active=True
    )
    allowed = Arbiter(ws, owner="a").decide("elec", manual, window_key="w", data_snapshot="0")
    assert consume_requests(ws, [request], refused) == [request.id]
    assert consume_requests(ws, [request], allowed) == [request.id]
    assert consume_requests(ws, [request], refused) == []  # a refusal never undoes it
    assert request_status(ws, request.id)["decision_id"] == allowed.id
