"""``driftline serve``: serve registered models over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from driftline.cli._output import error_console, open_workspace
from driftline.config import Settings
from driftline.exceptions import NotFoundError

__all__ = ["champion_models", "register"]


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root app."""
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="Model to serve, models:/NAME@ALIAS or models:/NAME/VERSION (repeatable). "
            "Default: every model with a champion alias.",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (metrics are merged across them).")
    ] = 1,
    log_predictions: Annotated[
        bool,
        typer.Option(
            "--log-predictions/--no-log-predictions",
            help="Write every served row to HOME/predictions and feedback to HOME/feedback.",
        ),
    ] = True,
    log_writer: Annotated[
        str | None,
        typer.Option(
            "--log-writer",
            help="Who writes the prediction log: 'process' (a child process fed through "
            "shared memory; the default on x86-64 Linux) or 'thread' (~27 MB less memory, "
            "a higher cost for many-row requests).",
        ),
    ] = None,
) -> None:
    """Serve models: native, MLflow and Open Inference Protocol v2 APIs, /metrics, /docs."""
    from driftline.serving import ServingOptions
    from driftline.serving import serve as run

    settings: Settings = ctx.find_root().obj
    options = ServingOptions() if log_writer is None else ServingOptions(log_writer=log_writer)
    options.check()  # a bad --log-writer fails before anything loads
    refs = list(model) if model else champion_models(ctx)
    error_console().print(
        f"serving {', '.join(refs)} on http://{host}:{port} (docs at /docs)", markup=False
    )
    run(
        settings,
        models=refs,
        host=host,
        port=port,
        workers=workers,
        log_predictions=log_predictions,
        options=options,
    )


def champion_models(ctx: typer.Context) -> list[str]:
    """``models:/NAME@champion`` for every model that has a champion, or a NotFoundError."""
    with open_workspace(ctx) as ws:
        names = sorted({v.name for v in ws.registry.list() if "champion" in v.aliases})
    if not names:
        raise NotFoundError(
            "no model has a champion alias to serve; promote one with "
            "`driftline models alias NAME VERSION champion --reason ...` or pass --model URI"
        )
    return [f"models:/{name}@champion" for name in names]
