"""``driftline data ...``: register, list and show dataset versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from driftline.cli._output import console, open_workspace, print_json

__all__ = ["register"]

group = typer.Typer(
    help="Register, list and show content-hashed dataset versions.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@group.command("add")
def add(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="CSV (optionally gzipped), TSV or Parquet file.")],
    name: Annotated[str, typer.Option(help="Dataset name; versions are numbered per name.")],
    null_values: Annotated[
        list[str] | None,
        typer.Option("--null-values", help="Extra cell text that means missing (repeatable)."),
    ] = None,
    allow_mixed: Annotated[
        bool, typer.Option(help="Keep mostly-numeric columns with stray text as text.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Register a file as a dataset version (identical content returns the existing one)."""
    with open_workspace(ctx, create=True) as ws:
        version = ws.datasets.add(
            path, name=name, null_values=null_values or (), allow_mixed=allow_mixed
        )
    if json:
        print_json(version.summary())
        return
    state = "already registered as" if version.existed else "registered"
    console().print(
        f"{state} {version.ref}: {version.rows} rows x {len(version.columns)} columns, "
        f"sha256 {version.sha256}"
    )


@group.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Only versions of this dataset.")] = None,
    json: JsonOption = False,
) -> None:
    """List registered dataset versions."""
    with open_workspace(ctx) as ws:
        versions = ws.datasets.list(name)
    if json:
        print_json([v.summary() for v in versions])
        return
    table = Table(title="datasets")
    for column in ("ref", "rows", "columns", "sha256", "created"):
        table.add_column(column)
    for v in versions:
        table.add_row(v.ref, str(v.rows), str(len(v.columns)), v.sha256[:16], v.created_at)
    console().print(table)


@group.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or a dataset version id.")],
    json: JsonOption = False,
) -> None:
    """Show one dataset version with its inferred schema."""
    with open_workspace(ctx) as ws:
        version = ws.datasets.get(ref)
    if json:
        print_json(version.to_dict())
        return
    out = console()
    out.print(
        f"{version.ref}  id {version.id}\nsha256 {version.sha256}\n"
        f"{version.rows} rows, source {version.source_uri or '-'}, "
        f"created {version.created_at} by {version.created_by}"
    )
    table = Table()
    for column in ("column", "type", "nulls", "observed"):
        table.add_column(column)
    for c in version.columns:
        observed = (
            ", ".join(c.categories[:8])
            if c.logical_type == "categorical"
            else f"{c.min} .. {c.max}"
            if c.min is not None
            else ""
        )
        table.add_row(c.name, c.logical_type, str(c.null_count), observed)
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``data`` group to ``app``."""
    app.add_typer(group, name="data")
