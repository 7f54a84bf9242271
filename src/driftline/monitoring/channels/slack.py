"""Slack incoming webhook: a ``text`` fallback and Block Kit ``blocks``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from driftline._canonical import canonical_json
from driftline.monitoring._alert_types import Alert
from driftline.monitoring.channels._checks import check_name, check_timeout
from driftline.monitoring.channels._http import HttpPoster, check_url
from driftline.monitoring.channels.retry import RetryPolicy
from driftline.monitoring.notifications import DeliveryResult, Notification
from driftline.store import Clock, utc_now

__all__ = ["SlackChannel", "slack_message"]

# Slack's limits: header text 150 characters, section text 3000, 50 blocks per message.
_HEADER_MAX = 150
_SECTION_MAX = 3000
_ALERTS_SHOWN = 20
_ICONS = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}


def _escape(text: str) -> str:
    # Slack's mrkdwn treats &, < and > as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(alert: Alert) -> dict[str, Any]:
    value = "n/a" if alert.value is None else f"{alert.value:.4g}"
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    lines = [
        f"{_ICONS.get(alert.state.value, '')} *{_escape(alert.rule)}* "
        f"({alert.state.value}, {alert.severity})",
        _escape(alert.summary),
    ]
    if alert.annotations.get("description"):
        lines.append(_escape(alert.annotations["description"]))
    lines.append(f"value `{value}` threshold `{alert.threshold:.4g}` | {_escape(labels)}")
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), _SECTION_MAX)},
    }


def slack_message(notification: Notification) -> dict[str, Any]:
    """The incoming-webhook body for ``notification``: ``text`` plus ``blocks``."""
    title = notification.title()
    summaries = "; ".join(a.summary for a in notification.alerts)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, _HEADER_MAX)}}
    ]
    blocks += [_section(a) for a in notification.alerts[:_ALERTS_SHOWN]]
    hidden = len(notification.alerts) - _ALERTS_SHOWN
    context = f"driftline · group {notification.group_key[:12]}"
    if hidden > 0:
        context = f"{hidden} more alerts not shown · " + context
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": _cut(f"{title}: {summaries}", _SECTION_MAX), "blocks": blocks}


class SlackChannel:
    """Post each notification to a Slack incoming webhook URL.

    >>> SlackChannel("https://hooks.slack.com/services/T000/B000/XXXX").name
    'slack'
    """

    def __init__(
        self,
        webhook_url: str,
        *,
        name: str = "slack",
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = check_name(name)
        self.webhook_url = check_url(webhook_url, channel=name, field="webhook_url")
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
        """POST the Slack message; the result says whether Slack took it."""
        body = canonical_json(slack_message(notification))
        return self._poster.post(self.webhook_url, body, {})
