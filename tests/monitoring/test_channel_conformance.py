"""Every channel passes the same conformance suite against a live loopback receiver."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from driftline.monitoring import (
    EmailChannel,
    LogChannel,
    PagerDutyChannel,
    RetryPolicy,
    SlackChannel,
    WebhookChannel,
)
from driftline.testing.channel_checks import (
    CHANNEL_CHECKS,
    NEEDS,
    ChannelCase,
    VirtualTime,
    applies,
)

ROUTING_KEY = "R0123456789abcdef0123456789ABCDE"
_HTTP_PATHS = {"ok": "/ok/{kind}", "transient": "/status/503", "permanent": "/status/400"}


def _http_case(kind: str, receiver: Any, closed_port: int) -> ChannelCase:
    ok_prefix = "/pd/" if kind == "pagerduty" else f"/ok/{kind}"

    def url(behaviour: str) -> str:
        if behaviour == "unreachable":
            return f"http://127.0.0.1:{closed_port}/nothing"
        if behaviour == "ok":
            return receiver.url(f"{ok_prefix}enqueue" if kind == "pagerduty" else ok_prefix)
        return receiver.url(_HTTP_PATHS[behaviour])

    def make(behaviour: str, time: VirtualTime, retry: RetryPolicy) -> Any:
        timing = {"retry": retry, "sleep": time.sleep, "monotonic": time.monotonic}
        if kind == "webhook":
            return WebhookChannel(url(behaviour), secret="conformance", **timing)
        if kind == "slack":
            return SlackChannel(url(behaviour), **timing)
        return PagerDutyChannel(ROUTING_KEY, url=url(behaviour), **timing)

    def received() -> list[str]:
        return [r.body.decode() for r in receiver.at(ok_prefix)]

    return ChannelCase(kind, make, received)


def _email_case(receiver: Any, closed_port: int) -> ChannelCase:
    recipients = {"ok": "oncall@example.com", "transient": "transient@example.com"}
    recipients["permanent"] = "permanent@example.com"

    def make(behaviour: str, time: VirtualTime, retry: RetryPolicy) -> EmailChannel:
        return EmailChannel(
            host="127.0.0.1",
            port=closed_port if behaviour == "unreachable" else receiver.port,
            sender="driftline@example.com",
            recipients=[recipients.get(behaviour, "oncall@example.com")],
            timeout=5,
            retry=retry,
            sleep=time.sleep,
            monotonic=time.monotonic,
        )

    return ChannelCase("email", make, lambda: [m["data"] for m in receiver.messages])


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _log_case() -> ChannelCase:
    records = _Records()
    logger = logging.getLogger("driftline.tests.alerts")
    logger.addHandler(records)
    logger.propagate = False
    return ChannelCase(
        "log",
        lambda behaviour, time, retry: LogChannel(logger=logger),
        lambda: list(records.lines),
        behaviours=frozenset({"ok"}),
    )


@pytest.fixture(params=["webhook", "slack", "pagerduty", "email", "log"])
def case(request: pytest.FixtureRequest, closed_port: int) -> ChannelCase:
    kind = request.param
    if kind == "log":
        return _log_case()
    if kind == "email":
        return _email_case(request.getfixturevalue("smtp_receiver"), closed_port)
    return _http_case(kind, request.getfixturevalue("http_receiver"), closed_port)


@pytest.mark.parametrize("check", CHANNEL_CHECKS, ids=lambda c: c.__name__)
def test_channel_conformance(case: ChannelCase, check: Callable[[ChannelCase], None]) -> None:
    if not applies(check, case):
        pytest.skip(f"the {case.name} receiver cannot play {NEEDS[check]!r}")
    check(case)


def test_a_broken_channel_fails_the_suite() -> None:
    class Lying:
        """Claims every delivery succeeded without sending anything."""

        name = "liar"

        def send(self, notification: Any) -> Any:
            from driftline.monitoring import DeliveryResult

            return DeliveryResult(channel="liar", ok=True, attempts=1)

    case = ChannelCase("liar", lambda b, t, r: Lying(), lambda: [])
    with pytest.raises(AssertionError, match="got nothing"):
        CHANNEL_CHECKS[0](case)
    transient_check = next(c for c in CHANNEL_CHECKS if NEEDS[c] == "transient")
    with pytest.raises(AssertionError, match="reported as delivered"):
        transient_check(case)
