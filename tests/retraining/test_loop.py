"""The closed loop: cycles, an early wake for a retrain request, stopping, errors, cleanup."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import insert

from driftline import Workspace
from driftline.exceptions import UnavailableError
from driftline.retraining import Arbiter, ClosedLoop, LoopStopped, stoppable_sleep
from driftline.retraining.triggers import TriggerResult
from driftline.store import iso_utc
from driftline.store._retraining_tables import retrain_leases, retrain_requests


class Controller:
    """Stands in for a RetrainController: counts checks, can fail or run a callback."""

    def __init__(self, ws: Workspace, *, fail: BaseException | None = None) -> None:
        self.workspace = ws
        self.policy = SimpleNamespace(model="m")
        self.arbiter = Arbiter(ws, owner="loop")
        self.fail = fail
        self.checks = 0

    def check_once(self) -> Any:
        self.checks += 1
        if self.fail is not None and self.checks == 1:
            raise self.fail
        return SimpleNamespace(to_dict=lambda: {"check": self.checks})


class FakeTime:
    """A monotonic clock that only moves when the loop waits; ``at[n]`` runs on the n-th wait."""

    def __init__(self, at: dict[int, Any] | None = None) -> None:
        self.now = 0.0
        self.waits = 0
        self.at = at or {}

    def monotonic(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits += 1
        self.now += seconds
        if self.waits in self.at:
            self.at[self.waits]()
        return False


def request(ws: Workspace, model: str = "m") -> None:
    with ws.store.write() as conn:
        conn.execute(
            insert(retrain_requests).values(
                id=f"req-{model}",
                model_name=model,
                reason="asked",
                requested_by="test",
                requested_at=iso_utc(ws.store.clock()),
            )
        )


def loop(ws: Workspace, time: FakeTime, controller: Controller | None = None) -> ClosedLoop:
    return ClosedLoop(
        controller or Controller(ws),  # type: ignore[arg-type]
        interval="1h",
        poll_s=1.0,
        wait=time.wait,
        monotonic=time.monotonic,
    )


def test_cycles_follow_the_interval(workspace: Workspace) -> None:
    time = FakeTime()
    cycles: list[Any] = []
    assert loop(workspace, time).run(cycles=3, on_cycle=cycles.append) == 3
    assert [c.woken_by for c in cycles] == ["start", "interval", "interval"]
    assert time.now == pytest.approx(7200.0)  # two full hours between three cycles


def test_a_pending_request_wakes_the_loop_early(workspace: Workspace) -> None:
    time = FakeTime(at={3: lambda: request(workspace, "other"), 5: lambda: request(workspace)})
    cycles: list[Any] = []
    loop(workspace, time).run(cycles=2, on_cycle=cycles.append)
    assert [c.woken_by for c in cycles] == ["start", "request"]
    assert time.now == pytest.approx(5.0)  # polled every second, not an hour later
    # (another model's request did not wake this loop)


def test_stop_ends_the_wait_and_a_canary_sleep(workspace: Workspace) -> None:
    time = FakeTime()
    closed = loop(workspace, time)
    time.at[2] = closed.stop
    assert closed.run() == 1  # stopped two seconds into the hour's wait
    assert time.now == pytest.approx(2.0)
    assert closed.run() == 0  # a stopped loop runs no cycle
    stop = threading.Event()
    stop.set()
    with pytest.raises(LoopStopped):
        stoppable_sleep(stop)(3600)
    stoppable_sleep(threading.Event())(0)  # not stopped: just returns


def test_a_failing_check_is_reported_and_the_loop_goes_on(workspace: Workspace) -> None:
    controller = Controller(workspace, fail=UnavailableError("server away"))
    cycles: list[Any] = []
    loop(workspace, FakeTime(), controller).run(cycles=2, on_cycle=cycles.append)
    assert cycles[0].errors == ("retrain check: UnavailableError: server away",)
    assert cycles[0].retrain is None and cycles[1].errors == ()
    failing = loop(workspace, FakeTime(), Controller(workspace, fail=UnavailableError("x")))
    with pytest.raises(UnavailableError):
        failing.run_once(raise_errors=True)


def test_a_stop_mid_canary_unwinds_and_close_frees_the_lease(workspace: Workspace) -> None:
    controller = Controller(workspace, fail=LoopStopped("stopped while waiting"))
    decision = controller.arbiter.decide(
        "m", [TriggerResult("manual", True, "asked")], window_key="w", data_snapshot="0"
    )
    closed = loop(workspace, FakeTime(), controller)
    assert closed.run() == 0  # the canary sleep raised: the loop ends without a report
    [abandoned] = closed.close()
    assert abandoned.id == decision.id and abandoned.outcome == "abandoned"
    with workspace.store.read() as conn:
        assert conn.execute(retrain_leases.select()).first() is None
