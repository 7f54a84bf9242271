"""Generic webhook: the notification as JSON, signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

import httpx

from driftline._canonical import canonical_json
from driftline.exceptions import ValidationError
from driftline.monitoring.channels._checks import check_name, check_timeout
from driftline.monitoring.channels._http import HttpPoster, check_url
from driftline.monitoring.channels.retry import RetryPolicy
from driftline.monitoring.notifications import DeliveryResult, Notification
from driftline.store import Clock, utc_now

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookChannel", "sign"]

SIGNATURE_HEADER = "X-Driftline-Signature"
TIMESTAMP_HEADER = "X-Driftline-Timestamp"


def sign(body: bytes, secret: str) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of ``body``.

    >>> body = b'{"a":1}'
    >>> sign(body, "s3cret") == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    True
    """
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookChannel:
    """POST each notification as JSON to ``url``.

    With a ``secret``, the ``X-Driftline-Signature`` header is ``sha256=<hex HMAC-SHA256 of
    the body>``; ``X-Driftline-Timestamp`` holds the Unix send time, which is also the body's
    ``sent_at``, so it is covered by the signature and receivers can refuse stale replays.

    >>> channel = WebhookChannel("https://hooks.example.com/driftline", secret="s3cret")
    >>> channel.name
    'webhook'
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        name: str = "webhook",
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = check_name(name)
        self.url = check_url(url, channel=name, field="url")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise ValidationError(f"channel {name!r}: field 'secret' must be a non-empty string")
        self.secret = secret
        self.headers = dict(headers or {})
        self.clock = clock
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
        """POST the notification; the result says whether the receiver took it."""
        sent_at = int(self.clock().timestamp())
        body = canonical_json({**notification.to_dict(), "sent_at": sent_at})
        headers = {**self.headers, TIMESTAMP_HEADER: str(sent_at)}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = sign(body, self.secret)
        return self._poster.post(self.url, body, headers)
