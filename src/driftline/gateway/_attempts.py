"""What a failed attempt means: may it be sent again, and does it count against the upstream."""

from __future__ import annotations

import httpx

from driftline.gateway.policies import RetryPolicy

__all__ = ["counts_against_upstream", "describe_error", "error_kind", "may_retry_error"]


def error_kind(exc: httpx.HTTPError) -> str:
    """``connect`` (never sent), ``pool`` (our own pool is full), ``timeout`` or ``transport``."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "connect"
    if isinstance(exc, httpx.PoolTimeout):
        return "pool"
    if isinstance(exc, httpx.ReadTimeout):
        return "timeout"
    return "transport"


def may_retry_error(policy: RetryPolicy, method: str, exc: httpx.HTTPError) -> bool:
    """Whether ``exc`` on a ``method`` request may be retried on another upstream."""
    kind = error_kind(exc)
    if kind == "connect":
        return True
    if kind == "pool":
        return False
    if kind == "timeout":
        return policy.on_timeout and policy.retries(method)
    return policy.retries(method)


def counts_against_upstream(exc: httpx.HTTPError) -> bool:
    """A full local pool says nothing about the upstream; every other error does."""
    return error_kind(exc) != "pool"


def describe_error(exc: BaseException) -> str:
    """``ConnectError: [Errno 111] Connection refused``, or the bare type name."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
