"""Conformance checks every alert channel passes, each against a live receiver.

A :class:`ChannelCase` builds a channel aimed at a receiver that behaves as asked (``ok``;
``transient``: 5xx or SMTP 4xx forever; ``permanent``: 4xx or SMTP 5xx; ``unreachable``:
nothing listening) and reads back what the receiver got. Each check in
:data:`CHANNEL_CHECKS` takes a case and raises ``AssertionError`` saying what broke. Backoff
runs on a :class:`VirtualTime`, so no check sleeps. With pytest::

    @pytest.mark.parametrize("check", CHANNEL_CHECKS, ids=lambda c: c.__name__)
    def test_channel(case, check):
        if not applies(check, case):
            pytest.skip(f"{case.name}'s receiver cannot play {NEEDS[check]!r}")
        check(case)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from driftline.monitoring import Alert, AlertState, Channel, Notification, RetryPolicy

__all__ = [
    "BEHAVIOURS",
    "CHANNEL_CHECKS",
    "NEEDS",
    "ChannelCase",
    "VirtualTime",
    "applies",
    "check_channel",
    "check_delivers_firing",
    "check_delivers_group",
    "check_delivers_odd_content",
    "check_delivers_resolved",
    "check_permanent_failure_not_retried",
    "check_transient_failure_retried_then_reported",
    "check_unreachable_reported",
    "sample_alert",
    "sample_notification",
]

BEHAVIOURS = ("ok", "transient", "permanent", "unreachable")


class VirtualTime:
    """``sleep`` and ``monotonic`` over a virtual clock: sleeping advances it, instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        """Record the wait and move the clock."""
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        """The virtual time."""
        return self.now


@dataclass(frozen=True, eq=False)
class ChannelCase:
    """A channel kind wired to a live receiver.

    ``make(behaviour, time, retry)`` returns a channel aimed at a receiver behaving so, using
    ``time.sleep``/``time.monotonic`` and ``retry``. ``received()`` is the text of every
    message the receiver has accepted so far, oldest first (a JSON body, an email).
    ``behaviours`` are those the receiver can play (a log channel has only ``ok``).
    """

    name: str
    make: Callable[[str, VirtualTime, RetryPolicy], Channel]
    received: Callable[[], list[str]]
    behaviours: frozenset[str] = frozenset(BEHAVIOURS)


_RETRY = RetryPolicy(max_attempts=3, initial_delay=1.0, multiplier=2.0, max_delay=8.0)


def sample_alert(
    state: AlertState = AlertState.FIRING,
    *,
    rule: str = "FeatureDrift",
    labels: dict[str, str] | None = None,
    summary: str | None = None,
) -> Alert:
    """A plausible alert with a fresh fingerprint."""
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    labels = {
        "alertname": rule,
        "severity": "warning",
        "model": "fraud",
        "feature": "amount",
        **(labels or {}),
    }
    return Alert(
        id=str(uuid.uuid4()),
        fingerprint=uuid.uuid4().hex + uuid.uuid4().hex,
        rule=rule,
        metric="driftline_feature_drift_score",
        severity="warning",
        state=state,
        labels=labels,
        annotations={"summary": summary or f"{rule}: feature amount drifted (score 0.31)"},
        value=0.31,
        threshold=0.2,
        started_at=start,
        fired_at=start if state is not AlertState.PENDING else None,
        ended_at=start + timedelta(hours=1) if state is AlertState.RESOLVED else None,
        updated_at=start,
    )


def sample_notification(alerts: Sequence[Alert] | None = None) -> Notification:
    """A notification of ``alerts`` (default: one firing alert), grouped by model."""
    chosen = tuple(alerts) if alerts else (sample_alert(),)
    return Notification(
        id=str(uuid.uuid4()),
        group_key=uuid.uuid4().hex,
        group_labels={"model": "fraud"},
        alerts=chosen,
        created_at=datetime(2026, 3, 1, 12, 5, tzinfo=UTC),
    )


def _expect(ok: bool, message: str) -> None:
    if not ok:
        raise AssertionError(message)


def _send(
    case: ChannelCase, behaviour: str, notification: Notification
) -> tuple[Any, VirtualTime, list[str]]:
    time = VirtualTime()
    channel = case.make(behaviour, time, _RETRY)
    _expect(isinstance(channel, Channel), f"{case.name}: not a Channel (name + send)")
    before = len(case.received())
    result = channel.send(notification)
    _expect(result.channel == channel.name, f"{case.name}: result names {result.channel!r}")
    return result, time, case.received()[before:]


def check_delivers_firing(case: ChannelCase) -> None:
    """A firing alert is delivered on the first attempt and its rule reaches the receiver."""
    alert = sample_alert()
    result, time, got = _send(case, "ok", sample_notification([alert]))
    _expect(result.ok and result.error is None, f"{case.name}: delivery failed: {result.error}")
    _expect(result.attempts == 1 and not time.sleeps, f"{case.name}: retried a success")
    _expect(len(got) >= 1, f"{case.name}: the receiver got nothing")
    _expect(any(alert.rule in text for text in got), f"{case.name}: rule name not in {got!r}")


