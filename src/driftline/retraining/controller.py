"""The controller: one cycle of "should this model retrain, and if so, retrain it safely".

``check_once`` gathers the evidence (drift events of the model, performance of the labelled
recent traffic against the champion's registered metrics, label volume, a manual request:
``manual_reason`` or the model's pending ``POST /v1/retrain`` requests, which the cycle marks
consumed by its decision),
evaluates the policy's triggers, asks the arbiter, and for an allowed decision runs the
executor and the promoter (canary or direct). Everything it decides is stored by the arbiter
and linked in lineage by the executor; the cycle returns a JSON-ready account of it. It is
what ``driftline retrain check --once`` runs from cron, Airflow or Prefect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from driftline.retraining.arbiter import Arbiter, Decision
from driftline.retraining.executor import RetrainExecutor, RetrainPolicy
from driftline.retraining.requests import consume_requests, pending_requests
from driftline.retraining.rollout import DirectPromoter, Promoter
from driftline.retraining.triggers import (
    DriftTrigger,
    DriftWindow,
    FollowUpTrigger,
    PerformanceTrigger,
    Trigger,
    TriggerContext,
)
from driftline.store._drift_tables import drift_events

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["CycleReport", "RetrainController", "default_triggers"]

# Decisions read per cycle (newest first): enough for the episode since the last change;
# the newest few are where a failed or abandoned retrain's canary may still be running.
_DECISIONS_READ = 200
_DECISIONS_RECONCILED = 20


def default_triggers(policy: RetrainPolicy) -> tuple[Trigger, ...]:
    """Drift persisting 2 of 3 windows, a 5% accuracy drop, and follow-ups after a change:
    each third of the training window of new labels, until the window is past the change.

    >>> policy = RetrainPolicy(model="m", target="y", train_fn=print, window_rows=5000)
    >>> default_triggers(policy)[-1]
    FollowUpTrigger(every_rows=1667, count=3, name='follow_up')
    """
    every = max(policy.min_rows, -(-policy.window_rows // 3))
    return (
        DriftTrigger(),
        PerformanceTrigger(metric=policy.metric),
        FollowUpTrigger(every_rows=every, count=-(-policy.window_rows // every)),
    )


@dataclass(frozen=True)
class CycleReport:
    """What one cycle saw and did."""

    model: str
    triggers: list[dict[str, Any]]
    decision: dict[str, Any] | None = None
    retrain: dict[str, Any] | None = None
    rollout: dict[str, Any] | None = None
    champion_version: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


class RetrainController:
    """Evidence -> triggers -> arbiter -> executor -> promoter, for one model."""

    def __init__(
        self,
        workspace: Workspace,
        policy: RetrainPolicy,
        *,
        arbiter: Arbiter,
        triggers: Sequence[Trigger] | None = None,
        promoter: Promoter | None = None,
    ) -> None:
        self.workspace = workspace
        self.policy = policy
        self.arbiter = arbiter
        self.triggers = tuple(triggers) if triggers is not None else default_triggers(policy)
        self.promoter = promoter or DirectPromoter(workspace)
        self.executor = RetrainExecutor(workspace, policy, arbiter=arbiter)
        self._labelled_total = 0

    def check_once(self, *, manual_reason: str | None = None) -> CycleReport:
        """Run one cycle now (the workspace clock's now)."""
        model = self.policy.model
        # A retrain left half done by a controller that died is abandoned, its lease freed,
        # and a canary it left on the server is ended.
        self.arbiter.abandon_stale(model)
        # One read of the recent decisions serves the tidy-up and the triggers' context.
        decisions = self.arbiter.decisions(model, limit=_DECISIONS_READ)
        tidied = self._reconcile(model, decisions[:_DECISIONS_RECONCILED])
        report = self._cycle(model, manual_reason, decisions)
        if tidied:
            report.details["reconciled"] = tidied
        return report

    def _reconcile(self, model: str, decisions: Sequence[Decision]) -> str | None:
        """End a server's canary of a challenger whose retrain failed or was abandoned."""
        if any(d.status == "started" for d in decisions):
            return None  # a live retrain (ours or another controller's) owns the routing
        orphans = {
            d.challenger_version
            for d in decisions
            if d.outcome in ("failed", "abandoned") and d.challenger_version is not None
        }
        reconcile = getattr(self.promoter, "reconcile", None)  # optional for own promoters
        done = reconcile(model, orphans) if orphans and reconcile is not None else None
        if done:
            with self.workspace.store.write() as conn:
                self.workspace.audit.append(
                    conn,
                    action="retrain.reconcile",
                    subject=f"model/{model}",
                    payload={"done": done},
                )
        return done

    def _cycle(
        self, model: str, manual_reason: str | None, decisions: Sequence[Decision]
    ) -> CycleReport:
        requests = pending_requests(self.workspace, model)
        if requests:
            asked = "; ".join(f"{r.reason} (by {r.requested_by})" for r in requests)
            manual_reason = f"{manual_reason}; {asked}" if manual_reason else asked
        champion = self.workspace.registry.get(f"models:/{model}@champion")
        context, events = self._context(champion, manual_reason, decisions)
        results = [t.evaluate(context) for t in self.triggers]
        if manual_reason:
            from driftline.retraining.triggers import ManualTrigger

            results.append(ManualTrigger().evaluate(context))
        seen = [r.__dict__ for r in results]
        if not any(r.fired for r in results):
            return CycleReport(model, seen, champion_version=champion.version)
        window = (events[-1].event_id if events else None) or context.now.isoformat()
        decision = self.arbiter.decide(
            model,
            results,
            # Each request is its own evidence: the same request is never retrained twice.
            window_key=f"requests:{','.join(r.id for r in requests)}" if requests else window,
            data_snapshot=f"{context.labelled_rows}",
            canary_active=self.promoter.canary_active(model),
            evidence={"labelled_total": self._labelled_total},
        )
        consume_requests(self.workspace, requests, decision)
        if not decision.allowed:
            return CycleReport(model, seen, decision.to_dict(), champion_version=champion.version)
        # The drift events behind the decision are the ones the firing triggers cite.
        fired_events = tuple(
            dict.fromkeys(
                event for r in results if r.fired for event in r.details.get("events", ())
            )
        )
        outcome = self.executor.execute(decision, drift_events=fired_events)
        if outcome.status != "promote" or outcome.challenger_version is None:
            return CycleReport(
                model,
                seen,
                decision.to_dict(),
                outcome.to_dict(),
                champion_version=champion.version,
            )
        rollout = self.promoter.promote(
            model, champion.version, outcome.challenger_version, reason=outcome.reason
        )
        self.arbiter.finish(
            decision.id,
            outcome=rollout.outcome,
            challenger_version=outcome.challenger_version,
            details={"rollout": rollout.reason},
        )
        now_serving = self.workspace.registry.get(f"models:/{model}@champion").version
        return CycleReport(
            model,
            seen,
            decision.to_dict(),
            outcome.to_dict(),
            {
                "outcome": rollout.outcome,
                "reason": rollout.reason,
                "history": list(rollout.history),
            },
            now_serving,
        )

    def _context(
        self, champion: Any, manual: str | None, decisions: Sequence[Decision]
    ) -> tuple[TriggerContext, list[DriftWindow]]:
        ws = self.workspace
        now = ws.store.clock()
        trained_at = datetime.fromisoformat(champion.created_at)
        with ws.store.read() as conn:
            rows = (
                conn.execute(
                    select(drift_events)
                    .where(
                        drift_events.c.model_name == self.policy.model,
                        drift_events.c.model_version == champion.version,
                    )
                    .order_by(drift_events.c.window_end)
                )
                .mappings()
                .all()
            )
        windows = [
            DriftWindow(
                datetime.fromisoformat(r["window_end"]),
                bool(r["drift_detected"]),
                float(r["drift_share"]),
                r["id"],
            )
            for r in rows
        ]
        current, labelled, total = self._recent_performance(champion.version)
        self._labelled_total = total
        episode = _episode(decisions)
        context = TriggerContext(
            now=now,
            last_trained_at=trained_at,
            drift_windows=windows,
            baseline_metrics=self._baseline(champion, decisions),
            current_metrics=current,
            labelled_rows=labelled,
            # Never negative, even after the log's retention pruned old segments.
            new_labelled_rows=max(0, total - episode.labelled_at_last_retrain),
            manual_reason=manual,
            change_promoted_at=episode.change_promoted_at,
            follow_ups=episode.follow_ups,
        )
        return context, windows

    def _baseline(self, champion: Any, decisions: Sequence[Decision]) -> dict[str, float]:
        """The champion's registered metrics; for a champion trained by a retrain (which
        keeps no holdout of its own), its score on the holdout it was compared on."""
        baseline = {k: float(v) for k, v in champion.metrics.items() if isinstance(v, int | float)}
        if self.policy.metric in baseline:
            return baseline
        for decision in decisions:
            comparison = decision.details.get("comparison") or {}
            value = comparison.get("challenger_value")
            if decision.challenger_version == champion.version and value is not None:
                baseline[self.policy.metric] = float(value)
                break
        return baseline

    def _recent_performance(self, version: int) -> tuple[dict[str, float], int, int]:
        """The champion's metrics on its latest labelled rows (at most the policy's window),
        how many rows those are, and how many labelled predictions the model has in all."""
        from driftline.predlog import join_feedback, read_feedback, read_predictions
        from driftline.training import evaluate

        ws = self.workspace
        folder, labels = ws.home / "predictions", ws.home / "feedback"
        if not folder.exists() or not labels.exists():
            return {}, 0, 0
        served = read_predictions(folder, model=self.policy.model)
        if served.empty:
            return {}, 0, 0
        feedback = read_feedback(labels)
        if feedback.empty:
            return {}, 0, 0
        joined = join_feedback(served, feedback, how="inner")
        total = int(joined["prediction_id"].nunique()) if not joined.empty else 0
        joined = joined[joined["version"] == version]
        joined = joined.sort_values("time").tail(self.policy.window_rows)
        if joined.empty:
            return {}, 0, total
        truth = joined["label"].astype(str).to_numpy()
        predicted = joined["prediction"].astype(str).to_numpy()
        overall = evaluate(self.policy.task, truth, predicted).overall
        return {k: float(v) for k, v in overall.items() if v is not None}, len(joined), total


@dataclass(frozen=True)
class _Episode:
    """Where the model stands after its last change-driven retrain (see FollowUpTrigger)."""

    change_promoted_at: datetime | None = None
    follow_ups: int = 0
    labelled_at_last_retrain: int = 0


def _episode(decisions: Sequence[Decision]) -> _Episode:
    """From the stored decisions (newest first): the last promoted retrain of a change that
    hurt, the follow-up retrains since, and the labelled rows when the latest retrain
    started."""
    labelled_at: int | None = None
    follow_ups = 0
    for decision in decisions:
        if not decision.allowed:
            continue
        if labelled_at is None:
            labelled_at = int(decision.details.get("labelled_total", 0))
        fired = {t.get("trigger") for t in decision.triggers}
        if "follow_up" in fired:
            follow_ups += 1
            continue
        improvement = (decision.details.get("comparison") or {}).get("difference") or 0.0
        # Follow up a change that hurt: a measured drop in performance, or a drift whose
        # retrain beat the stale model (a drift the model did not mind needs no follow-up).
        hurt = "performance" in fired or ("drift" in fired and improvement > 0)
        if hurt and decision.outcome == "promoted":
            return _Episode(datetime.fromisoformat(decision.time), follow_ups, labelled_at)
        break
    return _Episode(None, 0, labelled_at or 0)
