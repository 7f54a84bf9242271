"""``driftline train``: run the training pipeline declared in ``driftline.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftline.cli._output import console, open_workspace, print_json

__all__ = ["register"]


def train(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option(help="Pipeline file.")] = Path("driftline.yaml"),
    data: Annotated[
        str | None, typer.Option(help="Dataset version NAME[:VERSION], overriding the file's.")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Train, evaluate on a holdout and register a model version; record the run."""
    from driftline.training._config import load_config

    pipeline = load_config(config)
    train_fn = pipeline.train_function(config.resolve().parent)
    with open_workspace(ctx, create=True) as ws:
        result = ws.train(
            train_fn,
            data=data or pipeline.data,
            name=pipeline.name,
            target=pipeline.target,
            params=pipeline.params,
            task=pipeline.task,
            seed=pipeline.seed,
            holdout=pipeline.evaluation.holdout,
            slices=pipeline.evaluation.slices,
            flavor=pipeline.flavor,
            description=pipeline.description,
        )
    summary = result.summary()
    if json:
        print_json(summary)
        return
    shown = ", ".join(f"{k} {v:.4f}" for k, v in summary["metrics"].items() if isinstance(v, float))
    console().print(
        f"run {summary['run_id']} {summary['status']}: registered "
        f"models:/{summary['model']}/{summary['version']} ({shown})"
    )


def register(app: typer.Typer) -> None:
    """Add ``train`` to ``app``."""
    app.command("train")(train)
