"""Executing an allowed retrain: the seed's five steps, for real.

1. Prepare data by the policy's window: the most recent labelled predictions of the model
   (features joined with their feedback labels), optionally with the original training data,
   registered as a dataset version that must pass the model's quality suite.
2. Train with the policy's training function (a recorded run on that dataset version).
3. Evaluate the challenger against the champion on the newest labelled rows (a holdout the
   challenger never trained on) with the statistical comparison.
4. Say whether to promote (the controller then runs the canary) or record the rejection.
5. Link it all in lineage: drift events -> decision -> dataset versions -> run -> model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftline.exceptions import ValidationError
from driftline.lineage import NodeKind, Relation

if TYPE_CHECKING:
    from driftline.data import DatasetVersion
    from driftline.registry import ModelVersion
    from driftline.retraining.arbiter import Arbiter, Decision
    from driftline.training import Comparison
    from driftline.workspace import Workspace

__all__ = ["RetrainExecutor", "RetrainOutcome", "RetrainPolicy"]

_GATE_KINDS = frozenset({"schema", "completeness", "row_count"})


@dataclass(frozen=True)
class RetrainPolicy:
    """How to retrain one model: what data, which function, how to judge the result."""

    model: str
    target: str
    train_fn: Callable[[pd.DataFrame, dict[str, Any]], Any]
    task: str = "classification"
    params: dict[str, Any] = field(default_factory=dict)
    window_rows: int = 5000
    holdout_share: float = 0.3
    include_original: bool = False
    metric: str = "accuracy"
    min_improvement: float = 0.0
    slices: tuple[str, ...] = ()
    min_rows: int = 200

    def __post_init__(self) -> None:
        if not 0 < self.holdout_share < 1:
            raise ValidationError(f"holdout_share must be in (0, 1), got {self.holdout_share}")
        if self.window_rows < self.min_rows:
            raise ValidationError("window_rows must be at least min_rows")


@dataclass(frozen=True)
class RetrainOutcome:
    """What an executed retrain produced and decided."""

    decision_id: str
    status: str  # "promote", "rejected", "failed"
    reason: str
    champion_version: int | None = None
    challenger_version: int | None = None
    comparison: dict[str, Any] | None = None
    train_data: str | None = None
    holdout_data: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


class RetrainExecutor:
    """Runs steps 1-4 for one allowed decision."""

    def __init__(
        self,
        workspace: Workspace,
        policy: RetrainPolicy,
        *,
        arbiter: Arbiter,
        predictions_dir: Path | None = None,
        feedback_dir: Path | None = None,
    ) -> None:
        self.workspace = workspace
        self.policy = policy
        self.arbiter = arbiter
        self.predictions_dir = predictions_dir or workspace.home / "predictions"
        self.feedback_dir = feedback_dir or workspace.home / "feedback"

    def execute(self, decision: Decision, *, drift_events: tuple[str, ...] = ()) -> RetrainOutcome:
        """Prepare, gate, train and compare. Whatever goes wrong (a training function that
        raises, a challenger that cannot load or predict, a store error) finishes the decision
        as failed with the reason; the champion is never touched here."""
        champion: ModelVersion | None = None
        try:
            self._record_decision(decision, drift_events)
            champion = self.workspace.registry.get(f"models:/{self.policy.model}@champion")
            done = self._steps(decision, champion)
        except Exception as exc:  # any failure ends this retrain, never the controller
            return self._fail(decision, _describe(exc), champion.version if champion else None)
        if isinstance(done, str):
            return self._fail(decision, done, champion.version)
        train, holdout, challenger, comparison = done
        outcome = RetrainOutcome(
            decision.id,
            "promote" if comparison.promote else "rejected",
            _comparison_reason(comparison),
            champion.version,
            challenger.version,
            comparison.to_dict(),
            train.ref,
            holdout.ref,
        )
        if comparison.promote:
            # From here the promoter owns it; a crash now leaves this stage for a restart.
            self.arbiter.progress(
                decision.id,
                stage="promoting",
                challenger_version=challenger.version,
                details={"comparison": _brief(comparison)},
            )
        else:
            self.arbiter.finish(
                decision.id,
                outcome="rejected",
                challenger_version=challenger.version,
                details={"comparison": _brief(comparison)},
            )
        return outcome

    # -- steps -----------------------------------------------------------------------------
    def _steps(
        self, decision: Decision, champion: ModelVersion
    ) -> str | tuple[DatasetVersion, DatasetVersion, ModelVersion, Comparison]:
        """Steps 1-3; a string says why the data gate stopped the retrain."""
        ws, policy = self.workspace, self.policy
        train, holdout = self._prepare(decision, champion.dataset_version_id)
        gate = self._quality_gate(train, champion.dataset_version_id)
        if gate is not None:
            return gate
        run = ws.train(
            policy.train_fn,
            data=train,
            name=policy.model,
            target=policy.target,
            params=policy.params,
            task=policy.task,
            holdout=0.0,
        )
        challenger = run.model_version
        ws.lineage.add_edge(decision.id, run.run.id, Relation.TRIGGERED)
        self.arbiter.progress(decision.id, stage="comparing", challenger_version=challenger.version)
        comparison = ws.training.compare(
            policy.model,
            challenger.version,
            champion.version,
            data=holdout,
            metric=policy.metric,
            slices=policy.slices,
            min_improvement=policy.min_improvement,
        )
        return train, holdout, challenger, comparison

    def _prepare(
        self, decision: Decision, original_id: str | None
    ) -> tuple[DatasetVersion, DatasetVersion]:
        from driftline.predlog import (
            features_frame,
            join_feedback,
            read_feedback,
            read_predictions,
        )

        policy, ws = self.policy, self.workspace
        if not self.predictions_dir.exists() or not self.feedback_dir.exists():
            raise ValidationError(
                f"only 0 labelled predictions of {policy.model!r} are logged; a retrain needs "
                f"at least {policy.min_rows}"
            )
        predictions = read_predictions(self.predictions_dir, model=policy.model)
        feedback = read_feedback(self.feedback_dir)
        joined = (
            join_feedback(predictions, feedback, how="inner")
            .sort_values("time", kind="stable")
            .tail(policy.window_rows)
        )
        if len(joined) < policy.min_rows:
            raise ValidationError(
                f"only {len(joined)} labelled predictions of {policy.model!r} are logged; "
                f"a retrain needs at least {policy.min_rows}"
            )
        rows = features_frame(joined).reset_index(drop=True)
        rows[policy.target] = joined["label"].to_numpy()
        cut = len(rows) - max(1, round(len(rows) * policy.holdout_share))
        train, holdout = rows.iloc[:cut], rows.iloc[cut:]
        if policy.include_original and original_id is not None:
            original = ws.datasets.load(original_id)[list(rows.columns)]
            train = pd.concat([original, train], ignore_index=True)
        train_version = ws.datasets.add(train, name=f"{policy.model}-retrain-train")
        holdout_version = ws.datasets.add(holdout, name=f"{policy.model}-retrain-holdout")
        for version in (train_version, holdout_version):
            ws.lineage.add_edge(decision.id, version.id, Relation.TRIGGERED)
        return train_version, holdout_version

    def _quality_gate(self, data: DatasetVersion, original_id: str | None) -> str | None:
        """Integrity checks suggested from the original training data: schema, completeness
        and row count. Ranges and categories are left out on purpose: new data that moved is
        the reason to retrain, not a defect."""
        if original_id is None:
            return None
        from driftline.quality import Suite, suggest

        reference = self.workspace.datasets.load(original_id)
        suggested = suggest(reference[[c.name for c in data.columns]], slack=0.05)
        suite = Suite([c for c in suggested.checks if c.kind in _GATE_KINDS])
        result, stored = self.workspace.quality.check(data, suite)
        if result.passed:
            return None
        failed = ", ".join(f"{c.name}({c.column})" for c in result.failed)
        return f"quality gate failed on {data.ref}: {failed} (result {stored.id})"

    def _record_decision(self, decision: Decision, drift_events: tuple[str, ...]) -> None:
        ws = self.workspace
        ws.lineage.add_node(
            decision.id,
            NodeKind.RETRAIN_DECISION,
            f"retrain {decision.model}",
            attributes={"reason": decision.reason, "allowed": decision.allowed},
        )
        for event in drift_events:
            ws.lineage.add_edge(event, decision.id, Relation.TRIGGERED)

    def _fail(self, decision: Decision, reason: str, champion: int | None) -> RetrainOutcome:
        self.arbiter.finish(decision.id, outcome="failed", details={"error": reason})
        return RetrainOutcome(decision.id, "failed", reason, champion)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _brief(comparison: Comparison) -> dict[str, Any]:
    data = comparison.to_dict()
    keys = ("metric", "champion_value", "challenger_value", "difference", "ci_low", "ci_high")
    return {k: data[k] for k in (*keys, "p_value", "promote")}


def _comparison_reason(comparison: Comparison) -> str:
    b = _brief(comparison)
    verdict = "promote" if b["promote"] else "keep the champion"
    return (
        f"{b['metric']} challenger - champion = {b['difference']:+.4f} "
        f"[{b['ci_low']:+.4f}, {b['ci_high']:+.4f}]: {verdict}"
    )
