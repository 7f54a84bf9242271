"""``driftline lineage ...``: show, export and validate the lineage graph."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from driftline.cli._output import console, error_console, open_workspace, print_json
from driftline.lineage import (
    ConsoleTransport,
    FileTransport,
    HttpTransport,
    LineageGraph,
    Transport,
    ValidationReport,
    validate_file,
)
from driftline.workspace import Workspace

__all__ = ["register"]

group = typer.Typer(
    help="Walk, export and validate lineage (JSON, DOT, Mermaid, OpenLineage).",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class DirectionChoice(StrEnum):
    """Which way to walk."""

    upstream = "upstream"
    downstream = "downstream"
    both = "both"


class FormatChoice(StrEnum):
    """How to print a graph."""

    json = "json"
    dot = "dot"
    mermaid = "mermaid"
    openlineage = "openlineage"


def _print_graph(ws: Workspace, graph: LineageGraph, fmt: FormatChoice) -> None:
    if fmt is FormatChoice.json:
        print_json(graph.to_dict())
    elif fmt is FormatChoice.dot:
        typer.echo(graph.to_dot(), nl=False)
    elif fmt is FormatChoice.mermaid:
        typer.echo(graph.to_mermaid(), nl=False)
    else:
        for event in ws.lineage.openlineage_events(graph):
            typer.echo(orjson.dumps(event).decode())


@group.command("show")
def show(
    ctx: typer.Context,
    node_id: Annotated[str, typer.Argument(metavar="ID", help="The node id to start from.")],
    direction: Annotated[
        DirectionChoice, typer.Option(help="Follow edges upstream, downstream or both.")
    ] = DirectionChoice.both,
    depth: Annotated[
        int | None, typer.Option(min=0, help="Stop after this many hops (default: no limit).")
    ] = None,
    fmt: Annotated[
        FormatChoice,
        typer.Option(
            "--format", help="json, dot (Graphviz), mermaid, or openlineage (JSON lines)."
        ),
    ] = FormatChoice.json,
) -> None:
    """Show what a node was made from and/or what was made from it."""
    with open_workspace(ctx) as ws:
        graph = ws.lineage.walk(node_id, direction=direction.value, depth=depth)
        _print_graph(ws, graph, fmt)


@group.command("path")
def path(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The node id to start from.")],
    target: Annotated[str, typer.Argument(help="The node id to reach, following edges.")],
    json: JsonOption = False,
) -> None:
    """Show a shortest chain of edges from SOURCE down to TARGET; exit 1 if there is none."""
    with open_workspace(ctx) as ws:
        found = ws.lineage.path(source, target)
    if json:
        print_json(found.to_dict() if found else None)
    elif found:
        steps = [found.nodes[0].id]
        for edge, node in zip(found.edges, found.nodes[1:], strict=True):
            steps.append(f"-[{edge.relation}]-> {node.id}")
        console().print(" ".join(steps), soft_wrap=True, markup=False)
    else:
        error_console().print(f"no path from {source!r} to {target!r}", markup=False)
    if found is None:
        raise typer.Exit(1)


def _transport(output: Path | None, url: str | None) -> Transport:
    if url:
        return HttpTransport(url)
    return FileTransport(output) if output else ConsoleTransport()


@group.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[
        FormatChoice, typer.Option("--format", help="json, dot, mermaid or openlineage.")
    ] = FormatChoice.openlineage,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Append OpenLineage events to this file.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="POST OpenLineage events to this endpoint instead.")
    ] = None,
) -> None:
    """Export the whole graph; OpenLineage events go to stdout, a file or an HTTP endpoint."""
    with open_workspace(ctx) as ws:
        if fmt is not FormatChoice.openlineage:
            _print_graph(ws, ws.lineage.graph(), fmt)
            return
        transport = _transport(output, url)
        try:
            sent = ws.lineage.emit_openlineage(transport)
        finally:
            if isinstance(transport, HttpTransport):
                transport.close()
    if output or url:
        error_console().print(f"sent {sent} OpenLineage events to {url or output}")


def _report_text(report: ValidationReport) -> None:
    for event in report.invalid:
        first = event.problems[0]
        error_console().print(
            f"{report.source}:{event.line}: event {event.index}: {first.path}: {first.message} "
            f"[schema: {first.schema_path}]",
            soft_wrap=True,
            markup=False,
        )
    summary = f"{len(report.events)} events, {len(report.invalid)} invalid"
    (console() if report.valid else error_console()).print(summary)


@group.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="OpenLineage events as JSON lines or a JSON array.")],
    json: JsonOption = False,
) -> None:
    """Validate run events against the vendored OpenLineage schema; exit 1 if any is invalid."""
    report = validate_file(file)
    if json:
        data: dict[str, Any] = report.to_dict()
        print_json(data)
    else:
        _report_text(report)
    if not report.valid:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``lineage`` group to ``app``."""
    app.add_typer(group, name="lineage")
