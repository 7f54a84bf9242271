"""``driftline quality ...``: suggest a suite from data, check data against a suite."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from driftline.cli._output import console, open_workspace, print_json
from driftline.exceptions import NotFoundError

__all__ = ["register"]

group = typer.Typer(
    help="Data quality: suggest a suite from reference data, check data with it.",
    no_args_is_help=True,
)
NullValues = Annotated[
    list[str] | None,
    typer.Option("--null-values", help="Extra cell text that means missing (repeatable)."),
]


@group.command("suggest")
def suggest(
    path: Annotated[Path, typer.Argument(help="Reference data: CSV, TSV or Parquet file.")],
    null_values: NullValues = None,
) -> None:
    """Print a starting suite (YAML) inferred from reference data; review it before use."""
    from driftline.data import read_table
    from driftline.quality import suggest as infer

    table, _ = read_table(path, null_values=null_values or (), allow_mixed=True)
    typer.echo(infer(table).to_yaml(), nl=False)


@group.command("check")
def check(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Data file, or a dataset version NAME[:VERSION].")],
    suite: Annotated[Path, typer.Option(help="Suite YAML file.")],
    null_values: NullValues = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check data against a suite, store the result; exit 1 when a check fails."""
    from driftline.quality import Suite

    if not suite.is_file():
        raise NotFoundError(f"suite file {str(suite)!r} does not exist")
    checks = Suite.from_yaml(suite)
    with open_workspace(ctx, create=True) as ws:
        target = path if Path(path).exists() else ws.datasets.get(path)
        result, stored = ws.quality.check(target, checks, null_values=tuple(null_values or ()))
    if json:
        print_json(stored.to_dict())
    else:
        _print_result(stored.to_dict())
    if not result.passed:
        raise typer.Exit(1)


def _print_result(result: dict) -> None:
    table = Table(
        title=f"quality: {'PASSED' if result['passed'] else 'FAILED'}, score {result['score']:.3f}"
    )
    for column in ("check", "column", "passed", "observed", "failed rows"):
        table.add_column(column)
    for item in result["checks"]:
        table.add_row(
            item["name"],
            str(item.get("column") or ""),
            "yes" if item["passed"] else "NO",
            str(item.get("observed")),
            "" if item.get("failed_rows") is None else str(item["failed_rows"]),
        )
    console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``quality`` group to ``app``."""
    app.add_typer(group, name="quality")
