"""Value types of alerting: states, alerts, transitions, silences and deliveries."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from driftline._canonical import loads
from driftline.monitoring._series import parse_time

__all__ = ["Alert", "AlertState", "Delivery", "Silence", "Transition"]


class AlertState(StrEnum):
    """Where an alert is in its lifecycle: inactive -> pending -> firing -> resolved.

    ``inactive`` ends an alert whose condition cleared while it was still pending.
    """

    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"

    @property
    def active(self) -> bool:
        """Whether the alert is still open (pending or firing)."""
        return self in (AlertState.PENDING, AlertState.FIRING)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _time(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


@dataclass(frozen=True)
class Alert:
    """One alert episode of one rule on one series, from pending until it ends."""

    id: str
    fingerprint: str
    rule: str
    metric: str
    severity: str
    state: AlertState
    labels: dict[str, str]
    annotations: dict[str, str]
    value: float | None
    threshold: float
    started_at: datetime
    fired_at: datetime | None
    ended_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Alert:
        """An alert from its ``alerts`` table row."""
        return cls(
            id=row["id"],
            fingerprint=row["fingerprint"],
            rule=row["rule"],
            metric=row["metric"],
            severity=row["severity"],
            state=AlertState(row["state"]),
            labels=loads(row["labels"]),
            annotations=loads(row["annotations"]),
            value=None if row["value"] is None else float(row["value"]),
            threshold=float(row["threshold"]),
            started_at=parse_time(row["started_at"]),
            fired_at=_time(row["fired_at"]),
            ended_at=_time(row["ended_at"]),
            updated_at=parse_time(row["updated_at"]),
        )

    @property
    def summary(self) -> str:
        """The rendered summary annotation (or the rule name)."""
        return self.annotations.get("summary") or self.rule

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["state"] = str(self.state)
        for key in ("started_at", "fired_at", "ended_at", "updated_at"):
            out[key] = _iso(getattr(self, key))
        return out


@dataclass(frozen=True)
class Transition:
    """One recorded change of an alert's state."""

    alert_id: str
    from_state: AlertState
    to_state: AlertState
    value: float | None
    time: datetime

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "alert_id": self.alert_id,
            "from_state": str(self.from_state),
            "to_state": str(self.to_state),
            "value": self.value,
            "time": self.time.isoformat(),
        }


@dataclass(frozen=True)
class Silence:
    """Mute notifications of alerts of ``rule`` and/or with ``matchers`` until ``expires_at``."""

    id: str
    rule: str | None
    matchers: dict[str, str]
    reason: str
    created_by: str
    created_at: datetime
    starts_at: datetime
    expires_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Silence:
        """A silence from its ``alert_silences`` table row."""
        return cls(
            id=row["id"],
            rule=row["rule"],
            matchers=loads(row["matchers"]),
            reason=row["reason"],
            created_by=row["created_by"],
            created_at=parse_time(row["created_at"]),
            starts_at=parse_time(row["starts_at"]),
            expires_at=parse_time(row["expires_at"]),
        )

    def active_at(self, moment: datetime) -> bool:
        """Whether the silence is in force at ``moment``."""
        return self.starts_at <= moment < self.expires_at

    def covers(self, alert: Alert) -> bool:
        """Whether ``alert`` is of this silence's rule and has all its matcher labels."""
        if self.rule is not None and alert.rule != self.rule:
            return False
        return all(alert.labels.get(k) == v for k, v in self.matchers.items())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        for key in ("created_at", "starts_at", "expires_at"):
            out[key] = _iso(getattr(self, key))
        return out


@dataclass(frozen=True)
class Delivery:
    """One attempt (with its retries) to deliver one alert's notification to one channel."""

    id: str
    notification_id: str
    alert_id: str
    channel: str
    event: str
    status: str
    attempts: int
    status_code: int | None
    error: str | None
    time: datetime

    @classmethod
    def from_row(cls, row: Any) -> Delivery:
        """A delivery from its ``alert_deliveries`` table row."""
        return cls(
            id=row["id"],
            notification_id=row["notification_id"],
            alert_id=row["alert_id"],
            channel=row["channel"],
            event=row["event"],
            status=row["status"],
            attempts=int(row["attempts"]),
            status_code=row["status_code"],
            error=row["error"],
            time=parse_time(row["time"]),
        )

    @property
    def delivered(self) -> bool:
        """Whether the channel accepted it."""
        return self.status == "delivered"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["time"] = self.time.isoformat()
        return out
