"""The root ``driftline`` app and its global options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pydantic
import typer

from driftline._version import __version__
from driftline.config import Settings
from driftline.exceptions import ValidationError

__all__ = ["app"]

app = typer.Typer(
    name="driftline",
    help="Production ML that closes the loop: data, models, serving, drift and retraining.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"driftline {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(help="Workspace directory (default: $DRIFTLINE_HOME or ./.driftline)."),
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option(help="Metadata DB URL (default: $DRIFTLINE_DB_URL or SQLite in the home)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Production ML that closes the loop: data, models, serving, drift and retraining."""
    overrides: dict[str, Any] = {"home": home, "db_url": db_url}
    try:
        ctx.obj = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"DRIFTLINE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValidationError(f"invalid settings: {problems}") from None
