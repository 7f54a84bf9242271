"""``driftline init`` and ``driftline status``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from driftline.cli._output import console, open_workspace, print_json

__all__ = ["register"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def init(ctx: typer.Context, json: JsonOption = False) -> None:
    """Create the workspace (directory, metadata DB, artifact store) if it does not exist."""
    with open_workspace(ctx, create=True) as ws:
        status = ws.status()
    if json:
        print_json(status)
    else:
        console().print(f"workspace ready at {status['home']} (db: {status['db']['url']})")


def status(ctx: typer.Context, json: JsonOption = False) -> None:
    """Show the workspace: version, database, artifacts and audit log head."""
    with open_workspace(ctx) as ws:
        info = ws.status()
    if json:
        print_json(info)
    else:
        console().print(_status_table(info))


def _status_table(info: dict[str, Any]) -> Table:
    table = Table(title="driftline workspace", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    rows = [
        ("version", info["version"]),
        ("home", info["home"]),
        ("workspace id", info["workspace_id"]),
        ("database", f"{info['db']['url']} (schema {info['db']['schema_revision']})"),
        (
            "artifacts",
            f"{info['artifacts']['location']}: {info['artifacts']['count']} files, "
            f"{info['artifacts']['bytes']} bytes",
        ),
        (
            "audit log",
            f"{info['audit']['entries']} entries, head {info['audit']['head_hash'][:12]}",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("init")(init)
    app.command("status")(status)
