"""The public surface of driftline.monitoring."""

from __future__ import annotations

import inspect

import driftline.monitoring as monitoring
import driftline.monitoring.channels as channels


def test_public_names_resolve_and_are_curated() -> None:
    assert len(monitoring.__all__) == len(set(monitoring.__all__))
    for name in monitoring.__all__:
        assert getattr(monitoring, name) is not None, name
    for name in channels.__all__:
        assert getattr(channels, name) is not None, name
    assert {
        "AlertManager", "AlertRule", "Alerts", "MetricStore", "WebhookChannel", "SlackChannel",
        "PagerDutyChannel", "EmailChannel", "LogChannel", "load_rules", "CATALOGUE",
        "write_prometheus_rules", "write_grafana_dashboard", "presets",
    } <= set(monitoring.__all__)  # fmt: skip
    assert not [n for n in monitoring.__all__ if n.startswith("_")]


def test_every_channel_satisfies_the_protocol_and_has_a_doctest() -> None:
    for cls in (
        monitoring.WebhookChannel,
        monitoring.SlackChannel,
        monitoring.PagerDutyChannel,
        monitoring.EmailChannel,
        monitoring.LogChannel,
    ):
        assert ">>>" in (cls.__doc__ or ""), cls.__name__
        assert "send" in dict(inspect.getmembers(cls)), cls.__name__
