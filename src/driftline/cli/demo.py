"""``driftline demo``: run the closed loop on real data in compressed time."""

from __future__ import annotations

from typing import Annotated

import typer

from driftline.cli._output import console, open_workspace, print_json
from driftline.cli.workspace import _status_table

__all__ = ["register"]


def demo(
    ctx: typer.Context,
    json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the demo in the workspace (created if missing) and print what it did."""
    with open_workspace(ctx, create=True) as ws:
        entry = ws.audit.record(
            action="demo.run", subject="workspace", payload={"stage": "foundation"}
        )
        verification = ws.audit.verify()
        info = ws.status()
    summary = {
        "workspace": info,
        "audit_entry": entry.to_dict(),
        "audit_verify": verification.to_dict(),
    }
    if json:
        print_json(summary)
        return
    out = console()
    out.print(_status_table(info))
    out.print(
        f"recorded audit entry {entry.seq} ({entry.action}); chain intact: "
        f"{verification.intact} over {verification.entries} entries"
    )
    out.print(
        "The closed loop (data, training, serving, drift, retraining) grows here as the "
        "later capabilities land."
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo)
