"""The log channel: notifications written to a :mod:`logging` logger."""

from __future__ import annotations

import logging

from driftline.monitoring.channels._checks import check_name
from driftline.monitoring.notifications import DeliveryResult, Notification

__all__ = ["LogChannel"]


class LogChannel:
    """Log each notification's plain text at ``level`` (resolutions too, so they show).

    >>> LogChannel().name
    'log'
    """

    def __init__(
        self,
        *,
        logger: logging.Logger | None = None,
        level: int = logging.WARNING,
        name: str = "log",
    ) -> None:
        self.name = check_name(name)
        self.logger = logger or logging.getLogger("driftline.alerts")
        self.level = level

    def send(self, notification: Notification) -> DeliveryResult:
        """Write the notification to the logger (handlers' own errors stay in logging)."""
        self.logger.log(self.level, "%s", notification.text().rstrip("\n"))
        return DeliveryResult(channel=self.name, ok=True, attempts=1)
