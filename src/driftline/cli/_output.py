"""Printing for the CLI: JSON for machines, rich tables for people."""

from __future__ import annotations

from typing import Any

import orjson
import typer
from rich.console import Console

from driftline.config import Settings
from driftline.workspace import Workspace

__all__ = ["console", "error_console", "open_workspace", "print_json"]


def console() -> Console:
    """Standard output for people."""
    return Console(highlight=False)


def error_console() -> Console:
    """Standard error, for messages about failures."""
    return Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on standard output."""
    typer.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))


def open_workspace(ctx: typer.Context, *, create: bool = False) -> Workspace:
    """Open the workspace named by the settings the root command built."""
    settings: Settings = ctx.find_root().obj
    return Workspace.open(settings=settings, create=create)
