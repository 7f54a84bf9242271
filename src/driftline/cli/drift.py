"""``driftline drift REFERENCE CURRENT``: compare two data files for drift."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftline.cli._output import error_console, print_json

__all__ = ["register"]


def drift(
    reference: Annotated[Path, typer.Argument(help="Reference data: CSV, TSV or Parquet.")],
    current: Annotated[Path, typer.Argument(help="Current data: CSV, TSV or Parquet.")],
    columns: Annotated[
        str | None,
        typer.Option(help="Comma-separated features to compare (default: every reference column)."),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            help="auto, ks, wasserstein, psi, jensenshannon, kl, hellinger, chisquare, ztest, "
            "cramervonmises or anderson."
        ),
    ] = "auto",
    correction: Annotated[
        str, typer.Option(help="Dataset decision: bonferroni, fdr (Benjamini-Hochberg) or share.")
    ] = "bonferroni",
    null_values: Annotated[
        list[str] | None,
        typer.Option("--null-values", help="Extra cell text that means missing (repeatable)."),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report.")] = None,
) -> None:
    """Test every feature for drift and decide for the dataset; exit 0 either way."""
    from driftline.data import read_table
    from driftline.drift import compare

    markers = tuple(null_values or ())
    ref, _ = read_table(reference, null_values=markers, allow_mixed=True)
    cur, _ = read_table(current, null_values=markers, allow_mixed=True)
    report = compare(
        ref,
        cur,
        columns=[c.strip() for c in columns.split(",")] if columns else None,
        method=method,
        correction=correction,
    )
    if html is not None:
        report.to_html(html)
        error_console().print(f"wrote {html}")
    if json:
        print_json(report.to_dict())
    else:
        typer.echo(report.summary())


def register(app: typer.Typer) -> None:
    """Add ``drift`` to ``app``."""
    app.command("drift")(drift)
