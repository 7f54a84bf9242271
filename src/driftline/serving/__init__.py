"""Model serving: the ASGI app, routing policies, batching, hot swap and the prediction log.

``create_app(workspace, models=["models:/fraud@champion"])`` builds the app that
``driftline serve`` runs: a native API (``/v1/models/{name}/predict``), MLflow's scoring
protocol (``/invocations``), the Open Inference Protocol v2 (``/v2/...``), feedback,
health, Prometheus ``/metrics``, and admin endpoints for reloads and routing changes.
"""

from driftline.predlog import (
    FeedbackLogWriter,
    PredictionLogWriter,
    features_frame,
    join_feedback,
    read_feedback,
    read_predictions,
)
from driftline.serving._app import create_app
from driftline.serving._background import BackgroundServer
from driftline.serving._deployments import DeploymentRecorder
from driftline.serving._launch import serve
from driftline.serving._metrics import ServingMetrics
from driftline.serving._options import BatchingOptions, ServingOptions
from driftline.serving._server import ModelServer, Served
from driftline.serving.routing import (
    ABSplit,
    Canary,
    CanaryRollout,
    CanarySLO,
    RouteDecision,
    RoutingPolicy,
    Shadow,
    Single,
)

__all__ = [
    "ABSplit",
    "BackgroundServer",
    "BatchingOptions",
    "Canary",
    "CanaryRollout",
    "CanarySLO",
    "DeploymentRecorder",
    "FeedbackLogWriter",
    "ModelServer",
    "PredictionLogWriter",
    "RouteDecision",
    "RoutingPolicy",
    "Served",
    "ServingMetrics",
    "ServingOptions",
    "Shadow",
    "Single",
    "create_app",
    "features_frame",
    "join_feedback",
    "read_feedback",
    "read_predictions",
    "serve",
]
