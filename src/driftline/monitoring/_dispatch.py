"""Which alerts each channel must be told about now, grouped, sent and recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from driftline._canonical import canonical_json
from driftline.ids import uuid7
from driftline.monitoring._alert_types import Alert, AlertState, Silence
from driftline.monitoring.notifications import Channel, DeliveryResult, Notification
from driftline.store import iso_utc

__all__ = ["Dispatch", "dispatch", "due_alerts", "group_alerts", "send_safely"]

_ERROR_MAX = 2000


@dataclass(frozen=True)
class Dispatch:
    """One notification sent to one channel, and what came of it."""

    channel: str
    notification: Notification
    result: DeliveryResult

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "channel": self.channel,
            "notification_id": self.notification.id,
            "status": self.notification.status,
            "alerts": [a.id for a in self.notification.alerts],
            "result": self.result.to_dict(),
        }


def due_alerts(
    channel: str,
    *,
    firing: Sequence[Alert],
    resolved: Sequence[Alert],
    delivered: dict[tuple[str, str, str], datetime],
    silences: Sequence[Silence],
    at: datetime,
    repeat_interval: timedelta,
) -> list[Alert]:
    """The alerts ``channel`` must hear about at ``at``.

    A firing alert is due unless silenced or delivered to this channel within
    ``repeat_interval``; a resolved one is due once, if its firing reached this channel.
    """
    due = []
    for alert in firing:
        if any(s.covers(alert) for s in silences):
            continue
        last = delivered.get((alert.id, channel, AlertState.FIRING.value))
        if last is None or at - last >= repeat_interval:
            due.append(alert)
    for alert in resolved:
        told_firing = (alert.id, channel, AlertState.FIRING.value) in delivered
        told_resolved = (alert.id, channel, AlertState.RESOLVED.value) in delivered
        if told_firing and not told_resolved:
            due.append(alert)
    return due


def group_alerts(
    alerts: Iterable[Alert], group_by: Sequence[str] | None
) -> list[tuple[str, dict[str, str], list[Alert]]]:
    """``(group_key, group_labels, alerts)`` per group; ``group_by=None``: one per alert."""
    groups: dict[str, tuple[dict[str, str], list[Alert]]] = {}
    for alert in alerts:
        if group_by is None:
            key, labels = alert.fingerprint, dict(alert.labels)
        else:
            labels = {k: alert.labels[k] for k in group_by if k in alert.labels}
            key = hashlib.sha256(canonical_json(labels)).hexdigest()
        groups.setdefault(key, (labels, []))[1].append(alert)
    return [
        (key, labels, sorted(members, key=lambda a: (a.state.value, a.rule, a.fingerprint)))
        for key, (labels, members) in sorted(groups.items())
    ]


def send_safely(channel: Channel, notification: Notification) -> DeliveryResult:
    """``channel.send(notification)``, with any exception turned into a failed result."""
    try:
        result = channel.send(notification)
    except Exception as exc:  # a channel bug must not stop monitoring; it is recorded instead
        return DeliveryResult(
            channel=channel.name, ok=False, attempts=1, error=f"{type(exc).__name__}: {exc}"
        )
    if not isinstance(result, DeliveryResult):
        return DeliveryResult(
            channel=channel.name,
            ok=False,
            attempts=1,
            error=f"send() returned {type(result).__name__}, not a DeliveryResult",
        )
    return result


def dispatch(
    channel: Channel,
    groups: Sequence[tuple[str, dict[str, str], list[Alert]]],
    *,
    at: datetime,
    on_result: Callable[[Dispatch], None],
) -> list[dict[str, Any]]:
    """Send one notification per group to ``channel``; return the delivery rows to store."""
    rows: list[dict[str, Any]] = []
    for key, labels, members in groups:
        notification = Notification(
            id=str(uuid7()),
            group_key=key,
            group_labels=labels,
            alerts=tuple(members),
            created_at=at,
        )
        result = send_safely(channel, notification)
        on_result(Dispatch(channel.name, notification, result))
        for alert in members:
            rows.append(
                {
                    "id": str(uuid7()),
                    "notification_id": notification.id,
                    "alert_id": alert.id,
                    "channel": channel.name,
                    "event": alert.state.value,
                    "status": "delivered" if result.ok else "failed",
                    "attempts": result.attempts,
                    "status_code": result.status_code,
                    "error": (result.error or "")[:_ERROR_MAX] or None,
                    "time": iso_utc(at),
                }
            )
    return rows
