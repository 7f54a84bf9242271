"""``driftline demo``: the closed loop on real data, in compressed time."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from driftline.config import Settings
from driftline.demo._replay import DemoLoop, WindowSummary
from driftline.demo._transport import Answer, HttpTransport, InProcessTransport, Transport
from driftline.demo.report import write_report
from driftline.demo.scenarios import SCENARIOS, Scenario, get, train_model

__all__ = [
    "SCENARIOS",
    "Answer",
    "DemoLoop",
    "HttpTransport",
    "InProcessTransport",
    "Scenario",
    "Transport",
    "WindowSummary",
    "run_demo",
    "train_model",
]


def run_demo(
    scenario: str,
    settings: Settings,
    *,
    on_window: Callable[[WindowSummary], None] | None = None,
    on_status: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], list[WindowSummary]]:
    """Run ``scenario`` in a new folder under ``settings.home``; return summary and windows.

    Each run gets its own workspace (``HOME/demo-<scenario>-<time>``), so runs never mix.
    """
    from driftline.workspace import Workspace

    chosen = get(scenario)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    home = Path(settings.home) / f"demo-{chosen.name}-{stamp}"
    run_settings = settings.model_copy(
        update={
            "home": home,
            "db_url": None,
            "artifacts": None,
            "admin_token": secrets.token_urlsafe(24),
        }
    )
    with Workspace.open(settings=run_settings) as ws:
        loop = DemoLoop(ws, chosen, on_window=on_window, on_status=on_status)
        summary = loop.run()
        report = write_report(home / "report.html", ws, summary, loop.windows, loop.cycles)
        summary["report"] = str(report.resolve())
        summary["workspace"] = str(home.resolve())
    return summary, loop.windows
