"""``driftline audit ...``: read and verify the hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from driftline.cli._output import console, error_console, open_workspace, print_json

__all__ = ["register"]

group = typer.Typer(
    help="Read and verify the append-only, hash-chained audit log.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@group.command("verify")
def verify(ctx: typer.Context, json: JsonOption = False) -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if it is broken."""
    with open_workspace(ctx) as ws:
        result = ws.audit.verify()
    if json:
        print_json(result.to_dict())
    elif result.intact:
        console().print(f"audit log intact: {result.entries} entries")
    else:
        error_console().print(
            f"audit log BROKEN at seq {result.first_bad_seq}: {result.reason} "
            f"({result.entries} entries verified before it)"
        )
    if not result.intact:
        raise typer.Exit(1)


@group.command("log")
def log(
    ctx: typer.Context,
    json: JsonOption = False,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many entries.")] = 20,
) -> None:
    """Show the newest audit entries, newest first."""
    with open_workspace(ctx) as ws:
        entries = ws.audit.entries(limit=limit)
    if json:
        print_json([entry.to_dict() for entry in entries])
        return
    table = Table(title="audit log (newest first)")
    for column in ("seq", "time", "actor", "action", "subject"):
        table.add_column(column)
    for entry in entries:
        table.add_row(str(entry.seq), entry.time, entry.actor, entry.action, entry.subject)
    console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``audit`` group to ``app``."""
    app.add_typer(group, name="audit")
