"""Run the server with uvicorn: one process, or N workers with merged Prometheus metrics.

With several workers, prometheus_client must write each process's values to files in one
fresh folder, chosen before any worker imports it: the launcher makes the folder, names it
in ``PROMETHEUS_MULTIPROC_DIR`` for the workers it starts, and passes everything else the
workers need in ``DRIFTLINE_SERVE_SPEC``, which :func:`worker_app` (their entry point)
reads.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI

from driftline.config import Settings
from driftline.exceptions import ValidationError
from driftline.serving._options import BatchingOptions, ServingOptions

__all__ = ["serve", "worker_app"]

_SPEC = "DRIFTLINE_SERVE_SPEC"
_PROMETHEUS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def serve(
    settings: Settings,
    *,
    models: Sequence[str],
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    log_predictions: bool = True,
    options: ServingOptions | None = None,
    log_level: str = "info",
) -> None:
    """Serve ``models`` until interrupted (what ``driftline serve`` runs)."""
    import uvicorn

    if workers < 1:
        raise ValidationError(f"--workers must be at least 1, got {workers}")
    options = (options or ServingOptions()).check()
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,  # every row is in the prediction log; a line per request costs
    }
    if workers == 1:
        from driftline.serving._app import create_app

        app = create_app(
            settings, models=list(models), log_predictions=log_predictions, options=options
        )
        uvicorn.run(app, **common)
        return
    folder = Path(tempfile.mkdtemp(prefix="driftline-prometheus-"))
    spec = {
        "settings": settings.model_dump(mode="json"),
        "models": list(models),
        "log_predictions": log_predictions,
        "options": _options_dict(dataclasses.replace(options, multiprocess_dir=folder)),
    }
    os.environ[_PROMETHEUS_DIR] = str(folder)
    os.environ[_SPEC] = orjson.dumps(spec).decode()
    try:
        uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, **common)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def worker_app() -> FastAPI:
    """The app of one worker process, built from the launcher's ``DRIFTLINE_SERVE_SPEC``."""
    from driftline.serving._app import create_app

    text = os.environ.get(_SPEC)
    if not text:
        raise ValidationError(f"{_SPEC} is not set: start workers with `driftline serve`")
    spec = orjson.loads(text)
    return create_app(
        Settings(**spec["settings"]),
        models=spec["models"],
        log_predictions=spec["log_predictions"],
        options=_options_from(spec["options"]),
    )


def _options_dict(options: ServingOptions) -> dict[str, Any]:
    out = dataclasses.asdict(options)
    if options.multiprocess_dir is not None:
        out["multiprocess_dir"] = str(options.multiprocess_dir)
    return out


def _options_from(data: dict[str, Any]) -> ServingOptions:
    batching = data.get("batching")
    folder = data.get("multiprocess_dir")
    return ServingOptions(
        **{
            **data,
            "batching": BatchingOptions(**batching) if batching else None,
            "multiprocess_dir": Path(folder) if folder else None,
        }
    )
