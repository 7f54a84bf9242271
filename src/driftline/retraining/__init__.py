"""Retraining: triggers that say when, an arbiter that says whether, a controller that does it,
and the closed loop that runs monitoring and the controller again and again."""

from driftline.retraining.arbiter import Arbiter, ArbiterPolicy, Decision
from driftline.retraining.controller import CycleReport, RetrainController
from driftline.retraining.executor import RetrainExecutor, RetrainOutcome, RetrainPolicy
from driftline.retraining.loop import ClosedLoop, LoopCycle, LoopStopped, stoppable_sleep
from driftline.retraining.pipeline import policy_from_config
from driftline.retraining.requests import RetrainRequest, pending_requests
from driftline.retraining.rollout import CanaryPromoter, DirectPromoter, Promoter, Rollout
from driftline.retraining.triggers import (
    DataVolumeTrigger,
    DriftTrigger,
    DriftWindow,
    FollowUpTrigger,
    ManualTrigger,
    PerformanceTrigger,
    ScheduleTrigger,
    Trigger,
    TriggerContext,
    TriggerResult,
)

__all__ = [
    "Arbiter",
    "ArbiterPolicy",
    "CanaryPromoter",
    "ClosedLoop",
    "CycleReport",
    "DataVolumeTrigger",
    "Decision",
    "DirectPromoter",
    "DriftTrigger",
    "DriftWindow",
    "FollowUpTrigger",
    "LoopCycle",
    "LoopStopped",
    "ManualTrigger",
    "PerformanceTrigger",
    "Promoter",
    "RetrainController",
    "RetrainExecutor",
    "RetrainOutcome",
    "RetrainPolicy",
    "RetrainRequest",
    "Rollout",
    "ScheduleTrigger",
    "Trigger",
    "TriggerContext",
    "TriggerResult",
    "pending_requests",
    "policy_from_config",
    "stoppable_sleep",
]
