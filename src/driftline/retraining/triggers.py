"""Retraining triggers: scheduled, drift, performance, data volume and manual.

Each trigger is a small frozen object with ``evaluate(context) -> TriggerResult``; the context
carries every input (the time included), so a trigger never reads a clock or a database and
a test never sleeps. Triggers say *why* they fired or did not; the arbiter decides whether a
retrain may actually start.

A note on cron: these expressions follow cron (and croniter): day-of-week 0 and 7 are Sunday.
APScheduler 3.x's ``CronTrigger`` counts day-of-week 0 as Monday, so a schedule copied from an
APScheduler job can fire on the wrong day here; write day names (``mon``, ``sun``) to be safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from driftline.exceptions import ValidationError

__all__ = [
    "DataVolumeTrigger",
    "DriftTrigger",
    "DriftWindow",
    "FollowUpTrigger",
    "ManualTrigger",
    "PerformanceTrigger",
    "ScheduleTrigger",
    "Trigger",
    "TriggerContext",
    "TriggerResult",
]


@dataclass(frozen=True)
class DriftWindow:
    """The drift result of one monitored window."""

    end: datetime
    drift_detected: bool
    drift_share: float
    event_id: str | None = None


@dataclass(frozen=True)
class TriggerContext:
    """Everything a trigger may look at, as of ``now``."""

    now: datetime
    last_trained_at: datetime | None = None
    drift_windows: Sequence[DriftWindow] = ()
    baseline_metrics: dict[str, float] = field(default_factory=dict)
    current_metrics: dict[str, float] = field(default_factory=dict)
    labelled_rows: int = 0
    new_labelled_rows: int = 0
    manual_reason: str | None = None
    #: When the champion was promoted by a retrain that a change (drift, performance) caused,
    #: and how many follow-up retrains were allowed since (see :class:`FollowUpTrigger`).
    change_promoted_at: datetime | None = None
    follow_ups: int = 0


@dataclass(frozen=True)
class TriggerResult:
    """Whether a trigger fired, and why (or why not)."""

    trigger: str
    fired: bool
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


class Trigger(Protocol):
    """What every trigger offers."""

    @property
    def name(self) -> str: ...

    def evaluate(self, context: TriggerContext) -> TriggerResult: ...


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValidationError(f"{what} must be timezone-aware (got {moment.isoformat()})")
    return moment


@dataclass(frozen=True)
class ScheduleTrigger:
    """Fires when a cron tick (in ``timezone``) has passed since the last training.

    >>> from datetime import UTC, datetime
    >>> nightly = ScheduleTrigger("0 2 * * *", timezone="Europe/Paris")
    >>> ctx = TriggerContext(now=datetime(2026, 3, 2, 1, 30, tzinfo=UTC),
    ...                      last_trained_at=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    >>> nightly.evaluate(ctx).fired   # 02:00 Paris on March 2 is 01:00 UTC
    True
    """

    cron: str
    timezone: str = "UTC"
    name: str = "schedule"

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.cron):
            raise ValidationError(f"schedule trigger: {self.cron!r} is not a cron expression")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"schedule trigger: unknown time zone {self.timezone!r}") from exc

    def evaluate(self, context: TriggerContext) -> TriggerResult:
        now = _aware(context.now, "now").astimezone(ZoneInfo(self.timezone))
        since = context.last_trained_at
        if since is None:
            return TriggerResult(self.name, True, "never trained: the schedule starts now")
        # A tick at exactly ``now`` counts: look back from just after it.
        previous = croniter(self.cron, now + timedelta(seconds=1)).get_prev(datetime)
        fired = previous > _aware(since, "last_trained_at")
        reason = (
            f"cron tick {previous.isoformat()} passed since the last training"
            if fired
            else f"no cron tick since the last training; last tick {previous.isoformat()}"
        )
        return TriggerResult(self.name, fired, reason, {"tick": previous.isoformat()})


@dataclass(frozen=True)
class DriftTrigger:
    """Fires when drift persisted: in at least ``n`` of the last ``m`` windows, a window
    counting when the dataset drifted or (with ``min_share``) enough features drifted."""

    n: int = 2
    m: int = 3
    min_share: float | None = None
    name: str = "drift"

    def __post_init__(self) -> None:
        if not 1 <= self.n <= self.m:
            raise ValidationError(f"drift trigger: need 1 <= n <= m, got n={self.n}, m={self.m}")

    def evaluate(self, context: TriggerContext) -> TriggerResult:
        recent = [
            w
            for w in context.drift_windows
            if context.last_trained_at is None or w.end > context.last_trained_at
        ]
        recent = sorted(recent, key=lambda w: w.end)[-self.m :]
        hits = [w for w in recent if self._drifted(w)]
        fired = len(recent) >= self.n and len(hits) >= self.n
        reason = (
            f"drift in {len(hits)} of the last {len(recent)} windows (needs {self.n} of {self.m})"
        )
        return TriggerResult(
            self.name, fired, reason, {"events": [w.event_id for w in hits if w.event_id]}
        )

    def _drifted(self, window: DriftWindow) -> bool:
        if self.min_share is not None:
            return window.drift_share >= self.min_share
        return window.drift_detected


@dataclass(frozen=True)
class PerformanceTrigger:
    """Fires when a labelled metric dropped by more than ``max_relative_drop`` from its
    baseline, measured on at least ``min_labels`` labels."""

    metric: str = "accuracy"
    max_relative_drop: float = 0.05
    min_labels: int = 200
    higher_is_better: bool = True
    name: str = "performance"

    def evaluate(self, context: TriggerContext) -> TriggerResult:
        baseline = context.baseline_metrics.get(self.metric)
        current = context.current_metrics.get(self.metric)
        if baseline is None or current is None:
            return TriggerResult(self.name, False, f"no baseline or current {self.metric}")
        if context.labelled_rows < self.min_labels:
            return TriggerResult(
                self.name, False, f"only {context.labelled_rows} labels (needs {self.min_labels})"
            )
        change = (current - baseline) / abs(baseline) if baseline else 0.0
        drop = -change if self.higher_is_better else change
        fired = drop > self.max_relative_drop
        reason = (
            f"{self.metric} {current:.4f} vs baseline {baseline:.4f}: "
            f"{drop:+.1%} worse (limit {self.max_relative_drop:.1%})"
        )
        return TriggerResult(
            self.name, fired, reason, {"baseline": baseline, "current": current, "drop": drop}
        )


@dataclass(frozen=True)
class FollowUpTrigger:
    """After a change-driven retrain was promoted, fires again each time ``every_rows`` new
    labelled rows arrived, ``count`` times.

    The first retrain after a change is trained on a window that still holds mostly rows
    from before it (labels arrive late, and the training window reaches back); its model
    is better than the stale champion but not yet good. Each follow-up slides the window
    further past the change, and after ``count`` of them (``count * every_rows`` at least
    the training window) the model has been trained on rows from after the change only,
    and the follow-ups stop until the next change.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> trigger = FollowUpTrigger(every_rows=1000, count=2)
    >>> trigger.evaluate(TriggerContext(now=t, change_promoted_at=t, new_labelled_rows=1200,
    ...                                 follow_ups=1)).fired
    True
    >>> trigger.evaluate(TriggerContext(now=t, change_promoted_at=t, new_labelled_rows=1200,
    ...                                 follow_ups=2)).reason
    'all 2 follow-ups after the change done'
    """

    every_rows: int = 1000
    count: int = 3
    name: str = "follow_up"

    def __post_init__(self) -> None:
        if self.every_rows < 1 or self.count < 0:
            raise ValidationError(
                f"follow-up trigger: need every_rows >= 1 and count >= 0, "
                f"got every_rows={self.every_rows}, count={self.count}"
            )

    def evaluate(self, context: TriggerContext) -> TriggerResult:
        if context.change_promoted_at is None:
            return TriggerResult(self.name, False, "no change-driven retrain to follow up")
        if context.follow_ups >= self.count:
            return TriggerResult(
                self.name, False, f"all {self.count} follow-ups after the change done"
            )
        fired = context.new_labelled_rows >= self.every_rows
        reason = (
            f"follow-up {context.follow_ups + 1} of {self.count} after the change: "
            f"{context.new_labelled_rows} new labelled rows (needs {self.every_rows})"
        )
        return TriggerResult(
            self.name, fired, reason, {"follow_up": context.follow_ups + 1, "of": self.count}
        )


@dataclass(frozen=True)
class DataVolumeTrigger:
    """Fires when at least ``min_new_rows`` labelled rows arrived since the last training."""

    min_new_rows: int = 5000
    name: str = "data_volume"

    def evaluate(self, context: TriggerContext) -> TriggerResult:
        fired = context.new_labelled_rows >= self.min_new_rows
        return TriggerResult(
            self.name,
            fired,
            f"{context.new_labelled_rows} new labelled rows "
            f"since the last training (needs {self.min_new_rows})",
        )


@dataclass(frozen=True)
class ManualTrigger:
    """Fires when a person asked, with a reason (CLI ``retrain`` or ``POST /v1/retrain``)."""

    name: str = "manual"

    def evaluate(self, context: TriggerContext) -> TriggerResult:
        if context.manual_reason:
            return TriggerResult(self.name, True, f"requested: {context.manual_reason}")
        return TriggerResult(self.name, False, "no manual request")
