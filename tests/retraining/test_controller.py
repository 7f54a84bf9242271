from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftline.monitoring.signals.drift_windows import DriftMonitor
from driftline.retraining.arbiter import Arbiter, ArbiterPolicy
from driftline.retraining.controller import RetrainController
from driftline.retraining.executor import RetrainPolicy
from driftline.retraining.triggers import DriftTrigger


def test_drift_leads_to_a_retrain_and_a_promotion_all_linked(served, traffic, elec_fit) -> None:
    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000])
    events = DriftMonitor(ws, "elec", window=1000).run_once(
        now=datetime.now(UTC) + timedelta(days=90)
    )
    assert events and all(e.drift_detected for e in events)
    controller = RetrainController(
        ws,
        RetrainPolicy(model="elec", target="class", train_fn=elec_fit, window_rows=3000),
        arbiter=Arbiter(ws, ArbiterPolicy(cooldown=timedelta(0)), owner="ctl"),
        triggers=(DriftTrigger(n=2, m=3),),
    )
    report = controller.check_once()
    assert report.decision["allowed"] and report.retrain["status"] == "promote"
    assert report.rollout["outcome"] == "promoted" and report.champion_version == 2
    history = ws.registry.alias_history("elec", "champion")
    assert [h.to_version for h in history] == [1, 2]
    champion = ws.registry.get("elec@champion")
    upstream = ws.lineage.upstream(champion.id).ids
    assert report.decision["id"] in upstream
    assert {e.id for e in events} <= upstream  # the drift that caused this model to exist
    quiet = controller.check_once()  # the new champion has no drift events yet
    assert quiet.decision is None and quiet.champion_version == 2


def test_no_evidence_means_no_decision(served, elec_fit) -> None:
    ws, _ = served
    controller = RetrainController(
        ws,
        RetrainPolicy(model="elec", target="class", train_fn=elec_fit),
        arbiter=Arbiter(ws, owner="ctl"),
    )
    report = controller.check_once()
    assert report.decision is None and all(not t["fired"] for t in report.triggers)
    manual = controller.check_once(manual_reason="new upstream feed")
    assert manual.decision["allowed"]
    assert manual.retrain["status"] == "failed"  # nothing logged to retrain on
    assert "labelled predictions" in manual.retrain["reason"]


def test_a_served_prediction_explains_itself_back_to_data_and_drift(
    served, traffic, elec_fit
) -> None:
    from driftline.ids import uuid7
    from driftline.predlog import PredictionLogWriter
    from driftline.serving.explain import explain_prediction

    ws, frame = served
    traffic(ws, frame.iloc[30_000:33_000])
    events = DriftMonitor(ws, "elec", window=1000).run_once(
        now=datetime.now(UTC) + timedelta(days=90)
    )
    controller = RetrainController(
        ws,
        RetrainPolicy(model="elec", target="class", train_fn=elec_fit, window_rows=3000),
        arbiter=Arbiter(ws, ArbiterPolicy(cooldown=timedelta(0)), owner="ctl"),
        triggers=(DriftTrigger(n=2, m=3),),
    )
    report = controller.check_once()
    pid = str(uuid7())
    with PredictionLogWriter(ws.home / "predictions") as log:
        log.submit(
            [
                {
                    "model": "elec",
                    "version": 2,
                    "prediction_id": pid,
                    "prediction": "UP",
                    "features": frame.iloc[40_000][["nswprice"]].to_dict(),
                }
            ]
        )
    chain = explain_prediction(ws, pid)
    assert chain["model_version"]["uri"] == "models:/elec/2"
    assert chain["runs"][0]["id"] == chain["model_version"]["run_id"]
    train_data = ws.datasets.get(report.retrain["train_data"])
    assert chain["dataset_versions"][0]["content_hash"] == train_data.sha256
    assert chain["retrain_decisions"][0]["id"] == report.decision["id"]
    cited = {e["id"] for e in chain["drift_events"] if e["hops"] <= 4}
    assert cited and cited <= {e.id for e in events}
