"""What channels send: a notification of grouped alerts, and what came of sending it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from driftline.monitoring._alert_types import Alert, AlertState

__all__ = ["Channel", "DeliveryResult", "Notification"]


@dataclass(frozen=True)
class Notification:
    """Alerts of one group that need telling, sent together.

    ``status`` is ``firing`` when any alert in it fires, else ``resolved``.
    """

    id: str
    group_key: str
    group_labels: dict[str, str]
    alerts: tuple[Alert, ...]
    created_at: datetime

    @property
    def status(self) -> str:
        """``firing`` if any alert fires, else ``resolved``."""
        return "firing" if self.firing else "resolved"

    @property
    def firing(self) -> tuple[Alert, ...]:
        """The alerts in it that fire."""
        return tuple(a for a in self.alerts if a.state is AlertState.FIRING)

    @property
    def resolved(self) -> tuple[Alert, ...]:
        """The alerts in it that resolved."""
        return tuple(a for a in self.alerts if a.state is AlertState.RESOLVED)

    def title(self) -> str:
        """One line, e.g. ``[FIRING:2] FeatureDrift (model=fraud)``."""
        rules = sorted({a.rule for a in self.alerts})
        # The rule names lead the title already; severity shows in each alert's line.
        shown = {k: v for k, v in self.group_labels.items() if k not in ("alertname", "severity")}
        labels = ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))
        count = len(self.firing) if self.firing else len(self.resolved)
        return f"[{self.status.upper()}:{count}] {' '.join(rules)}" + (
            f" ({labels})" if labels else ""
        )

    def text(self) -> str:
        """A plain-text body: the title, then each alert's summary, value and labels."""
        lines = [self.title(), ""]
        for alert in self.alerts:
            value = "n/a" if alert.value is None else f"{alert.value:.4g}"
            lines.append(
                f"- {alert.state.upper()} {alert.rule} [{alert.severity}]: {alert.summary}"
            )
            if alert.annotations.get("description"):
                lines.append(f"  {alert.annotations['description']}")
            lines.append(f"  value {value}, threshold {alert.threshold:.4g}")
            labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
            lines.append(f"  labels: {labels}")
            lines.append(f"  since {alert.started_at.isoformat()}; fingerprint {alert.fingerprint}")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the generic webhook's body)."""
        return {
            "version": "1",
            "id": self.id,
            "status": self.status,
            "group_key": self.group_key,
            "group_labels": dict(self.group_labels),
            "title": self.title(),
            "created_at": self.created_at.isoformat(),
            "alerts": [_alert_dict(a) for a in self.alerts],
        }


def _alert_dict(alert: Alert) -> dict[str, Any]:
    out = alert.to_dict()
    out["status"] = out.pop("state")
    return out


@dataclass(frozen=True)
class DeliveryResult:
    """What happened when one channel sent one notification (retries included)."""

    channel: str
    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "channel": self.channel,
            "ok": self.ok,
            "attempts": self.attempts,
            "status_code": self.status_code,
            "error": self.error,
            "seconds": self.seconds,
        }


@runtime_checkable
class Channel(Protocol):
    """Somewhere alerts are delivered: ``send`` never raises, it reports in its result."""

    name: str

    def send(self, notification: Notification) -> DeliveryResult:
        """Deliver ``notification``; failures come back as ``ok=False`` with the error."""
        ...
