"""``driftline predlog compact``: rewrite the server's Arrow log segments as Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftline.cli._output import console, print_json
from driftline.config import Settings

__all__ = ["register"]

group = typer.Typer(
    help="Maintain the prediction log the server writes (HOME/predictions).",
    no_args_is_help=True,
)


@group.command("compact")
def compact(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="The log folder (default: HOME/predictions)."),
    ] = None,
    min_age: Annotated[
        float,
        typer.Option(min=0.0, help="Leave segments younger than this many seconds."),
    ] = 0.0,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Rewrite closed Arrow IPC segments as zstd Parquet (the server does it every 10 minutes)."""
    from driftline.predlog import compact_log

    settings: Settings = ctx.find_root().obj
    folder = directory if directory is not None else settings.home / "predictions"
    result = compact_log(folder, min_age_s=min_age)
    if json:
        print_json(result.to_dict())
        return
    if result.locked:
        console().print(f"another compaction of {folder} is running; nothing done")
        return
    console().print(
        f"compacted {result.segments} segments ({result.rows} rows) in {folder}: "
        f"{result.bytes_before:,} -> {result.bytes_after:,} bytes"
        + (f"; {result.skipped} too young" if result.skipped else "")
        + (f"; {result.leftovers} leftovers removed" if result.leftovers else "")
    )
    for failure in result.failed or []:
        console().print(f"  could not compact {failure}")
    if result.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``predlog`` group to ``app``."""
    app.add_typer(group, name="predlog")
