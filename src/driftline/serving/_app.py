"""``create_app``: the ASGI app behind ``driftline serve``."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from driftline._version import __version__
from driftline.config import Settings
from driftline.serving._api_mlflow import mount_mlflow
from driftline.serving._api_native import mount_native
from driftline.serving._api_oip import mount_oip
from driftline.serving._api_ops import mount_ops
from driftline.serving._api_retrain import mount_retrain
from driftline.serving._deployments import DeploymentRecorder
from driftline.serving._metrics import ServingMetrics
from driftline.serving._options import ServingOptions
from driftline.serving._server import ModelServer, RowSink
from driftline.store import Clock, utc_now
from driftline.workspace import Workspace

__all__ = ["create_app"]

_log = logging.getLogger("driftline.serving")


def create_app(
    workspace_or_settings: Workspace | Settings,
    *,
    models: Sequence[str],
    log_predictions: bool = True,
    options: ServingOptions | None = None,
    metrics_registry: CollectorRegistry | None = None,
    prediction_log: RowSink | None = None,
    feedback_log: RowSink | None = None,
    record_deployments: bool = True,
    clock: Clock | None = None,
    draw: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> FastAPI:
    """The model server app for ``models`` (``models:/name@alias`` or ``models:/name/3``).

    Models load in the background once the app starts (``/health/ready`` turns 200 when all
    are warm); ``app.state.server`` is the :class:`ModelServer`. With ``log_predictions``
    every served row goes to the prediction log under ``HOME/predictions`` and feedback to
    ``HOME/feedback`` (pass ``prediction_log``/``feedback_log`` to use other writers).
    ``clock``, ``draw`` (routing's uniform numbers) and ``sleep`` (between registry polls
    and canary judgements) can be injected for tests.
    """
    owned = not isinstance(workspace_or_settings, Workspace)
    ws = (
        Workspace.open(settings=workspace_or_settings)
        if isinstance(workspace_or_settings, Settings)
        else workspace_or_settings
    )
    options = (options or ServingOptions()).check()
    metrics = ServingMetrics(metrics_registry, multiprocess_dir=options.multiprocess_dir)
    if log_predictions:
        prediction_log, feedback_log = _default_logs(
            ws, options, metrics, prediction_log, feedback_log
        )
    server = ModelServer(
        registry=ws.registry,
        models=models,
        options=options,
        metrics=metrics,
        prediction_log=prediction_log if log_predictions else None,
        feedback_log=feedback_log if log_predictions else None,
        deployments=_recorder(ws) if record_deployments else None,
        clock=clock or utc_now,
        draw=draw or random.random,
        sleep=sleep or asyncio.sleep,
    )

    app = FastAPI(
        title="driftline model server",
        version=__version__,
        description="Native, MLflow and Open Inference Protocol v2 endpoints for registered "
        "models, with routing, hot swap, a prediction log and Prometheus metrics.",
        lifespan=_lifespan(server, ws if owned else None),
    )
    app.state.server = server
    app.state.workspace = ws
    mount_native(app, server)
    mount_mlflow(app, server)
    mount_oip(app, server)
    mount_ops(app, server, admin_token=ws.settings.admin_token)
    mount_retrain(
        app, ws, admin_token=ws.settings.admin_token, max_body_bytes=options.max_body_bytes
    )
    return app


def _lifespan(server: ModelServer, owned: Workspace | None) -> Any:
    """Start the server with the app; stop it (and close a workspace it opened) after."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()
            if owned is not None:
                owned.close()

    return lifespan


def _recorder(ws: Workspace) -> DeploymentRecorder:
    return DeploymentRecorder(ws.store, ws.audit, ws.lineage, clock=ws.store.clock)


def _default_logs(
    ws: Workspace,
    options: ServingOptions,
    metrics: ServingMetrics,
    prediction_log: RowSink | None,
    feedback_log: RowSink | None,
) -> tuple[RowSink, RowSink]:
    from driftline.predlog import FeedbackLogWriter, PredictionLogWriter, ProcessLogWriter

    def dropped(counter: Any) -> Callable[[int], None]:
        return lambda n: counter.inc(n)

    if prediction_log is None:
        settings: dict[str, Any] = {
            "max_queue": options.log_queue_rows,
            "sample_rate": options.sample_rate,
            "on_drop": dropped(metrics.log_dropped),
        }
        if options.log_writer == "process":
            # forked once the first load is over, when the pools' threads wait for work
            prediction_log = ProcessLogWriter(
                ws.home / "predictions", start_method="fork", **settings
            )
        else:
            prediction_log = PredictionLogWriter(ws.home / "predictions", **settings)
    if feedback_log is None:
        feedback_log = FeedbackLogWriter(
            ws.home / "feedback",
            max_queue=options.log_queue_rows,
            on_drop=dropped(metrics.feedback_dropped),
        )
    return prediction_log, feedback_log
