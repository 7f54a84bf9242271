"""Alert channels: one small class each behind the :class:`Channel` protocol.

``send(notification) -> DeliveryResult`` never raises; HTTP channels retry 429 and 5xx with
exponential backoff (honouring ``Retry-After``) within a :class:`RetryPolicy`, never other 4xx.
"""

from driftline.monitoring.channels.email import EmailChannel, email_message
from driftline.monitoring.channels.log import LogChannel
from driftline.monitoring.channels.pagerduty import EVENTS_URL, PagerDutyChannel, pagerduty_event
from driftline.monitoring.channels.retry import RetryPolicy, parse_retry_after
from driftline.monitoring.channels.slack import SlackChannel, slack_message
from driftline.monitoring.channels.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    sign,
)
from driftline.monitoring.notifications import Channel, DeliveryResult, Notification

__all__ = [
    "EVENTS_URL",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Channel",
    "DeliveryResult",
    "EmailChannel",
    "LogChannel",
    "Notification",
    "PagerDutyChannel",
    "RetryPolicy",
    "SlackChannel",
    "WebhookChannel",
    "email_message",
    "pagerduty_event",
    "parse_retry_after",
    "sign",
    "slack_message",
]
