"""PagerDuty Events API v2: trigger and resolve, one event per alert, deduplicated."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from driftline._canonical import canonical_json
from driftline.exceptions import ValidationError
from driftline.monitoring._alert_types import Alert, AlertState
from driftline.monitoring.channels._checks import check_name, check_timeout
from driftline.monitoring.channels._http import HttpPoster, check_url
from driftline.monitoring.channels.retry import RetryPolicy
from driftline.monitoring.notifications import DeliveryResult, Notification
from driftline.store import Clock, utc_now

__all__ = ["EVENTS_URL", "SEVERITY", "PagerDutyChannel", "pagerduty_event"]

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
# driftline severity -> PagerDuty's (critical, error, warning, info).
SEVERITY = {"critical": "critical", "warning": "warning", "info": "info"}
_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")
_SUMMARY_MAX = 1024  # PagerDuty truncates longer summaries


def pagerduty_event(
    alert: Alert, *, routing_key: str, source: str, client_url: str | None = None
) -> dict[str, Any]:
    """The Events v2 body for one alert: ``trigger`` while firing, else ``resolve``.

    The ``dedup_key`` is the alert's fingerprint, so a resolve closes the incident its
    trigger opened and repeated triggers update it instead of opening new ones.
    """
    if alert.state is not AlertState.FIRING:
        return {
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": alert.fingerprint,
        }
    payload: dict[str, Any] = {
        "summary": alert.summary[:_SUMMARY_MAX],
        "source": alert.labels.get("instance", source),
        "severity": SEVERITY.get(alert.severity, "error"),
        "timestamp": (alert.fired_at or alert.started_at).isoformat(),
        "class": alert.rule,
        "custom_details": {
            "metric": alert.metric,
            "value": alert.value,
            "threshold": alert.threshold,
            "labels": alert.labels,
            "annotations": alert.annotations,
        },
    }
    if "model" in alert.labels:
        payload["component"] = alert.labels["model"]
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.fingerprint,
        "payload": payload,
        "client": "driftline",
    }
    if client_url:
        event["client_url"] = client_url
    return event


class PagerDutyChannel:
    """Send alerts to PagerDuty's Events API v2 with a service's integration (routing) key.

    >>> PagerDutyChannel("0123456789abcdef0123456789abcdef").name
    'pagerduty'
    """

    def __init__(
        self,
        routing_key: str,
        *,
        url: str = EVENTS_URL,
        source: str = "driftline",
        client_url: str | None = None,
        name: str = "pagerduty",
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = check_name(name)
        if not isinstance(routing_key, str) or not _ROUTING_KEY.fullmatch(routing_key):
            raise ValidationError(
                f"channel {name!r}: field 'routing_key' must be the 32-character integration "
                "key of an Events API v2 integration"
            )
        self.routing_key = routing_key
        self.url = check_url(url, channel=name, field="url")
        if client_url is not None:
            check_url(client_url, channel=name, field="client_url")
        self.source = source
        self.client_url = client_url
        self._poster = HttpPoster(
            channel=name,
            timeout=check_timeout(timeout, channel=name),
            retry=retry or RetryPolicy(),
            transport=transport,
            clock=clock,
            sleep=sleep,
            monotonic=monotonic,
        )

    def send(self, notification: Notification) -> DeliveryResult:
        """One event per alert; delivered only if PagerDuty accepted every one."""
        results = []
        for alert in notification.alerts:
            event = pagerduty_event(
                alert, routing_key=self.routing_key, source=self.source, client_url=self.client_url
            )
            results.append(self._poster.post(self.url, canonical_json(event), {}))
        failed = [r for r in results if not r.ok]
        return DeliveryResult(
            channel=self.name,
            ok=not failed,
            attempts=sum(r.attempts for r in results),
            status_code=(failed or results)[-1].status_code if results else None,
            error="; ".join(r.error or "" for r in failed) or None,
            seconds=round(sum(r.seconds for r in results), 6),
        )
