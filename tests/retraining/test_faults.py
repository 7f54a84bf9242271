"""Faults in automated retraining: the champion keeps serving, state stays consistent, the
audit log says what happened.

Covered: a training function that raises (or is interrupted), a challenger that cannot load
(at comparison, at a direct promotion, at a canary), the model server dying during a canary,
the controller SIGKILLed between "challenger registered" and "alias moved" (a fresh process
cleans up and retrains), and two controllers started for one model. Every wait is on an event
(a line from a child process, a server's readiness), bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest
import uvicorn
from sklearn.ensemble import RandomForestClassifier
from sqlalchemy import select as sql_select

from driftline import Workspace
from driftline.exceptions import UnavailableError
from driftline.retraining import (
    Arbiter,
    ArbiterPolicy,
    CanaryPromoter,
    Promoter,
    RetrainController,
    RetrainPolicy,
    Rollout,
    TriggerResult,
)
from driftline.serving import ServingOptions, create_app
from driftline.store._retraining_tables import retrain_leases

TOKEN = "faults-admin-token"
WAIT_S = 120.0  # upper bound on any wait for a child process or a server
FAST = timedelta(seconds=1)  # traffic spacing: an hour of log files, not two months


def controller(
    ws: Workspace, train_fn: Any, *, owner: str = "ctl", promoter: Promoter | None = None
) -> RetrainController:
    """A controller that retrains on a manual request only, with no cooldown."""
    return RetrainController(
        ws,
        RetrainPolicy(model="elec", target="class", train_fn=train_fn, window_rows=3000),
        arbiter=Arbiter(ws, ArbiterPolicy(cooldown=timedelta(0)), owner=owner),
        triggers=(),
        promoter=promoter,
    )


def leases(ws: Workspace) -> list[dict[str, Any]]:
    with ws.store.read() as conn:
        return [dict(r) for r in conn.execute(sql_select(retrain_leases)).mappings()]


def audit_of(ws: Workspace, decision_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(action, payload) of the audit entries about one decision, oldest first."""
    entries = ws.audit.entries(subject=f"retrain/{decision_id}", newest_first=False)
    return [(e.action, e.payload) for e in entries]


def assert_settled(ws: Workspace, champion: int, aliases: list[int]) -> None:
    """The champion is ``champion`` after exactly the moves ``aliases``, no retrain is left
    started, no lease is left held, and the audit chain holds."""
    assert ws.registry.get("elec@champion").version == champion
    assert [h.to_version for h in ws.registry.alias_history("elec", "champion")] == aliases
    assert all(d.status != "started" for d in Arbiter(ws, owner="check").decisions("elec"))
    assert leases(ws) == []
    assert ws.audit.verify().intact


def damage(ws: Workspace, version: int, how: str) -> None:
    """Corrupt or delete the stored artifact of elec ``version``."""
    path = ws.artifacts.local_path(ws.registry.get(f"elec/{version}").artifact_sha256)
    if how == "missing":
        path.unlink()
    else:
        path.chmod(0o644)
        path.write_bytes(b"these are not the model's bytes")


# -- a training function that raises -------------------------------------------------------
def test_a_training_function_that_raises_fails_the_retrain_only(
    served: Any, traffic: Any, elec_fit: Any
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)

    def runs_out_of_memory(rows: pd.DataFrame, params: dict[str, Any]) -> Any:
        elec_fit(rows.head(50), params)  # some work happens, then the machine gives up
        raise MemoryError("cannot allocate 12 GiB")

    report = controller(ws, runs_out_of_memory).check_once(manual_reason="nightly")
    assert report.decision["allowed"] and report.retrain["status"] == "failed"
    assert "MemoryError: cannot allocate 12 GiB" in report.retrain["reason"]
    assert report.rollout is None and report.champion_version == 1
    assert_settled(ws, champion=1, aliases=[1])
    assert [v.version for v in ws.registry.list("elec")] == [1]
    [failed_run] = [r for r in ws.training.list("elec") if r.status == "failed"]
    decision_id = report.decision["id"]
    actions = audit_of(ws, decision_id)
    assert [a for a, _ in actions] == ["retrain.decide", "retrain.finish"]
    finish = actions[-1][1]
    assert finish["outcome"] == "failed" and "MemoryError" in finish["details"]["error"]
    assert any(
        e.action == "run.fail" and "MemoryError" in e.payload["error"]
        for e in ws.audit.entries(subject=f"run/{failed_run.id}")
    )
    # Nothing is left holding the model: the next cycle retrains and promotes.
    again = controller(ws, elec_fit).check_once(manual_reason="retry after the fix")
    assert again.rollout["outcome"] == "promoted" and again.champion_version == 2
    assert_settled(ws, champion=2, aliases=[1, 2])


