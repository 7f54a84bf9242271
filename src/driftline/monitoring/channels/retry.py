"""Retrying a delivery with exponential backoff, within a bound on attempts and total time."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime

from driftline.exceptions import ValidationError
from driftline.monitoring._series import to_utc
from driftline.monitoring.notifications import DeliveryResult

__all__ = ["Outcome", "RetryPolicy", "parse_retry_after", "run_with_retry"]


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff ``initial_delay * multiplier**(n-1)`` capped at ``max_delay``.

    At most ``max_attempts`` attempts, and no wait that would end past ``max_elapsed``
    seconds from the first attempt. A ``Retry-After`` from the receiver replaces the backoff.

    >>> [RetryPolicy(initial_delay=1, max_delay=5).backoff(n) for n in (1, 2, 3, 4)]
    [1.0, 2.0, 4.0, 5.0]
    """

    max_attempts: int = 4
    initial_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 30.0
    max_elapsed: float = 60.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ValidationError("retry policy: max_attempts must be an integer")
        if self.max_attempts < 1:
            raise ValidationError("retry policy: max_attempts must be at least 1")
        for key in ("initial_delay", "max_delay", "max_elapsed"):
            value = getattr(self, key)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValidationError(f"retry policy: {key} must be a number >= 0")
        if not isinstance(self.multiplier, int | float) or self.multiplier < 1:
            raise ValidationError("retry policy: multiplier must be >= 1")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1)."""
        return float(min(self.max_delay, self.initial_delay * self.multiplier ** (attempt - 1)))


@dataclass(frozen=True)
class Outcome:
    """One attempt's result: delivered, or failed and whether trying again may help."""

    ok: bool
    retryable: bool = False
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if valid.

    >>> from datetime import UTC
    >>> parse_retry_after("7", datetime(2026, 1, 1, tzinfo=UTC))
    7.0
    >>> parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", datetime(2026, 1, 1, tzinfo=UTC))
    30.0
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (to_utc(moment) - to_utc(now)).total_seconds())


def run_with_retry(
    attempt: Callable[[], Outcome],
    *,
    channel: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
) -> DeliveryResult:
    """Call ``attempt`` until it succeeds, fails for good, or the policy's bounds are hit.

    Never raises: an unexpected error in ``attempt`` is a failed, not-retried outcome.
    """
    start = monotonic()
    count = 0
    while True:
        count += 1
        try:
            outcome = attempt()
        except Exception as exc:  # a channel bug must not stop the monitoring loop
            outcome = Outcome(False, error=f"unexpected {type(exc).__name__}: {exc}")
        if outcome.ok or not outcome.retryable or count >= policy.max_attempts:
            break
        delay = outcome.retry_after if outcome.retry_after is not None else policy.backoff(count)
        if monotonic() - start + delay > policy.max_elapsed:
            outcome = replace(
                outcome,
                error=f"{outcome.error}; gave up: waiting {delay:g}s more would pass the "
                f"{policy.max_elapsed:g}s retry budget",
            )
            break
        sleep(delay)
    error = outcome.error
    if not outcome.ok and outcome.retryable and count >= policy.max_attempts:
        error = f"{error}; gave up after {count} attempts"
    return DeliveryResult(
        channel=channel,
        ok=outcome.ok,
        attempts=count,
        status_code=outcome.status_code,
        error=None if outcome.ok else error,
        seconds=round(monotonic() - start, 6),
    )
