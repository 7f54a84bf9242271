"""Alert channels in YAML: read them with errors that name the file, the channel and the field.

::

    channels:
      - type: webhook
        url: https://hooks.example.com/driftline
        secret: change-me              # signs each body (HMAC-SHA256 header)
      - type: slack
        url: https://hooks.slack.com/services/T000/B000/XXXX
      - type: pagerduty
        routing_key: R0123456789abcdef0123456789ABCDE
        url: https://events.pagerduty.com/v2/enqueue   # optional
      - type: email
        host: smtp.example.com
        port: 587
        from: driftline@example.com
        to: [oncall@example.com]
        starttls: auto                 # auto, always or never
      - type: log

Every channel also takes ``name`` (default: its type; names must differ) and, except
``log``, ``timeout`` in seconds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from driftline.exceptions import ValidationError
from driftline.monitoring._yaml_files import read_yaml
from driftline.monitoring.channels import (
    EmailChannel,
    LogChannel,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
)
from driftline.monitoring.notifications import Channel

__all__ = ["channels_from_data", "load_channels"]

# YAML key -> constructor argument, per type; required keys first.
_FIELDS: dict[str, dict[str, str]] = {
    "webhook": {"url": "url", "secret": "secret", "headers": "headers", "timeout": "timeout"},
    "slack": {"url": "webhook_url", "timeout": "timeout"},
    "pagerduty": {
        "routing_key": "routing_key",
        "url": "url",
        "source": "source",
        "client_url": "client_url",
        "timeout": "timeout",
    },
    "email": {
        "host": "host",
        "from": "sender",
        "to": "recipients",
        "port": "port",
        "starttls": "starttls",
        "ssl": "use_ssl",
        "username": "username",
        "password": "password",
        "timeout": "timeout",
    },
    "log": {},
}
_REQUIRED = {
    "webhook": ("url",),
    "slack": ("url",),
    "pagerduty": ("routing_key",),
    "email": ("host", "from", "to"),
    "log": (),
}
_CLASSES: dict[str, Any] = {
    "webhook": WebhookChannel,
    "slack": SlackChannel,
    "pagerduty": PagerDutyChannel,
    "email": EmailChannel,
    "log": LogChannel,
}


def load_channels(path: str | os.PathLike[str]) -> list[Channel]:
    """The channels declared in the YAML file at ``path`` (``channels:`` list, or a bare list)."""
    data = read_yaml(path, "channels")
    return channels_from_data(data, source=str(Path(path)))


def channels_from_data(data: Any, *, source: str = "channels") -> list[Channel]:
    """Channels from parsed YAML/JSON: ``{"channels": [...]}`` or a list of channel mappings.

    >>> [c.name for c in channels_from_data({"channels": [{"type": "log", "name": "audit"}]})]
    ['audit']
    """
    items = data.get("channels") if isinstance(data, Mapping) else data
    if isinstance(data, Mapping) and set(data) - {"channels"}:
        extra = sorted(str(k) for k in set(data) - {"channels"})[0]
        raise ValidationError(f"{source}: unknown top-level key {extra!r}; expected 'channels'")
    if not isinstance(items, list):
        raise ValidationError(f"{source}: expected a list of channels under 'channels:'")
    channels: list[Channel] = []
    names: set[str] = set()
    for index, item in enumerate(items):
        channel = _one(item, f"{source}: channels[{index}]")
        if channel.name in names:
            raise ValidationError(
                f"{source}: channels[{index}]: two channels are named {channel.name!r}; "
                "give each a distinct 'name'"
            )
        names.add(channel.name)
        channels.append(channel)
    return channels


def _one(item: Any, where: str) -> Channel:
    if not isinstance(item, Mapping):
        raise ValidationError(f"{where}: a channel is a mapping of fields, got {item!r}")
    kind = item.get("type")
    if kind not in _CLASSES:
        raise ValidationError(
            f"{where}: field 'type' must be one of {', '.join(_CLASSES)}, got {kind!r}"
        )
    where = f"{where} ({kind})"
    fields = _FIELDS[kind]
    allowed = {"type", "name", *fields}
    unknown = sorted(str(k) for k in set(item) - allowed)
    if unknown:
        raise ValidationError(
            f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}"
        )
    missing = [key for key in _REQUIRED[kind] if item.get(key) in (None, "")]
    if missing:
        raise ValidationError(f"{where}: missing field {missing[0]!r}")
    kwargs = {fields[k]: v for k, v in item.items() if k in fields}
    kwargs["name"] = item.get("name", kind)
    if kind == "email" and isinstance(kwargs.get("recipients"), str):
        kwargs["recipients"] = [kwargs["recipients"]]
    try:
        return _build(kind, kwargs)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {_yaml_names(str(exc), fields)}") from None


def _build(kind: str, kwargs: dict[str, Any]) -> Channel:
    cls = _CLASSES[kind]
    first = {"webhook": "url", "slack": "webhook_url", "pagerduty": "routing_key"}.get(kind)
    args = [kwargs.pop(first)] if first else []
    try:
        return cls(*args, **kwargs)
    except (TypeError, ValueError) as exc:  # a YAML value of the wrong shape
        raise ValidationError(f"a field has the wrong type: {exc}") from None


def _yaml_names(message: str, fields: Mapping[str, str]) -> str:
    # The channel classes name their arguments; the reader of the file knows its keys.
    for key, argument in fields.items():
        if key != argument:
            message = message.replace(f"field {argument!r}", f"field {key!r}")
    return message
