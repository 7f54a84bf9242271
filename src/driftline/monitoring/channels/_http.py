"""HTTP delivery shared by the webhook, Slack and PagerDuty channels: checks, POST, retries."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from driftline._version import __version__
from driftline.exceptions import ValidationError
from driftline.monitoring.channels.retry import (
    Outcome,
    RetryPolicy,
    parse_retry_after,
    run_with_retry,
)
from driftline.monitoring.notifications import DeliveryResult
from driftline.store import Clock, utc_now

__all__ = ["HttpPoster", "check_url", "target"]

USER_AGENT = f"driftline/{__version__}"


def check_url(url: Any, *, channel: str, field: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host, else a ValidationError."""
    problem = None
    if not isinstance(url, str) or not url.strip():
        problem = "is empty"
    else:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            problem = f"is not a URL ({exc})"
        else:
            if parsed.scheme not in ("http", "https"):
                problem = f"must start with https:// or http://, not {parsed.scheme or 'nothing'}"
            elif not parsed.host:
                problem = "has no host"
    if problem:
        raise ValidationError(f"channel {channel!r}: field {field!r}: URL {problem}")
    return str(url)


def target(url: str) -> str:
    """Scheme, host and port only: webhook paths often hold secrets, so messages omit them."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


class HttpPoster:
    """POST bytes with retries on 429, 5xx, timeouts and connection errors; never raises."""

    def __init__(
        self,
        *,
        channel: str,
        timeout: float,
        retry: RetryPolicy,
        transport: httpx.BaseTransport | None,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.timeout = timeout
        self.retry = retry
        self.transport = transport
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        """POST ``body`` to ``url``; 2xx is delivered, other 4xx fail at once."""
        sent = {"User-Agent": USER_AGENT, "Content-Type": "application/json", **headers}
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:

            def attempt() -> Outcome:
                return self._attempt(client, url, body, sent)

            return run_with_retry(
                attempt,
                channel=self.channel,
                policy=self.retry,
                sleep=self.sleep,
                monotonic=self.monotonic,
            )

    def _attempt(
        self, client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str]
    ) -> Outcome:
        where = target(url)
        try:
            response = client.post(url, content=body, headers=dict(headers))
        except httpx.TimeoutException:
            return Outcome(False, True, error=f"{where} timed out after {self.timeout:g}s")
        except httpx.TransportError as exc:
            return Outcome(False, True, error=f"cannot reach {where}: {exc}")
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(True, status_code=code)
        retryable = code == 429 or code >= 500
        text = response.text.strip().replace("\n", " ")[:200]
        return Outcome(
            False,
            retryable,
            status_code=code,
            error=f"{where} answered HTTP {code}" + (f": {text}" if text else ""),
            retry_after=parse_retry_after(response.headers.get("retry-after"), self.clock()),
        )
