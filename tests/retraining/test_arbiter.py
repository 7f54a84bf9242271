from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from driftline import Workspace
from driftline.exceptions import ValidationError
from driftline.retraining.arbiter import Arbiter, ArbiterPolicy
from driftline.retraining.triggers import TriggerResult

DRIFT = TriggerResult("drift", True, "drift in 2 of the last 3 windows")
MANUAL = TriggerResult("manual", True, "requested: new feature")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(workspace: Workspace) -> Clock:
    clock = Clock()
    workspace.store.clock = clock
    return clock


def arbiter(ws: Workspace, owner: str = "a", **policy: object) -> Arbiter:
    defaults = {"cooldown": timedelta(hours=1), "budget": 3, "breaker_after": 2}
    return Arbiter(ws, ArbiterPolicy(**{**defaults, **policy}), owner=owner)  # type: ignore[arg-type]


def test_allowed_decision_takes_the_lease_and_is_recorded(
    workspace: Workspace, clock: Clock
) -> None:
    first = arbiter(workspace, cooldown=timedelta(0)).decide(
        "m", [DRIFT], window_key="w1", data_snapshot="d1"
    )
    assert first.allowed and first.status == "started" and "drift" in first.reason
    other = arbiter(workspace, owner="b", cooldown=timedelta(0)).decide(
        "m", [DRIFT], window_key="w2", data_snapshot="d2"
    )
    assert not other.allowed and "single flight: a holds" in other.reason
    assert [d.allowed for d in arbiter(workspace).decisions("m")] == [False, True]
    actions = [e.action for e in workspace.audit.entries()]
    assert actions.count("retrain.decide") == 2


def test_same_evidence_never_retrains_twice(workspace: Workspace, clock: Clock) -> None:
    a = arbiter(workspace)
    first = a.decide("m", [DRIFT], window_key="w1", data_snapshot="d1")
    a.finish(first.id, outcome="promoted", challenger_version=2)
    clock.now += timedelta(days=2)
    again = a.decide("m", [DRIFT], window_key="w1", data_snapshot="d1")
    assert not again.allowed and first.id in again.reason


def test_cooldown_and_budget(workspace: Workspace, clock: Clock) -> None:
    a = arbiter(workspace, budget=2, cooldown=timedelta(hours=1))
    for i in range(2):
        d = a.decide("m", [DRIFT], window_key=f"w{i}", data_snapshot="d")
        assert d.allowed
        a.finish(d.id, outcome="promoted")
        cooled = a.decide("m", [DRIFT], window_key=f"x{i}", data_snapshot="d")
        assert not cooled.allowed and cooled.reason.startswith("cooldown")
        clock.now += timedelta(hours=2)
    spent = a.decide("m", [DRIFT], window_key="w9", data_snapshot="d")
    assert not spent.allowed and spent.reason.startswith("budget: 2 retrains")
    assert a.decide("m", [MANUAL], window_key="w9", data_snapshot="d").allowed  # a person may


def test_breaker_opens_after_rejections_until_reset(workspace: Workspace, clock: Clock) -> None:
    a = arbiter(workspace, cooldown=timedelta(0), budget=10, breaker_after=2)
    for i, outcome in enumerate(["rejected", "rolled_back"]):
        d = a.decide("m", [DRIFT], window_key=f"w{i}", data_snapshot="d")
        a.finish(d.id, outcome=outcome)
        clock.now += timedelta(minutes=1)
    assert a.breaker_open("m")
    blocked = a.decide("m", [DRIFT], window_key="w3", data_snapshot="d")
    assert not blocked.allowed and "circuit breaker open" in blocked.reason
    a.reset_breaker("m", reason="looked at it: data fixed upstream")
    clock.now += timedelta(minutes=1)
    assert not a.breaker_open("m")
    assert a.decide("m", [DRIFT], window_key="w4", data_snapshot="d").allowed


def test_canary_blocks_and_restart_abandons(workspace: Workspace, clock: Clock) -> None:
    a = arbiter(workspace)
    baking = a.decide("m", [DRIFT], window_key="w", data_snapshot="d", canary_active=True)
    assert not baking.allowed and "canary" in baking.reason
    started = a.decide("m", [DRIFT], window_key="w", data_snapshot="d")
    restarted = arbiter(workspace)  # the same owner after a crash
    [abandoned] = restarted.abandon_stale("m")
    assert abandoned.id == started.id and abandoned.outcome == "abandoned"
    assert (
        arbiter(workspace, owner="b")
        .decide("m", [DRIFT], window_key="w2", data_snapshot="d2")
        .reason.startswith("cooldown")
    )


def test_expired_lease_can_be_taken_over(workspace: Workspace, clock: Clock) -> None:
    arbiter(workspace, lease_ttl=timedelta(minutes=10), cooldown=timedelta(0)).decide(
        "m", [DRIFT], window_key="w1", data_snapshot="d"
    )
    clock.now += timedelta(minutes=11)
    b = arbiter(workspace, owner="b", cooldown=timedelta(0))
    assert b.decide("m", [DRIFT], window_key="w2", data_snapshot="d").allowed


def test_bad_calls(workspace: Workspace, clock: Clock) -> None:
    a = arbiter(workspace)
    with pytest.raises(ValidationError, match="fired trigger"):
        a.decide("m", [TriggerResult("drift", False, "quiet")], window_key="w", data_snapshot="d")
    d = a.decide("m", [DRIFT], window_key="w", data_snapshot="d")
    with pytest.raises(ValidationError, match="outcome"):
        a.finish(d.id, outcome="great")


_RACER = textwrap.dedent(
    """
    import sys
    from driftline import Workspace
    from datetime import timedelta
    from driftline.retraining.arbiter import Arbiter, ArbiterPolicy
    from driftline.retraining.triggers import TriggerResult
    ws = Workspace.open(home=sys.argv[1], db_url=sys.argv[2])
    policy = ArbiterPolicy(cooldown=timedelta(0))  # only the lease stands between them
    d = Arbiter(ws, policy, owner=sys.argv[3]).decide(
        "m", [TriggerResult("drift", True, "x")], window_key=sys.argv[3], data_snapshot="d")
    print("allowed" if d.allowed else "refused")
    """
)


@pytest.mark.slow
def test_two_controllers_on_two_processes_never_both_retrain(
    workspace: Workspace, tmp_path: object
) -> None:
    url = str(workspace.store.engine.url.render_as_string(hide_password=False))
    home = str(workspace.home)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, home, url, f"owner{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outcomes = [p.communicate(timeout=120)[0].strip() for p in racers]
    assert sorted(outcomes) == ["allowed", "refused", "refused", "refused"]