def test_a_retrain_interrupted_mid_training_is_abandoned_by_the_next_cycle(
    served: Any, traffic: Any, elec_fit: Any
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)
    interrupted = threading.Event()

    def interrupted_once(rows: pd.DataFrame, params: dict[str, Any]) -> Any:
        if not interrupted.is_set():
            interrupted.set()
            raise KeyboardInterrupt  # Ctrl-C on `driftline run` while it trains
        return elec_fit(rows, params)

    ctl = controller(ws, interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        ctl.check_once(manual_reason="nightly")
    [half] = Arbiter(ws, owner="check").decisions("elec")
    assert half.status == "started" and [x["owner"] for x in leases(ws)] == ["ctl"]
    report = ctl.check_once(manual_reason="nightly, again")  # the same controller, restarted
    assert report.rollout["outcome"] == "promoted" and report.champion_version == 2
    assert_settled(ws, champion=2, aliases=[1, 2])
    [(action, payload)] = audit_of(ws, half.id)[1:]
    assert (action, payload["outcome"], payload["details"]) == (
        "retrain.finish",
        "abandoned",
        {"abandoned_by": "ctl"},
    )


# -- a challenger that cannot load ------------------------------------------------------------
@pytest.mark.parametrize("how", ["corrupt", "missing"])
def test_a_challenger_whose_artifact_breaks_before_comparison_is_failed(
    served: Any, traffic: Any, elec_fit: Any, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)
    compare = ws.training.compare

    def compare_after_damage(name: str, challenger: int, champion: int, **kw: Any) -> Any:
        damage(ws, challenger, how)  # the disk loses the challenger between train and compare
        return compare(name, challenger, champion, **kw)

    monkeypatch.setattr(ws.training, "compare", compare_after_damage)
    report = controller(ws, elec_fit).check_once(manual_reason="nightly")
    expected = {"corrupt": "IntegrityError", "missing": "NotFoundError"}[how]
    assert report.retrain["status"] == "failed" and expected in report.retrain["reason"]
    assert_settled(ws, champion=1, aliases=[1])
    [decision] = Arbiter(ws, owner="check").decisions("elec")
    assert (decision.outcome, decision.challenger_version) == ("failed", 2)
    actions = audit_of(ws, decision.id)
    assert [a for a, _ in actions] == ["retrain.decide", "retrain.progress", "retrain.finish"]
    assert actions[1][1]["stage"] == "comparing" and actions[1][1]["challenger_version"] == 2
    assert expected in actions[2][1]["details"]["error"]
    assert ws.registry.load("elec@champion").predict(frame.iloc[:5, :-1]) is not None


class Unloadable(RandomForestClassifier):
    """Fits and predicts, but its saved form cannot be loaded back (a flavor load error)."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        raise RuntimeError("saved by an incompatible version of the library")


def test_a_challenger_whose_flavor_cannot_load_it_is_failed(served: Any, traffic: Any) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)
    columns = list(frame.columns[:-1])

    def fit_unloadable(rows: pd.DataFrame, params: dict[str, Any]) -> Any:
        return Unloadable(n_estimators=5, random_state=0).fit(rows[columns], rows["class"])

    report = controller(ws, fit_unloadable).check_once(manual_reason="nightly")
    assert report.retrain["status"] == "failed"
    assert "incompatible version of the library" in report.retrain["reason"]
    assert_settled(ws, champion=1, aliases=[1])
    assert [v.version for v in ws.registry.list("elec")] == [1]  # never registered
    # The run that produced it is recorded as failed, not left "running".
    assert [r.status for r in ws.training.list("elec")] == ["completed", "failed"]


def test_a_direct_promotion_refuses_a_challenger_that_cannot_load(
    served: Any, traffic: Any, elec_fit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)
    compare = ws.training.compare

    def compare_then_damage(name: str, challenger: int, champion: int, **kw: Any) -> Any:
        result = compare(name, challenger, champion, **kw)
        damage(ws, challenger, "corrupt")  # after the verdict, before the alias move
        return result

    monkeypatch.setattr(ws.training, "compare", compare_then_damage)
    report = controller(ws, elec_fit).check_once(manual_reason="nightly")
    assert report.retrain["status"] == "promote"  # the comparison said yes ...
    assert report.rollout["outcome"] == "failed"  # ... but a broken model never becomes champion
    assert "v2 cannot load (IntegrityError" in report.rollout["reason"]
    assert_settled(ws, champion=1, aliases=[1])
    [decision] = Arbiter(ws, owner="check").decisions("elec")
    actions = audit_of(ws, decision.id)
    assert [a for a, _ in actions][-2:] == ["retrain.progress", "retrain.finish"]
    assert actions[-2][1]["stage"] == "promoting"
    assert actions[-1][1]["outcome"] == "failed" and actions[-1][1]["challenger_version"] == 2


# -- the model server during a canary ---------------------------------------------------------
class Server:
    """The model server for elec@champion on a loopback port, in a thread, until stop()."""

    def __init__(self, ws: Workspace) -> None:
        ws.settings = ws.settings.model_copy(update={"admin_token": TOKEN})
        options = ServingOptions(poll_interval_s=0, canary_interval_s=0)  # nothing on timers
        app = create_app(
            ws, models=["models:/elec@champion"], log_predictions=False, options=options
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})
        self.stopped = threading.Event()

    def __enter__(self) -> Server:
        self.thread.start()
        ready, deadline = threading.Event(), time.monotonic() + WAIT_S
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline and self.thread.is_alive():
                try:
                    if self.server.started and client.get("/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                ready.wait(0.05)  # re-check readiness; the deadline bounds the loop
            else:
                self.stop()
                raise RuntimeError("the test server did not become ready")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=WAIT_S)
        self.sock.close()
        self.stopped.set()

    def __exit__(self, *exc: object) -> None:
        if not self.stopped.is_set():
            self.stop()

    def get(self, path: str) -> Any:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            return client.get(path).json()

    def predict(self, rows: pd.DataFrame) -> Any:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            body = {"records": rows.to_dict("records")}
            response = client.post("/v1/models/elec/predict", json=body)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def canary(
    ws: Workspace, url: str, kind: type[CanaryPromoter] = CanaryPromoter, **kw: Any
) -> Iterator[CanaryPromoter]:
    """A canary promoter for the server at ``url``; its HTTP client is closed afterwards."""
    promoter = kind(
        ws, url, token=TOKEN, steps=(0.1, 1.0), bake_time_s=60, poll_s=1.0, timeout_s=30, **kw
    )
    try:
        yield promoter
    finally:
        promoter.client.close()


def test_the_server_dying_mid_canary_fails_the_rollout_and_keeps_the_champion(
    served: Any, traffic: Any, elec_fit: Any
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)
    # The promoter's first wait between polls is when the server goes away.
    with Server(ws) as server, canary(ws, server.url, sleep=lambda s: server.stop()) as promoter:
        report = controller(ws, elec_fit, promoter=promoter).check_once(manual_reason="nightly")
    assert report.retrain["status"] == "promote"
    rollout = report.rollout
    assert rollout["outcome"] == "failed" and "unreachable" in rollout["reason"]
    assert "the champion stays v1" in rollout["reason"]
    assert rollout["history"][0]["state"] == "baking"  # the canary was live when it died
    assert_settled(ws, champion=1, aliases=[1])
    [decision] = Arbiter(ws, owner="check").decisions("elec")
    assert (decision.outcome, decision.challenger_version) == ("failed", 2)
    [(_, finish)] = [a for a in audit_of(ws, decision.id) if a[0] == "retrain.finish"]
    assert finish["outcome"] == "failed" and "unreachable" in finish["details"]["rollout"]
    # Routing lived in the dead server's memory: a new one serves the champion, no canary.
    with Server(ws) as again:
        status = again.get("/v1/models/elec")
        answer = again.predict(frame.iloc[40_000:40_003, :-1])
    assert status["primary_version"] == 1 and "canary" not in status
    assert answer["model_version"] == 1


def test_a_canary_the_server_cannot_load_fails_and_the_champion_keeps_serving(
    served: Any, traffic: Any, elec_fit: Any
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)

    class DamagingCanary(CanaryPromoter):
        def promote(self, model: str, champion: int, challenger: int, *, reason: str) -> Rollout:
            damage(ws, challenger, "corrupt")  # the challenger's bytes rot before the canary
            return super().promote(model, champion, challenger, reason=reason)

    with Server(ws) as server, canary(ws, server.url, DamagingCanary, sleep=lambda s: None) as p:
        report = controller(ws, elec_fit, promoter=p).check_once(manual_reason="nightly")
        status = server.get("/v1/models/elec")
        answer = server.predict(frame.iloc[40_000:40_003, :-1])
    assert report.rollout["outcome"] == "failed"
    assert "refused PUT /v1/admin/models/elec/routing" in report.rollout["reason"]
    assert status["primary_version"] == 1 and "canary" not in status
    assert answer["model_version"] == 1
    assert_settled(ws, champion=1, aliases=[1])


def test_an_unreachable_server_stops_the_cycle_before_any_decision(
    served: Any, elec_fit: Any
) -> None:
    ws, _ = served
    with socket.socket() as sock:  # a port that nothing listens on any more
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with (
        canary(ws, url) as promoter,
        pytest.raises(
            UnavailableError, match=f"model server {url} unreachable for GET /v1/models/elec"
        ),
    ):
        controller(ws, elec_fit, promoter=promoter).check_once(manual_reason="nightly")
    assert Arbiter(ws, owner="check").decisions("elec") == []
    assert_settled(ws, champion=1, aliases=[1])


def test_a_server_lost_after_its_canary_promoted_still_moves_the_alias(served: Any) -> None:
    ws, _ = served
    second = ws.registry.register("elec", ws.registry.load("elec/1").native)
    promoted = {"state": "promoted", "percent": 1.0, "reason": "SLO held for 2 steps"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"name": "elec", "canary": promoted})
        if json.loads(request.content) == {"policy": "default"}:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={})

    client = httpx.Client(base_url="http://server.test", transport=httpx.MockTransport(handler))
    with canary(ws, "http://server.test", client=client) as promoter:
        rollout = promoter.promote("elec", 1, second.version, reason="better")
    assert rollout.outcome == "promoted" and rollout.reason == promoted["reason"]
    assert ws.registry.get("elec@champion").version == second.version


# -- processes that die or compete ------------------------------------------------------------
_CONTROLLER = textwrap.dedent(
    """
    import json, os, socket, sys
    from datetime import timedelta
    from sklearn.ensemble import RandomForestClassifier
    from driftline import Workspace
    from driftline.retraining import (
        Arbiter, ArbiterPolicy, DirectPromoter, RetrainController, RetrainPolicy)

    home, url, mode = sys.argv[1:4]
    owner = f"{socket.gethostname()}:{os.getpid()}"  # what `driftline retrain check` uses
    FEATURES = ["nswprice", "nswdemand", "period", "vicprice", "vicdemand", "transfer"]

    def fit(frame, params):
        if mode == "block-train":  # hold the lease until the test closes our stdin
            print("training", owner, flush=True)
            sys.stdin.readline()
        model = RandomForestClassifier(n_estimators=15, random_state=params["seed"], n_jobs=1)
        return model.fit(frame[FEATURES], frame["class"])

    class BlockingPromoter:
        def canary_active(self, model):
            return False

        def promote(self, model, champion, challenger, *, reason):
            print("promoting", owner, challenger, flush=True)
            sys.stdin.readline()  # the test kills us here
            raise SystemExit("stdin closed before the kill")

    with Workspace.open(home=home, db_url=url) as ws:
        promoter = BlockingPromoter() if mode == "block-promote" else DirectPromoter(ws)
        controller = RetrainController(
            ws,
            RetrainPolicy(model="elec", target="class", train_fn=fit, window_rows=3000),
            arbiter=Arbiter(ws, ArbiterPolicy(cooldown=timedelta(0)), owner=owner),
            triggers=(),
            promoter=promoter,
        )
        report = controller.check_once(manual_reason=f"{mode} by {owner}")
        print(json.dumps(report.to_dict(), default=str), flush=True)
    """
)


@contextmanager
def controller_process(ws: Workspace, mode: str) -> Iterator[subprocess.Popen[str]]:
    """A controller cycle in a child process on this workspace; killed if still running."""
    url = ws.store.engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, "-c", _CONTROLLER, str(ws.home), url, mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            process.communicate(timeout=WAIT_S)


def first_line(process: subprocess.Popen[str]) -> list[str]:
    """The child's first line of output, waiting at most WAIT_S for it."""
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], WAIT_S)
    line = process.stdout.readline() if readable else ""
    if not line:
        process.kill()
        _, err = process.communicate(timeout=WAIT_S)
        raise AssertionError(f"the controller process said nothing; stderr:\n{err}")
    return line.split()


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Let the child go on (close its stdin) and return its cycle report."""
    out, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.slow
def test_a_controller_killed_before_the_alias_move_is_cleaned_up_by_a_restart(
    served: Any, traffic: Any
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)
    with controller_process(ws, "block-promote") as first:
        word, dead_owner, challenger = first_line(first)  # challenger registered, promoting
        assert (word, challenger) == ("promoting", "2")
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=WAIT_S)
    assert first.returncode == -signal.SIGKILL
    # The half-done state: a started decision, a lease of a dead process, an unmoved alias.
    [half] = Arbiter(ws, owner="check").decisions("elec")
    assert (half.status, half.challenger_version, half.details["stage"]) == (
        "started",
        2,
        "promoting",
    )
    assert [lease["owner"] for lease in leases(ws)] == [dead_owner]
    assert ws.registry.get("elec@champion").version == 1  # the champion kept serving
    assert ws.registry.load("elec@champion").predict(frame.iloc[:3, :-1]) is not None

    with controller_process(ws, "direct") as restart:  # a fresh process, a new owner
        report = finish(restart)
    abandoned = next(d for d in Arbiter(ws, owner="check").decisions("elec") if d.id == half.id)
    assert (abandoned.status, abandoned.outcome, abandoned.challenger_version) == (
        "finished",
        "abandoned",
        2,
    )
    restarted_by = abandoned.details["abandoned_by"]
    assert restarted_by != dead_owner
    assert report["decision"]["allowed"] and report["rollout"]["outcome"] == "promoted"
    assert report["champion_version"] == 3  # retrained from scratch; v2 never served
    assert_settled(ws, champion=3, aliases=[1, 3])
    actions = audit_of(ws, half.id)
    assert [a for a, _ in actions] == [
        "retrain.decide",
        "retrain.progress",
        "retrain.progress",
        "retrain.finish",
    ]
    assert actions[-1][1]["outcome"] == "abandoned"
    assert actions[-1][1]["details"] == {"abandoned_by": restarted_by}
    [freed] = ws.audit.entries(subject="retrain-lease/elec")
    assert freed.payload["owner"] == dead_owner and freed.payload["freed_by"] == restarted_by


@pytest.mark.slow
def test_two_controllers_for_one_model_retrain_once(
    served: Any, traffic: Any, elec_fit: Any
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)
    with controller_process(ws, "block-train") as first:
        word, owner = first_line(first)  # it holds the lease and is training
        assert word == "training"
        # A second controller, in this process, while the first one is mid-retrain.
        second = controller(ws, elec_fit, owner="ctl-b").check_once(manual_reason="me too")
        report = finish(first)
    refused = second.decision
    assert not refused["allowed"] and refused["status"] == "refused"
    assert refused["reason"].startswith(f"single flight: {owner} holds the retrain lease")
    assert second.retrain is None and second.champion_version == 1
    assert report["decision"]["allowed"] and report["rollout"]["outcome"] == "promoted"
    assert_settled(ws, champion=2, aliases=[1, 2])
    decisions = Arbiter(ws, owner="check").decisions("elec")
    assert sorted((d.allowed, d.outcome) for d in decisions) == [(False, None), (True, "promoted")]
    decided = [
        e.payload["allowed"]
        for e in ws.audit.entries(newest_first=False)
        if e.action == "retrain.decide"
    ]
    assert decided == [True, False]
    assert ws.audit.entries(subject="retrain-lease/elec") == []  # the live lease was kept
    assert [e.payload["outcome"] for e in ws.audit.entries() if e.action == "retrain.finish"] == [
        "promoted"
    ]


def test_an_owner_that_outlived_its_lease_still_records_how_it_ended(workspace: Any) -> None:
    ws = workspace
    now = [datetime(2026, 5, 1, tzinfo=UTC)]
    ws.store.clock = lambda: now[0]
    policy = ArbiterPolicy(cooldown=timedelta(0), lease_ttl=timedelta(minutes=10))
    slow, other = Arbiter(ws, policy, owner="slow"), Arbiter(ws, policy, owner="other")
    drift = [TriggerResult("drift", True, "drift in 2 of 3")]
    started = slow.decide("m", drift, window_key="w1", data_snapshot="d")
    assert other.abandon_stale("m") == []  # a live lease is never taken away
    now[0] += timedelta(minutes=11)
    [abandoned] = other.abandon_stale("m")
    assert abandoned.id == started.id and abandoned.outcome == "abandoned"
    retry = other.decide("m", drift, window_key="w1", data_snapshot="d")
    assert retry.allowed  # the abandoned evidence was never answered, so it may retrain
    late = slow.finish(started.id, outcome="rejected", challenger_version=4)
    assert (late.outcome, late.details["abandoned_by"]) == ("rejected", "other")
    assert [lease["owner"] for lease in leases(ws)] == ["other"]  # not freed by the late one
    assert ws.audit.verify().intact


def test_a_canary_left_baking_by_a_controller_that_lost_the_server_is_ended_later(
    served: Any, traffic: Any, elec_fit: Any
) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000], every=FAST)
    with Server(ws) as server:
        with canary(ws, server.url) as lost:
            reachable = lost.client
            # After the canary started, this controller cannot reach the server any more
            # (port 9: nothing listens), while the server stays up and keeps baking.
            cut_off = httpx.Client(base_url="http://127.0.0.1:9", timeout=1)
            lost.sleep = lambda s: setattr(lost, "client", cut_off)
            report = controller(ws, elec_fit, promoter=lost).check_once(manual_reason="nightly")
            reachable.close()
        assert report.rollout["outcome"] == "failed"
        left = server.get("/v1/models/elec")
        assert left["canary"]["state"] == "baking" and left["routing"]["canary"] == 2
        with canary(ws, server.url) as fresh:
            later = controller(ws, elec_fit, owner="ctl-2", promoter=fresh).check_once()
        status = server.get("/v1/models/elec")
        answer = server.predict(frame.iloc[40_000:40_003, :-1])
    assert "ended the orphan canary of v2" in later.details["reconciled"]
    assert "canary" not in status and answer["model_version"] == 1
    assert_settled(ws, champion=1, aliases=[1])
    [entry] = [e for e in ws.audit.entries(subject="model/elec") if e.action == "retrain.reconcile"]
    assert "v2" in entry.payload["done"]


def test_a_canary_no_retrain_gave_up_on_is_left_alone(served: Any, elec_fit: Any) -> None:
    ws, frame = served
    by_hand = ws.datasets.add(frame.iloc[3000:6000], name="by-hand")
    run = ws.train(elec_fit, data=by_hand, name="elec", target="class", holdout=0.0)
    version = run.model_version.version
    # A retrain that failed with some other challenger: the controller has an orphan to
    # look for, but it is not the version a person is canarying by hand.
    arbiter = Arbiter(ws, owner="earlier")
    failed = arbiter.decide(
        "elec", [TriggerResult("manual", True, "test")], window_key="w", data_snapshot="0"
    )
    arbiter.finish(failed.id, outcome="failed", challenger_version=version + 1)
    spec = {
        "policy": "canary",
        "stable": 1,
        "canary": version,
        "steps": [0.5, 1.0],
        "bake_time_s": 60,
    }
    with Server(ws) as server, canary(ws, server.url) as promoter:
        promoter._call("PUT", "/v1/admin/models/elec/routing", json=spec)
        report = controller(ws, elec_fit, promoter=promoter).check_once()
        status = server.get("/v1/models/elec")
    assert "reconciled" not in report.details
    assert status["canary"]["state"] == "baking" and status["routing"]["canary"] == version
