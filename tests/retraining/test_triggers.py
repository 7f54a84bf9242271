from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from driftline.exceptions import ValidationError
from driftline.retraining.triggers import (
    DataVolumeTrigger,
    DriftTrigger,
    DriftWindow,
    FollowUpTrigger,
    ManualTrigger,
    PerformanceTrigger,
    ScheduleTrigger,
    TriggerContext,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def windows(*flags: bool) -> list[DriftWindow]:
    return [
        DriftWindow(T0 + timedelta(hours=i), f, 0.6 if f else 0.1, f"e{i}")
        for i, f in enumerate(flags)
    ]


@pytest.mark.parametrize(
    ("flags", "fired"),
    [
        ((True, False, True), True),
        ((False, False, True), False),
        ((True,), False),
        ((True, True, False, False, True), False),
        ((False, True, True), True),
    ],
)
def test_drift_must_persist_n_of_m(flags: tuple[bool, ...], fired: bool) -> None:
    now = T0 + timedelta(days=1)
    result = DriftTrigger(n=2, m=3).evaluate(TriggerContext(now=now, drift_windows=windows(*flags)))
    assert result.fired is fired
    if fired:
        assert result.details["events"]


def test_drift_before_the_last_training_does_not_count() -> None:
    ctx = TriggerContext(
        now=T0 + timedelta(days=1),
        drift_windows=windows(True, True, False),
        last_trained_at=T0 + timedelta(minutes=90),
    )
    assert not DriftTrigger(n=2, m=3).evaluate(ctx).fired


def test_schedule_respects_the_time_zone_and_the_last_training() -> None:
    trigger = ScheduleTrigger("0 2 * * *", timezone="America/New_York")
    # 02:00 in New York on 2 March 2026 is 07:00 UTC.
    before = TriggerContext(
        now=datetime(2026, 3, 2, 6, 59, tzinfo=UTC),
        last_trained_at=datetime(2026, 3, 1, 7, 30, tzinfo=UTC),
    )
    after = TriggerContext(
        now=datetime(2026, 3, 2, 7, 0, tzinfo=UTC), last_trained_at=before.last_trained_at
    )
    assert not trigger.evaluate(before).fired
    assert trigger.evaluate(after).fired


def test_sunday_is_zero_as_in_cron() -> None:
    trigger = ScheduleTrigger("0 0 * * 0")
    saturday = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    sunday = datetime(2026, 3, 8, 0, 30, tzinfo=UTC)
    last = datetime(2026, 3, 2, tzinfo=UTC)
    assert not trigger.evaluate(TriggerContext(now=saturday, last_trained_at=last)).fired
    assert trigger.evaluate(TriggerContext(now=sunday, last_trained_at=last)).fired


def test_performance_needs_enough_labels_and_a_real_drop() -> None:
    trigger = PerformanceTrigger(metric="accuracy", max_relative_drop=0.05, min_labels=100)
    base = {"accuracy": 0.80}
    few = TriggerContext(
        now=T0, baseline_metrics=base, current_metrics={"accuracy": 0.5}, labelled_rows=50
    )
    small = TriggerContext(
        now=T0, baseline_metrics=base, current_metrics={"accuracy": 0.77}, labelled_rows=500
    )
    big = TriggerContext(
        now=T0, baseline_metrics=base, current_metrics={"accuracy": 0.70}, labelled_rows=500
    )
    assert not trigger.evaluate(few).fired and "only 50 labels" in trigger.evaluate(few).reason
    assert not trigger.evaluate(small).fired
    assert trigger.evaluate(big).fired
    lower = PerformanceTrigger(metric="rmse", higher_is_better=False, min_labels=1)
    worse = TriggerContext(
        now=T0, baseline_metrics={"rmse": 10.0}, current_metrics={"rmse": 12}, labelled_rows=10
    )
    assert lower.evaluate(worse).fired


def test_volume_and_manual() -> None:
    assert DataVolumeTrigger(1000).evaluate(TriggerContext(now=T0, new_labelled_rows=1000)).fired
    assert not DataVolumeTrigger(1000).evaluate(TriggerContext(now=T0, new_labelled_rows=9)).fired
    assert ManualTrigger().evaluate(TriggerContext(now=T0, manual_reason="new feature")).fired
    assert not ManualTrigger().evaluate(TriggerContext(now=T0)).fired


def test_bad_definitions_are_refused() -> None:
    with pytest.raises(ValidationError, match="cron"):
        ScheduleTrigger("every day")
    with pytest.raises(ValidationError, match="time zone"):
        ScheduleTrigger("0 0 * * *", timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="n <= m"):
        DriftTrigger(n=4, m=3)
    with pytest.raises(ValidationError, match="timezone-aware"):
        ScheduleTrigger("0 0 * * *").evaluate(
            TriggerContext(now=datetime(2026, 1, 1), last_trained_at=T0)
        )


def test_follow_ups_fire_every_n_new_labels_until_the_count_is_reached() -> None:
    trigger = FollowUpTrigger(every_rows=1000, count=3)
    after = TriggerContext(now=T0, change_promoted_at=T0 - timedelta(hours=1))
    assert not trigger.evaluate(TriggerContext(now=T0, new_labelled_rows=5000)).fired
    assert not trigger.evaluate(replace(after, new_labelled_rows=999)).fired
    fired = trigger.evaluate(replace(after, new_labelled_rows=1000, follow_ups=2))
    assert fired.fired and fired.details == {"follow_up": 3, "of": 3}
    done = trigger.evaluate(replace(after, new_labelled_rows=10_000, follow_ups=3))
    assert not done.fired and "all 3 follow-ups" in done.reason


def test_follow_up_trigger_refuses_nonsense() -> None:
    with pytest.raises(ValidationError, match="every_rows"):
        FollowUpTrigger(every_rows=0)
