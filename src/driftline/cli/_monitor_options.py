"""Options that ``driftline monitor run`` and ``driftline run`` share: one text for both."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ChannelsOption", "PerformanceWindowOption", "RulesOption", "WindowOption"]

RulesOption = Annotated[
    Path | None,
    typer.Option(help="Alert rules YAML (default: the ready-made rules)."),
]
ChannelsOption = Annotated[
    Path | None,
    typer.Option(help="Alert channels YAML: webhook, slack, pagerduty, email, log."),
]
WindowOption = Annotated[
    str, typer.Option(help="Span of drift windows and of quality and latency signals.")
]
PerformanceWindowOption = Annotated[str, typer.Option(help="Span measured with delayed labels.")]
