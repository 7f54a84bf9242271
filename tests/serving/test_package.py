"""The public surface of ``driftline.serving``."""

from __future__ import annotations

import driftline.serving as serving
from driftline import predlog
from driftline.serving import routing


def test_all_is_sorted_and_importable() -> None:
    assert serving.__all__ == sorted(serving.__all__)
    for name in serving.__all__:
        assert getattr(serving, name) is not None, name


def test_routing_and_log_writers_are_re_exported_as_themselves() -> None:
    for name in ("Single", "ABSplit", "Shadow", "Canary", "CanaryRollout", "RouteDecision"):
        assert getattr(serving, name) is getattr(routing, name)
    for name in ("PredictionLogWriter", "FeedbackLogWriter", "read_predictions"):
        assert getattr(serving, name) is getattr(predlog, name)


def test_the_settings_carry_the_admin_token_without_showing_it() -> None:
    from driftline.config import Settings

    settings = Settings(admin_token="hunter2")
    assert settings.admin_token == "hunter2"
    assert "hunter2" not in repr(settings)
