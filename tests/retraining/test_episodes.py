"""How the controller reads its own decisions: follow-up episodes and new labels."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from driftline.retraining.arbiter import Decision
from driftline.retraining.controller import RetrainController, _episode


def decision(
    n: int,
    fired: list[str],
    *,
    outcome: str | None = "promoted",
    allowed: bool = True,
    challenger: int | None = None,
    **details: Any,
) -> Decision:
    return Decision(
        id=f"d{n}",
        model="m",
        time=f"2026-03-02T12:{n:02d}:00+00:00",
        allowed=allowed,
        reason="",
        triggers=[{"trigger": t, "fired": True} for t in fired],
        idempotency_key=None,
        status="finished" if allowed else "refused",
        outcome=outcome,
        challenger_version=challenger,
        details=details,
    )


def test_a_performance_drop_that_was_retrained_opens_an_episode() -> None:
    newest_first = [
        decision(3, ["follow_up"], outcome="rejected", labelled_total=3000),
        decision(2, ["follow_up"], labelled_total=2000),
        decision(1, ["performance"], labelled_total=1000, comparison={"difference": 0.2}),
    ]
    episode = _episode(newest_first)
    assert episode.change_promoted_at is not None
    assert episode.change_promoted_at.minute == 1
    assert episode.follow_ups == 2
    assert episode.labelled_at_last_retrain == 3000


def test_a_drift_the_model_did_not_mind_needs_no_follow_up() -> None:
    tie = decision(1, ["drift"], labelled_total=500, comparison={"difference": 0.0})
    assert _episode([tie]).change_promoted_at is None
    better = decision(1, ["drift"], labelled_total=500, comparison={"difference": 0.03})
    assert _episode([better]).change_promoted_at is not None


def test_refusals_are_skipped_and_a_rejected_change_ends_the_search() -> None:
    newest_first = [
        decision(4, ["drift"], outcome=None, allowed=False),
        decision(3, ["performance"], outcome="rejected", labelled_total=900),
        decision(1, ["performance"], labelled_total=100),
    ]
    episode = _episode(newest_first)
    assert episode.change_promoted_at is None
    assert episode.labelled_at_last_retrain == 900


def test_no_decisions_means_every_label_is_new() -> None:
    assert _episode([]).labelled_at_last_retrain == 0


def test_a_retrained_champion_is_judged_against_its_holdout_score() -> None:
    # Retrains keep no holdout of their own: without this fallback a promoted challenger
    # has no baseline and the performance trigger could never fire again.
    controller = SimpleNamespace(policy=SimpleNamespace(metric="accuracy"))
    decisions = [
        decision(3, ["drift"], challenger=4, comparison={"challenger_value": 0.7}),
        decision(2, ["performance"], challenger=3, comparison={"challenger_value": 0.81}),
    ]
    retrained = SimpleNamespace(version=3, metrics={})
    baseline = RetrainController._baseline(controller, retrained, decisions)  # type: ignore[arg-type]
    assert baseline == {"accuracy": 0.81}
    registered = SimpleNamespace(version=3, metrics={"accuracy": 0.9, "note": "text"})
    baseline = RetrainController._baseline(controller, registered, decisions)  # type: ignore[arg-type]
    assert baseline == {"accuracy": 0.9}
