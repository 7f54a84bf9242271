"""Retraining: triggers that say when, an arbiter that says whether, a controller that does it."""

from driftline.retraining.arbiter import Arbiter, ArbiterPolicy, Decision
from driftline.retraining.controller import CycleReport, RetrainController
from driftline.retraining.executor import RetrainExecutor, RetrainOutcome, RetrainPolicy
from driftline.retraining.rollout import CanaryPromoter, DirectPromoter, Promoter, Rollout
from driftline.retraining.triggers import (
    DataVolumeTrigger,
    DriftTrigger,
    DriftWindow,
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
    "CycleReport",
    "DataVolumeTrigger",
    "Decision",
    "DirectPromoter",
    "DriftTrigger",
    "DriftWindow",
    "ManualTrigger",
    "PerformanceTrigger",
    "Promoter",
    "RetrainController",
    "RetrainExecutor",
    "RetrainOutcome",
    "RetrainPolicy",
    "Rollout",
    "ScheduleTrigger",
    "Trigger",
    "TriggerContext",
    "TriggerResult",
]
