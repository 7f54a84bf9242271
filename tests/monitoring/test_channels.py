"""Each channel against real loopback receivers: body shapes, signatures, retries, TLS."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import ssl
import time
from dataclasses import replace
from datetime import UTC, datetime
from email.message import Message
from typing import Any

import pytest

from driftline.exceptions import ValidationError
from driftline.monitoring import (
    AlertState,
    EmailChannel,
    PagerDutyChannel,
    RetryPolicy,
    SlackChannel,
    WebhookChannel,
)
from driftline.monitoring.channels import parse_retry_after
from driftline.testing.channel_checks import VirtualTime, sample_alert, sample_notification

KEY = "R0123456789abcdef0123456789ABCDE"
NOW = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)


def _timing(retry: RetryPolicy | None = None) -> tuple[VirtualTime, dict[str, Any]]:
    clock = VirtualTime()
    return clock, {
        "retry": retry or RetryPolicy(max_attempts=3, initial_delay=1, max_delay=8),
        "sleep": clock.sleep,
        "monotonic": clock.monotonic,
    }


def test_webhook_body_is_signed_with_hmac_sha256(http_receiver: Any) -> None:
    channel = WebhookChannel(
        http_receiver.url("/ok/signed"), secret="s3cret", clock=lambda: NOW, name="ops-hook"
    )
    alert = sample_alert()
    result = channel.send(sample_notification([alert]))
    assert result.ok and result.status_code == 200 and result.channel == "ops-hook"
    request = http_receiver.at("/ok/signed")[-1]
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-driftline-signature"] == f"sha256={expected}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-driftline-timestamp"] == str(int(NOW.timestamp()))
    body = request.json()
    assert body["sent_at"] == int(NOW.timestamp())  # the signed body carries the timestamp
    assert body["status"] == "firing"
    assert [a["fingerprint"] for a in body["alerts"]] == [alert.fingerprint]
    assert body["alerts"][0]["labels"]["feature"] == "amount"
    # A receiver holding another secret (or a tampered body) sees a different signature.
    forged = hmac.new(b"other", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-driftline-signature"] != f"sha256={forged}"


def test_webhook_without_secret_sends_no_signature(http_receiver: Any) -> None:
    assert WebhookChannel(http_receiver.url("/ok/unsigned")).send(sample_notification()).ok
    assert "x-driftline-signature" not in http_receiver.at("/ok/unsigned")[-1].headers


def test_slack_body_has_text_and_blocks(http_receiver: Any) -> None:
    alert = sample_alert(labels={"feature": "<amount & co>"})
    assert SlackChannel(http_receiver.url("/ok/slackshape")).send(sample_notification([alert])).ok
    body = http_receiver.at("/ok/slackshape")[-1].json()
    assert set(body) == {"text", "blocks"}
    assert "FeatureDrift" in body["text"]
    header, section, context = body["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert len(header["text"]["text"]) <= 150
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "&lt;amount &amp; co&gt;" in section["text"]["text"]  # escaped for mrkdwn
    assert "<amount" not in section["text"]["text"]
    assert context["type"] == "context"


def test_pagerduty_trigger_then_resolve_share_the_dedup_key(http_receiver: Any) -> None:
    channel = PagerDutyChannel(KEY, url=http_receiver.url("/pd/shape"), source="fraud-api")
    firing = sample_alert(labels={"severity": "critical"})
    firing = replace(firing, severity="critical")
    resolved = replace(firing, state=AlertState.RESOLVED)
    assert channel.send(sample_notification([firing])).status_code == 202
    assert channel.send(sample_notification([resolved])).ok
    trigger, resolve = (r.json() for r in http_receiver.at("/pd/shape")[-2:])
    assert trigger["routing_key"] == KEY and trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == firing.fingerprint
    payload = trigger["payload"]
    assert payload["severity"] == "critical"
    assert payload["source"] == "fraud-api"
    assert payload["summary"] == firing.summary
    assert payload["component"] == "fraud"
    assert resolve == {
        "routing_key": KEY,
        "event_action": "resolve",
        "dedup_key": firing.fingerprint,
    }


@pytest.mark.parametrize(
    ("severity", "expected"), [("info", "info"), ("warning", "warning"), ("critical", "critical")]
)
def test_pagerduty_severity_names(http_receiver: Any, severity: str, expected: str) -> None:
    alert = replace(sample_alert(), severity=severity)
    PagerDutyChannel(KEY, url=http_receiver.url(f"/pd/sev-{severity}")).send(
        sample_notification([alert])
    )
    assert http_receiver.at(f"/pd/sev-{severity}")[-1].json()["payload"]["severity"] == expected


def test_pagerduty_summary_is_cut_to_1024(http_receiver: Any) -> None:
    alert = sample_alert(summary="y" * 3000)
    PagerDutyChannel(KEY, url=http_receiver.url("/pd/long")).send(sample_notification([alert]))
    assert len(http_receiver.at("/pd/long")[-1].json()["payload"]["summary"]) == 1024


def _last_email(receiver: Any) -> Message:
    return email.message_from_string(receiver.messages[-1]["data"])


def test_email_is_plain_text_with_the_alert(smtp_receiver: Any) -> None:
    channel = EmailChannel(
        host="127.0.0.1",
        port=smtp_receiver.port,
        sender="driftline@example.com",
        recipients=["oncall@example.com", "ml@example.com"],
    )
    alert = sample_alert()
    assert channel.send(sample_notification([alert])).ok
    message = _last_email(smtp_receiver)
    assert smtp_receiver.messages[-1]["to"] == ["oncall@example.com", "ml@example.com"]
    assert message["Subject"] == "[FIRING:1] FeatureDrift (model=fraud)"
    assert message["From"] == "driftline@example.com"
    assert message.get_content_type() == "text/plain"
    body = message.get_payload(decode=True).decode()
    assert alert.summary in body
    assert "value 0.31, threshold 0.2" in body
    assert alert.fingerprint in body


def test_email_upgrades_with_starttls_when_required(
    smtp_tls_receiver: Any, client_tls: ssl.SSLContext
) -> None:
    common = {
        "host": "127.0.0.1",
        "port": smtp_tls_receiver.port,
        "sender": "driftline@example.com",
        "recipients": ["oncall@example.com"],
        "ssl_context": client_tls,
    }
    result = EmailChannel(**common, starttls="always").send(sample_notification())
    assert result.ok, result.error
    assert smtp_tls_receiver.messages[-1]["tls"] is True
    assert EmailChannel(**common, starttls="auto").send(sample_notification()).ok
    # Refusing TLS against a server that requires it: a permanent 5xx, not retried.
    _, timing = _timing()
    refused = EmailChannel(**common, starttls="never", **timing).send(sample_notification())
    assert not refused.ok and refused.attempts == 1 and refused.status_code == 530


def test_email_requiring_starttls_refuses_a_plain_server(smtp_receiver: Any) -> None:
    channel = EmailChannel(
        host="127.0.0.1",
        port=smtp_receiver.port,
        sender="driftline@example.com",
        recipients=["oncall@example.com"],
        starttls="always",
    )
    before = len(smtp_receiver.messages)
    result = channel.send(sample_notification())
    assert not result.ok and "does not offer STARTTLS" in (result.error or "")
    assert len(smtp_receiver.messages) == before


def test_retry_after_is_honoured_on_429(http_receiver: Any) -> None:
    clock, timing = _timing()
    result = WebhookChannel(http_receiver.url("/status/429?retry_after=7"), **timing).send(
        sample_notification()
    )
    assert not result.ok and result.status_code == 429 and result.attempts == 3
    assert clock.sleeps == [7.0, 7.0]


def test_5xx_backs_off_exponentially_then_gives_up(http_receiver: Any) -> None:
    clock, timing = _timing(RetryPolicy(max_attempts=4, initial_delay=0.5, multiplier=2))
    before = len(http_receiver.at("/status/500"))
    result = SlackChannel(http_receiver.url("/status/500"), **timing).send(sample_notification())
    assert not result.ok and result.attempts == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert len(http_receiver.at("/status/500")) - before == 4
    assert "gave up after 4 attempts" in (result.error or "")


def test_retry_stops_when_the_time_budget_is_spent(http_receiver: Any) -> None:
    policy = RetryPolicy(max_attempts=10, initial_delay=1, multiplier=2, max_elapsed=2.5)
    clock, timing = _timing(policy)
    result = WebhookChannel(http_receiver.url("/status/502"), **timing).send(sample_notification())
    assert result.attempts == 2 and clock.sleeps == [1.0]
    assert "retry budget" in (result.error or "")
    # A Retry-After longer than the whole budget is not waited for at all.
    clock, timing = _timing(policy)
    long_wait = WebhookChannel(http_receiver.url("/status/429?retry_after=3600"), **timing)
    assert long_wait.send(sample_notification()).attempts == 1 and clock.sleeps == []


def test_a_flaky_receiver_is_delivered_to_after_retries(http_receiver: Any) -> None:
    clock, timing = _timing()
    result = WebhookChannel(http_receiver.url("/flaky/2/hook"), **timing).send(
        sample_notification()
    )
    assert result.ok and result.attempts == 3 and clock.sleeps == [1.0, 2.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_other_4xx_are_never_retried(http_receiver: Any, status: int) -> None:
    clock, timing = _timing()
    result = PagerDutyChannel(KEY, url=http_receiver.url(f"/status/{status}"), **timing).send(
        sample_notification()
    )
    assert not result.ok and result.attempts == 1 and result.status_code == status
    assert clock.sleeps == []


def test_a_receiver_that_times_out_is_a_counted_failure(http_receiver: Any) -> None:
    clock, timing = _timing(RetryPolicy(max_attempts=2, initial_delay=1))
    channel = WebhookChannel(http_receiver.url("/slow/hook"), timeout=0.2, **timing)
    started = time.monotonic()
    result = channel.send(sample_notification())
    assert time.monotonic() - started < 3
    assert not result.ok and result.attempts == 2
    assert "timed out after 0.2s" in (result.error or "")
    assert clock.sleeps == [1.0]


def test_error_messages_leave_out_the_secret_path(http_receiver: Any) -> None:
    _, timing = _timing(RetryPolicy(max_attempts=1))
    url = http_receiver.url("/status/500/T000/B000/secret-token")
    result = SlackChannel(url, **timing).send(sample_notification())
    assert "secret-token" not in (result.error or "")
    assert f"127.0.0.1:{http_receiver.port}" in (result.error or "")


@pytest.mark.parametrize(
    "url",
    ["", "not a url", "ftp://example.com/hook", "http://", "hooks.slack.com/services/x", 42],
    ids=["empty", "words", "ftp", "no-host", "no-scheme", "not-a-string"],
)
def test_malformed_urls_are_refused_naming_channel_and_field(url: Any) -> None:
    with pytest.raises(ValidationError, match=r"channel 'webhook': field 'url'"):
        WebhookChannel(url)
    with pytest.raises(ValidationError, match=r"channel 'team-slack': field 'webhook_url'"):
        SlackChannel(url, name="team-slack")
    with pytest.raises(ValidationError, match=r"channel 'pagerduty': field 'url'"):
        PagerDutyChannel(KEY, url=url)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sender": "not-an-address"}, "sender"),
        ({"recipients": []}, "recipients"),
        ({"recipients": "oncall@example.com"}, "recipients"),
        ({"recipients": ["a@b@c"]}, "recipients"),
        ({"port": 0}, "port"),
        ({"host": "smtp://x"}, "host"),
        ({"starttls": "sometimes"}, "starttls"),
        ({"username": "u"}, "username"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_email_config_is_checked_at_construction(kwargs: dict[str, Any], field: str) -> None:
    config: dict[str, Any] = {
        "host": "smtp.example.com",
        "sender": "ml@example.com",
        "recipients": ["oncall@example.com"],
        **kwargs,
    }
    with pytest.raises(ValidationError, match=rf"channel 'email'.*{field}"):
        EmailChannel(**config)


@pytest.mark.parametrize("key", ["", "short", "x" * 32 + "y", "0123456789abcdef0123456789abcde!"])
def test_pagerduty_routing_key_is_checked(key: str) -> None:
    with pytest.raises(ValidationError, match="field 'routing_key'"):
        PagerDutyChannel(key)


def test_webhook_secret_and_timeout_are_checked() -> None:
    with pytest.raises(ValidationError, match="field 'secret'"):
        WebhookChannel("https://example.com/h", secret="")
    with pytest.raises(ValidationError, match="field 'timeout'"):
        WebhookChannel("https://example.com/h", timeout=-1)


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"max_attempts": 1.5}, {"initial_delay": -1}, {"multiplier": 0.5}],
)
def test_retry_policy_is_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="retry policy"):
        RetryPolicy(**kwargs)


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Wed, 31 Dec 2025 23:59:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_notification_json_is_what_the_webhook_sends(http_receiver: Any) -> None:
    alerts = [sample_alert(rule="A"), sample_alert(AlertState.RESOLVED, rule="B")]
    note = sample_notification(alerts)
    WebhookChannel(http_receiver.url("/ok/json"), clock=lambda: NOW).send(note)
    body = http_receiver.at("/ok/json")[-1].json()
    assert body["status"] == "firing"
    assert [a["status"] for a in body["alerts"]] == ["firing", "resolved"]
    assert json.loads(json.dumps(note.to_dict()))["title"] == body["title"]
