from __future__ import annotations

from typing import Any

import pandas as pd

from driftline.retraining.arbiter import Arbiter
from driftline.retraining.executor import RetrainExecutor, RetrainPolicy
from driftline.retraining.triggers import TriggerResult


def test_a_retrain_on_recent_traffic_beats_the_stale_champion(served, traffic, elec_fit) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000])  # two years later: prices behave differently
    arbiter = Arbiter(ws, owner="test")
    decision = arbiter.decide(
        "elec",
        [TriggerResult("drift", True, "drift in 3 of 3")],
        window_key="w1",
        data_snapshot="s1",
    )
    policy = RetrainPolicy(model="elec", target="class", train_fn=elec_fit, window_rows=3000)
    outcome = RetrainExecutor(ws, policy, arbiter=arbiter).execute(decision)
    assert outcome.status == "promote", outcome.reason
    assert outcome.challenger_version == 2 and outcome.comparison["ci_low"] > 0
    challenger = ws.registry.get("elec/2")
    upstream = ws.lineage.upstream(challenger.id).ids
    assert decision.id in upstream  # model <- run <- decision
    train_data = ws.datasets.get(outcome.train_data)
    assert train_data.rows == 2100 and train_data.id in upstream
    assert ws.registry.get("elec@champion").version == 1  # promotion is the canary's job


def test_too_little_labelled_traffic_fails_cleanly(served, traffic, elec_fit) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:30_100])
    arbiter = Arbiter(ws, owner="test")
    decision = arbiter.decide(
        "elec", [TriggerResult("manual", True, "try")], window_key="w", data_snapshot="s"
    )
    policy = RetrainPolicy(model="elec", target="class", train_fn=elec_fit)
    outcome = RetrainExecutor(ws, policy, arbiter=arbiter).execute(decision)
    assert outcome.status == "failed" and "only 100 labelled predictions" in outcome.reason
    [stored] = [d for d in arbiter.decisions("elec") if d.id == decision.id]
    assert (stored.status, stored.outcome) == ("finished", "failed")
    assert ws.registry.get("elec@champion").version == 1


def test_a_failing_training_function_keeps_the_champion(served, traffic, elec_fit) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:31_000])
    arbiter = Arbiter(ws, owner="test")
    decision = arbiter.decide(
        "elec", [TriggerResult("manual", True, "try")], window_key="w", data_snapshot="s"
    )

    def broken(frame: pd.DataFrame, params: dict[str, Any]) -> Any:
        raise RuntimeError("out of memory")

    policy = RetrainPolicy(model="elec", target="class", train_fn=broken)
    outcome = RetrainExecutor(ws, policy, arbiter=arbiter).execute(decision)
    assert outcome.status == "failed" and "out of memory" in outcome.reason
    assert [v.version for v in ws.registry.list("elec")] == [1]
    assert ws.audit.verify().intact
