"""Hot swap: alias moves under load, failed loads, the poller, deployments and admin auth."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest

from driftline.lineage import NodeKind
from driftline.serving import DeploymentRecorder, read_predictions

TOKEN = "test-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def admin_models(models: Any) -> Any:
    """The models fixture with an admin token in the workspace's settings."""
    models.ws.settings = models.ws.settings.model_copy(update={"admin_token": TOKEN})
    return models


def test_alias_move_under_load_loses_no_request(
    admin_models: Any, make_app: Any, live: Any
) -> None:
    models = admin_models
    records = models.features.head(40).to_dict("records")
    workers, per_worker, batch = 4, 40, 3
    expected = {v: est.predict(models.features.head(40)).tolist()
                for v, est in models.estimators.items()}  # fmt: skip

    async def load(url: str) -> list[tuple[int, int, list[Any]]]:
        done, moved = 0, asyncio.Event()

        async def worker(w: int, client: httpx.AsyncClient) -> list[tuple[int, int, list[Any]]]:
            nonlocal done
            out = []
            for i in range(per_worker):
                start = (w * per_worker + i) % 37
                body = {"records": records[start : start + batch]}
                response = await client.post("/v1/models/elec/predict", json=body)
                data = response.json()
                out.append((response.status_code, data.get("model_version"), [start, data]))
                done += 1
                if done == workers * per_worker // 3:
                    moved.set()
            return out

        async def mover(client: httpx.AsyncClient) -> None:
            await moved.wait()
            await asyncio.to_thread(models.ws.registry.promote, "elec", 2, reason="swap test")
            reloaded = await client.post("/v1/admin/reload", headers=ADMIN)
            assert reloaded.status_code == 200
            assert reloaded.json()["results"][0]["changed"] is True

        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            results = await asyncio.gather(
                *(worker(w, client) for w in range(workers)), mover(client)
            )
        return [item for part in results[:-1] for item in part]

    with live(make_app()) as server:
        outcomes = asyncio.run(load(server.url))
        status = httpx.get(f"{server.url}/v1/models/elec").json()
    assert all(code == 200 for code, _, _ in outcomes)
    versions = [version for _, version, _ in outcomes]
    assert set(versions) == {1, 2}  # both served, never anything else
    assert versions[-1] == 2 and status["primary_version"] == 2 and status["versions"] == [2]
    for _, version, (start, data) in outcomes:  # each answer is its version's own
        assert data["predictions"] == expected[version][start : start + batch]
    # The server has stopped: every served row is in the prediction log, once.
    logged = read_predictions(models.ws.home / "predictions", model="elec")
    assert len(logged) == sum(len(data["prediction_ids"]) for _, _, (_, data) in outcomes)
    assert logged["prediction_id"].is_unique
    by_version = logged.groupby("version").size().to_dict()
    assert by_version == {v: batch * versions.count(v) for v in (1, 2)}


def test_failed_load_keeps_the_old_version(
    admin_models: Any, make_app: Any, run_app: Any, fit: Any, elec: Any
) -> None:
    models = admin_models
    broken = models.register(fit(elec.iloc[:500]), elec.iloc[:500])
    path = models.ws.artifacts.local_path(broken.artifact_sha256)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")  # the registry's hash check will refuse to load it
    record = models.features.iloc[0].to_dict()

    async def scenario(client: Any, app: Any) -> dict[str, Any]:
        await asyncio.to_thread(models.ws.registry.promote, "elec", broken.version, reason="t")
        reload = await client.post("/v1/admin/reload", headers=ADMIN)
        answer = await client.post("/v1/models/elec/predict", json={"records": [record]})
        return {
            "reload": reload.json(),
            "answer": answer,
            "status": (await client.get("/v1/models/elec")).json(),
            "ready": await client.get("/health/ready"),
            "metrics": (await client.get("/metrics")).text,
        }

    got = run_app(make_app(), scenario)
    (result,) = got["reload"]["results"]
    assert result["failed_version"] == broken.version and result["version"] == 1
    assert got["answer"].status_code == 200 and got["answer"].json()["model_version"] == 1
    ref = got["status"]["refs"][0]
    assert ref["status"] == "ready" and ref["version"] == 1
    assert f"v{broken.version}:" in ref["error"] and "sha256" in ref["error"]
    assert got["ready"].status_code == 200
    assert 'driftline_model_load_failures_total{model="elec"} 1.0' in got["metrics"]


