"""``driftline demo``: run the closed loop on real data in compressed time."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from driftline.cli._output import console, error_console, print_json

__all__ = ["register"]


def demo(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Option(help="elec2 (default) or bank.")] = "elec2",
    json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Train, serve, replay a drifting stream, detect, retrain, canary, promote: for real."""
    from driftline.demo import get, run_demo

    settings = ctx.find_root().obj
    chosen = get(scenario)
    out = error_console() if json else console()
    started = time.monotonic()
    windows = chosen.replay_rows // chosen.window_rows
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} windows"),
        TimeElapsedColumn(),
        console=out,
        transient=False,
    ) as progress:
        task = progress.add_task(f"{chosen.name}: starting", total=windows)

        def on_window(summary: Any) -> None:
            progress.update(
                task,
                advance=1,
                description=(
                    f"{chosen.name}: window {summary.index}, accuracy {_pct(summary.accuracy)}, "
                    f"champion v{summary.champion_version} {summary.decision}"[:90]
                ),
            )

        def on_status(text: str) -> None:
            progress.update(task, description=f"{chosen.name}: {text}"[:90])

        summary, rows = run_demo(scenario, settings, on_window=on_window, on_status=on_status)
    summary["seconds"] = round(time.monotonic() - started, 1)
    if json:
        print_json(summary)
        return
    out.print(_table(rows))
    out.print(
        f"accuracy of the served predictions {_pct(summary['accuracy_driftline'])} vs "
        f"{_pct(summary['accuracy_static'])} for the static v1 model on the same "
        f"{summary['rows']} rows; {summary['retrains']} retrains, {summary['promotions']} "
        f"promotions, {summary['rollbacks']} rollbacks; champion is "
        f"v{summary['final_champion_version']} ({summary['seconds']} s)"
    )
    out.print(f"report: {summary['report']}")
    out.print(
        f"workspace: {summary['workspace']} (try: driftline --home "
        f"{summary['workspace']} audit verify)"
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _table(rows: list[Any]) -> Table:
    table = Table(title="windows")
    for column in ("window", "rows", "accuracy", "drift share", "alerts", "decision", "champion"):
        table.add_column(column)
    for w in rows:
        table.add_row(
            str(w.index),
            str(w.rows),
            _pct(w.accuracy),
            _pct(w.drift_share),
            str(w.alerts_firing),
            w.decision,
            f"v{w.champion_version}",
        )
    return table


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)