def check_delivers_resolved(case: ChannelCase) -> None:
    """A resolved alert is delivered and says it resolved."""
    result, _, got = _send(case, "ok", sample_notification([sample_alert(AlertState.RESOLVED)]))
    _expect(result.ok, f"{case.name}: delivery failed: {result.error}")
    _expect(any("resolve" in text.lower() for text in got), f"{case.name}: no 'resolve' in {got!r}")


def check_delivers_group(case: ChannelCase) -> None:
    """A notification of several alerts carries every one (by rule name or fingerprint)."""
    alerts = [
        sample_alert(rule="FeatureDrift"),
        sample_alert(rule="HighErrorRate"),
        sample_alert(AlertState.RESOLVED, rule="AccuracyDrop"),
    ]
    result, _, got = _send(case, "ok", sample_notification(alerts))
    _expect(result.ok, f"{case.name}: delivery failed: {result.error}")
    text = "\n".join(got)
    missing = [a.rule for a in alerts if a.rule not in text and a.fingerprint not in text]
    _expect(not missing, f"{case.name}: alerts {missing} missing from what was delivered")


def check_delivers_odd_content(case: ChannelCase) -> None:
    """Unicode, markup characters, quotes and a very long summary still deliver."""
    odd = sample_alert(
        labels={"feature": 'naïve "<b>" & ümlaut'},
        summary="drift é ✓ <script>&amp;</script> " + "x" * 5000,
    )
    result, _, got = _send(case, "ok", sample_notification([odd]))
    _expect(result.ok, f"{case.name}: odd content broke delivery: {result.error}")
    _expect(len(got) >= 1, f"{case.name}: the receiver got nothing")


def check_transient_failure_retried_then_reported(case: ChannelCase) -> None:
    """A receiver failing with a transient error is retried with growing waits, then reported."""
    result, time, _ = _send(case, "transient", sample_notification())
    _expect(not result.ok, f"{case.name}: a failing receiver was reported as delivered")
    _expect(result.attempts == _RETRY.max_attempts, f"{case.name}: {result.attempts} attempts")
    _expect(len(time.sleeps) == _RETRY.max_attempts - 1, f"{case.name}: waits {time.sleeps}")
    _expect(time.sleeps == sorted(time.sleeps) and all(s > 0 for s in time.sleeps),
            f"{case.name}: waits {time.sleeps} do not back off")  # fmt: skip
    _expect(bool(result.error), f"{case.name}: a failure without an error message")


def check_permanent_failure_not_retried(case: ChannelCase) -> None:
    """A receiver refusing for good (4xx, SMTP 5xx) is reported after one attempt."""
    result, time, _ = _send(case, "permanent", sample_notification())
    _expect(not result.ok, f"{case.name}: a refused delivery was reported as delivered")
    _expect(result.attempts == 1 and not time.sleeps, f"{case.name}: retried a permanent error")
    _expect(bool(result.error), f"{case.name}: a failure without an error message")


def check_unreachable_reported(case: ChannelCase) -> None:
    """Nothing listening: send returns a failed result naming the problem; it never raises."""
    result, _, _ = _send(case, "unreachable", sample_notification())
    _expect(not result.ok, f"{case.name}: an unreachable receiver was reported as delivered")
    _expect(1 <= result.attempts <= _RETRY.max_attempts, f"{case.name}: {result.attempts}")
    _expect(bool(result.error), f"{case.name}: a failure without an error message")


CHANNEL_CHECKS: tuple[Callable[[ChannelCase], None], ...] = (
    check_delivers_firing,
    check_delivers_resolved,
    check_delivers_group,
    check_delivers_odd_content,
    check_transient_failure_retried_then_reported,
    check_permanent_failure_not_retried,
    check_unreachable_reported,
)


# The receiver behaviour each check needs.
NEEDS: dict[Callable[[ChannelCase], None], str] = {
    check_delivers_firing: "ok",
    check_delivers_resolved: "ok",
    check_delivers_group: "ok",
    check_delivers_odd_content: "ok",
    check_transient_failure_retried_then_reported: "transient",
    check_permanent_failure_not_retried: "permanent",
    check_unreachable_reported: "unreachable",
}


def applies(check: Callable[[ChannelCase], None], case: ChannelCase) -> bool:
    """Whether ``case``'s receiver can play the behaviour ``check`` needs."""
    return NEEDS[check] in case.behaviours


def check_channel(case: ChannelCase) -> None:
    """Run every check whose receiver behaviour the case supports."""
    for check in CHANNEL_CHECKS:
        if applies(check, case):
            check(case)
