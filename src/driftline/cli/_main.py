"""Entry point: build the app, run it, and turn library errors into messages and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

from driftline.cli import (
    alerts,
    audit,
    data,
    demo,
    drift,
    explain,
    gateway,
    lineage,
    models,
    monitor,
    predlog,
    quality,
    retrain,
    run,
    serve,
    train,
    workspace,
)
from driftline.cli._app import app
from driftline.cli._output import error_console
from driftline.exceptions import DriftlineError, exit_code_for

__all__ = ["build_command", "main"]

workspace.register(app)
audit.register(app)
data.register(app)
quality.register(app)
drift.register(app)
train.register(app)
models.register(app)
demo.register(app)
lineage.register(app)
explain.register(app)
retrain.register(app)
gateway.register(app)
serve.register(app)
run.register(app)
alerts.register(app)
monitor.register(app)
predlog.register(app)


def build_command() -> Any:
    """The command tree behind ``driftline`` (for tests and docs)."""
    return typer.main.get_command(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``driftline`` with ``argv``; return the exit code instead of raising."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # Standalone mode lets typer print usage errors (exit 2) and help; library errors
        # come out of it untouched and are printed here, without a traceback.
        build_command().main(args=args, prog_name="driftline", standalone_mode=True)
    except DriftlineError as exc:
        error_console().print(f"error: {exc}", markup=False, soft_wrap=True)
        return exit_code_for(exc)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