def test_poller_swaps_on_its_own_tick(
    models: Any, make_app: Any, run_app: Any, options: Any
) -> None:
    ticks: asyncio.Queue[None] = asyncio.Queue()
    polls = asyncio.Event()

    async def sleep(seconds: float) -> None:  # the poller's clock: one tick per put
        polls.set()
        await ticks.get()

    async def scenario(client: Any, app: Any) -> list[Any]:
        server = app.state.server
        before = server.endpoints["elec"].primary
        await asyncio.to_thread(models.ws.registry.promote, "elec", 2, reason="poll test")
        await polls.wait()
        polls.clear()
        ticks.put_nowait(None)  # one poll
        await polls.wait()  # the poll ran and the poller sleeps again
        return [before, server.endpoints["elec"].primary, sorted(server.endpoints["elec"].versions)]

    app = make_app(options=options(poll_interval_s=5.0), sleep=sleep)
    assert run_app(app, scenario) == [1, 2, [2]]


def test_deployments_and_lineage(admin_models: Any, make_app: Any, run_app: Any) -> None:
    models = admin_models

    async def scenario(client: Any, app: Any) -> None:
        await asyncio.to_thread(models.ws.registry.promote, "elec", 2, reason="lineage test")
        await client.post("/v1/admin/reload", headers=ADMIN)
        await app.state.server.settle()

    run_app(make_app(), scenario)
    ws = models.ws
    rows = DeploymentRecorder(ws.store, ws.audit, ws.lineage, clock=ws.store.clock).list("elec")
    assert [(r["version"], r["route"]) for r in rows] == [(1, "primary"), (2, "primary")]
    assert all(r["ended_at"] is not None for r in rows)  # swapped out, then shut down
    for row in rows:
        down = ws.lineage.downstream(row["model_version_id"])
        assert row["id"] in down.ids
        assert down.node(row["id"]).kind == NodeKind.DEPLOYMENT
    actions = [e.action for e in ws.audit.entries()]
    assert actions.count("deployment.start") == 2 and actions.count("deployment.end") == 2


@pytest.mark.parametrize(
    ("token", "headers", "status", "needle"),
    [
        (TOKEN, {}, 401, "Authorization: Bearer"),
        (TOKEN, {"authorization": "Basic abc"}, 401, "Authorization: Bearer"),
        (TOKEN, {"authorization": "Bearer wrong"}, 403, "not the admin token"),
        (None, ADMIN, 403, "disabled"),
        (TOKEN, ADMIN, 200, ""),
    ],
    ids=["none", "basic", "wrong", "disabled", "right"],
)
def test_admin_needs_the_bearer_token(
    models: Any, make_app: Any, run_app: Any, token: Any, headers: Any, status: int, needle: str
) -> None:
    models.ws.settings = models.ws.settings.model_copy(update={"admin_token": token})

    async def scenario(client: Any, app: Any) -> list[Any]:
        return [
            await client.post("/v1/admin/reload", headers=headers),
            await client.put(
                "/v1/admin/models/elec/routing", headers=headers, json={"policy": "default"}
            ),
        ]

    for response in run_app(make_app(), scenario):
        assert response.status_code == status
        assert needle in response.text
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_replaced_version_is_freed_without_the_cycle_collector(
    models: Any, make_app: Any, run_app: Any
) -> None:
    # The process log writer freezes the server's objects (gc.freeze) when it forks after the
    # first load, so that the collector never copies pages the child shares: a version in a
    # reference cycle would then never be freed. A swapped-out version must go by refcount.
    import gc
    import weakref

    async def scenario(client: Any, app: Any) -> tuple[Any, Any]:
        server = app.state.server
        old = server.endpoints["elec"].versions[1]
        refs = weakref.ref(old), weakref.ref(old.model)
        del old
        rows = models.features.head(2).to_dict("records")
        assert (await client.post("/v1/models/elec/predict", json={"records": rows})).is_success
        await asyncio.to_thread(models.ws.registry.promote, "elec", 2, reason="freed test")
        await server.swapper.refresh()
        got = await client.post("/v1/models/elec/predict", json={"records": rows})
        assert got.json()["model_version"] == 2
        for _ in range(50):  # the drain task ends once the old version is idle
            await asyncio.sleep(0.01)
            if all(ref() is None for ref in refs):
                break
        return refs

    gc.disable()
    try:
        refs = run_app(make_app(), scenario)
        assert [ref() is None for ref in refs] == [True, True]
    finally:
        gc.enable()
