"""``driftline models ...``: register, inspect, alias, compare, document and verify models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from driftline.cli._output import console, error_console, open_workspace, print_json
from driftline.exceptions import IntegrityError

__all__ = ["register"]

group = typer.Typer(
    help="The model registry: versions, aliases, comparisons, cards.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Ref = Annotated[str, typer.Argument(help="NAME, NAME/VERSION, NAME@ALIAS or models:/...")]


@group.command("register")
def register_model(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    artifact_path: Annotated[Path, typer.Argument(help="Model file written by its library.")],
    flavor: Annotated[str, typer.Option(help="sklearn, xgboost, lightgbm, onnx, torch or python.")],
    data: Annotated[
        str | None,
        typer.Option(
            help="Training dataset version NAME:VERSION (signature and reference profile)."
        ),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Label column, left out of inputs.")] = None,
    description: Annotated[str | None, typer.Option(help="Intended use, for the card.")] = None,
    json: JsonOption = False,
) -> None:
    """Register an already-trained model file as the next version of NAME."""
    with open_workspace(ctx, create=True) as ws:
        dataset = ws.datasets.get(data) if data else None
        frame = ws.datasets.load(dataset) if dataset else None
        version = ws.registry.register_file(
            name,
            artifact_path,
            flavor=flavor,
            frame=frame,
            target=target,
            dataset=dataset,
            description=description,
        )
    out = {
        "name": version.name,
        "version": version.version,
        "uri": version.uri,
        "sha256": version.artifact_sha256,
    }
    if json:
        print_json(out)
    else:
        console().print(f"registered {out['uri']} ({version.flavor}, sha256 {out['sha256']})")


@group.command("list")
def list_models(ctx: typer.Context, json: JsonOption = False) -> None:
    """List model versions with their aliases."""
    with open_workspace(ctx) as ws:
        versions = ws.registry.list()
    if json:
        print_json([v.to_dict() for v in versions])
        return
    table = Table(title="models")
    for column in ("uri", "flavor", "aliases", "status", "data", "created"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            v.uri,
            v.flavor,
            ", ".join(v.aliases),
            v.status,
            v.dataset_version_id or "-",
            v.created_at,
        )
    console().print(table)


@group.command("show")
def show(ctx: typer.Context, ref: Ref, json: JsonOption = False) -> None:
    """Show one model version."""
    with open_workspace(ctx) as ws:
        version = ws.registry.get(ref)
    if json:
        print_json(version.to_dict())
        return
    info = version.to_dict()
    for key in (
        "uri",
        "id",
        "flavor",
        "sha256",
        "status",
        "aliases",
        "dataset_version_id",
        "run_id",
        "metrics",
        "created_at",
        "created_by",
    ):
        console().print(f"[bold]{key}[/]: {info[key]}", highlight=False)


@group.command("alias")
def alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version the alias will point at.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="Alias, e.g. champion.")],
    reason: Annotated[str, typer.Option(help="Why; kept in the alias history.")],
) -> None:
    """Point ALIAS of NAME at VERSION (recorded with who, when and why)."""
    with open_workspace(ctx) as ws:
        change = ws.registry.set_alias(name, version, alias_name, reason=reason)
    console().print(f"{name}@{alias_name}: {change.from_version or '-'} -> {change.to_version}")


@group.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="Alias.")],
    json: JsonOption = False,
) -> None:
    """Every move of ALIAS of NAME, oldest first."""
    with open_workspace(ctx) as ws:
        moves = ws.registry.alias_history(name, alias_name)
    if json:
        print_json([m.to_dict() for m in moves])
        return
    table = Table(title=f"{name}@{alias_name}")
    for column in ("time", "from", "to", "actor", "reason"):
        table.add_column(column)
    for m in moves:
        table.add_row(
            m.time, str(m.from_version or "-"), str(m.to_version or "-"), m.actor, m.reason
        )
    console().print(table)


@group.command("compare")
def compare(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    challenger_version: Annotated[int, typer.Argument(help="Challenger version.")],
    champion_version: Annotated[int, typer.Argument(help="Champion version.")],
    data: Annotated[str, typer.Option(help="Labelled holdout dataset version NAME[:VERSION].")],
    metric: Annotated[str, typer.Option(help="Metric to compare.")] = "accuracy",
    slices: Annotated[
        list[str] | None,
        typer.Option("--slice", help="Slice column that must not regress (repeatable)."),
    ] = None,
    min_improvement: Annotated[
        float, typer.Option(help="The CI lower bound must exceed this.")
    ] = 0.0,
    json: JsonOption = False,
) -> None:
    """Compare a challenger with the champion on labelled data; store the decision."""
    with open_workspace(ctx) as ws:
        result = ws.training.compare(
            name,
            challenger_version,
            champion_version,
            data=data,
            metric=metric,
            slices=slices or (),
            min_improvement=min_improvement,
        )
    out = result.to_dict()
    if json:
        print_json(out)
        return
    console().print(
        f"{metric}: challenger - champion = {out['difference']:+.4f} "
        f"[{out['ci_low']:+.4f}, {out['ci_high']:+.4f}], p = {out['p_value']:.3g}; "
        f"promote: {'yes' if out['promote'] else 'no'}",
        highlight=False,
    )
    for reason in out.get("reasons", []):
        console().print(f"  - {reason}", highlight=False)


@group.command("card")
def card(
    ctx: typer.Context,
    ref: Ref,
    html: Annotated[Path | None, typer.Option(help="Also write the card as HTML here.")] = None,
) -> None:
    """Print the model card (Markdown); optionally write an HTML copy."""
    with open_workspace(ctx) as ws:
        version = ws.registry.get(ref)
        typer.echo(ws.registry.card(version), nl=False)
        if html is not None:
            html.write_text(ws.registry.card(version, format="html"))
            error_console().print(f"wrote {html}")


@group.command("verify")
def verify(ctx: typer.Context, ref: Ref) -> None:
    """Check that the stored artifact still hashes to what was registered; exit 1 if not."""
    with open_workspace(ctx) as ws:
        try:
            version = ws.registry.verify(ref)
        except IntegrityError as exc:
            error_console().print(f"FAILED: {exc}", markup=False, soft_wrap=True)
            raise typer.Exit(1) from None
    console().print(f"{version.uri}: artifact intact (sha256 {version.artifact_sha256})")


def register(app: typer.Typer) -> None:
    """Add the ``models`` group to ``app``."""
    app.add_typer(group, name="models")
