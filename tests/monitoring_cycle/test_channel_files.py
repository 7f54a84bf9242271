"""Channels declared in YAML: built as declared, or refused naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from driftline.exceptions import NotFoundError, ValidationError
from driftline.monitoring import (
    EmailChannel,
    LogChannel,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
    load_channels,
)

KEY = "R0123456789abcdef0123456789ABCDE"
GOOD = {
    "channels": [
        {"type": "webhook", "url": "https://hooks.example.com/d", "secret": "s3", "timeout": 3},
        {"type": "slack", "url": "https://hooks.slack.com/services/T/B/X"},
        {"type": "pagerduty", "routing_key": KEY, "url": "http://127.0.0.1:9/pd"},
        {"type": "email", "host": "smtp.example.com", "port": 2525,
         "from": "driftline@example.com", "to": "oncall@example.com", "starttls": "always"},
        {"type": "log", "name": "audit-log"},
    ]
}  # fmt: skip


def _write(tmp_path: Path, data: Any, name: str = "channels.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def test_every_kind_is_built_with_its_settings(tmp_path: Path) -> None:
    hook, slack, pagerduty, mail, log = load_channels(_write(tmp_path, GOOD))
    assert isinstance(hook, WebhookChannel) and hook.secret == "s3" and hook.name == "webhook"
    assert isinstance(slack, SlackChannel) and slack.webhook_url.endswith("/X")
    assert isinstance(pagerduty, PagerDutyChannel) and pagerduty.url == "http://127.0.0.1:9/pd"
    assert isinstance(mail, EmailChannel)
    assert (mail.port, mail.recipients, mail.starttls) == (2525, ["oncall@example.com"], "always")
    assert isinstance(log, LogChannel) and log.name == "audit-log"


def _with(index: int, **changes: Any) -> dict[str, Any]:
    items = [dict(c) for c in GOOD["channels"]]
    items[index].update(changes)
    return {"channels": [{k: v for k, v in c.items() if v is not None} for c in items]}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_with(0, url="hooks.example.com/no-scheme"), r"channels\[0\] \(webhook\).*'url'"),
        (_with(1, url=None), r"channels\[1\] \(slack\): missing field 'url'"),
        (_with(1, url="ftp://x"), r"channels\[1\] \(slack\).*field 'url'"),
        (_with(2, routing_key="short"), r"channels\[2\] \(pagerduty\).*'routing_key'"),
        (_with(3, port=70000), r"channels\[3\] \(email\).*field 'port'"),
        (_with(3, **{"from": "not-an-address"}), r"channels\[3\] \(email\).*field 'from'"),
        (_with(3, to=[]), r"channels\[3\] \(email\).*field 'to'"),
        (_with(0, retries=3), r"channels\[0\] \(webhook\): unknown field 'retries'"),
        (_with(4, type="teams"), r"channels\[4\]: field 'type' must be one of"),
        (_with(4, name="webhook"), r"channels\[4\]: two channels are named 'webhook'"),
        (_with(0, timeout="soon"), r"channels\[0\] \(webhook\).*'timeout'"),
        ({"channel": []}, "unknown top-level key 'channel'"),
        ({"channels": "webhook"}, "expected a list of channels"),
        ("channels: [\n  - type: log\n  bad", r"not valid YAML \(line"),
    ],
    ids=[
        "url-no-scheme", "slack-no-url", "slack-ftp", "pd-key", "smtp-port", "smtp-from",
        "smtp-to", "unknown-field", "unknown-type", "duplicate-name", "timeout-text",
        "top-level", "not-a-list", "yaml-syntax",
    ],
)  # fmt: skip
def test_bad_files_name_the_file_and_the_field(tmp_path: Path, data: Any, match: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(ValidationError, match=match) as caught:
        load_channels(path)
    assert str(caught.value).startswith(str(path))


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_channels(tmp_path / "nope.yaml")
