"""Retraining: triggers that say when, an arbiter that says whether, a controller that does it."""

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
    "DataVolumeTrigger",
    "DriftTrigger",
    "DriftWindow",
    "ManualTrigger",
    "PerformanceTrigger",
    "ScheduleTrigger",
    "Trigger",
    "TriggerContext",
    "TriggerResult",
]
