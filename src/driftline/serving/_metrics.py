"""The server's Prometheus metrics, correct with one process or several workers.

prometheus_client picks its multiprocess mode when it is first imported (the launcher sets
``PROMETHEUS_MULTIPROC_DIR`` before workers start); then every process writes its values to
files there and ``/metrics`` merges them with a ``MultiProcessCollector``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["ServingMetrics"]

# Single-row sklearn calls take ~0.2 ms, a RandomForest batch tens of ms: fine buckets low.
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class ServingMetrics:
    """Every metric the server exports, registered in ``registry`` (a fresh one by default).

    >>> m = ServingMetrics()
    >>> m.request("fraud", "3", "primary", "200", 0.002)
    >>> b"driftline_requests_total" in m.render()[0]
    True
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, multiprocess_dir: Path | None = None
    ) -> None:
        self.registry = CollectorRegistry() if registry is None else registry
        self.multiprocess_dir = multiprocess_dir
        r = self.registry
        self.requests = Counter(
            "driftline_requests",
            "Prediction requests by model, version, route and HTTP status.",
            ["model", "version", "route", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "driftline_request_duration_seconds",
            "Time from a prediction request's arrival to its response.",
            ["model", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "driftline_inference_batch_size",
            "Rows per model call (after micro-batching).",
            ["model"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.models_loaded = Gauge(
            "driftline_models_loaded",
            "Model versions loaded and warmed in this server.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.load_failures = Counter(
            "driftline_model_load_failures",
            "Model versions that failed to load or warm (the previous version kept serving).",
            ["model"],
            registry=r,
        )
        self.shadow_disagreement = Counter(
            "driftline_shadow_disagreement",
            "Rows where a shadow version's prediction differed from the served one.",
            ["model", "version", "shadow_version"],
            registry=r,
        )
        self.shadow_skipped = Counter(
            "driftline_shadow_skipped",
            "Shadow calls skipped because too many were already in flight.",
            ["model"],
            registry=r,
        )
        self.rejected = Counter(
            "driftline_inference_rejected",
            "Requests refused with 503 because a model's batching queue was full.",
            ["model"],
            registry=r,
        )
        self.log_rows = Counter(
            "driftline_prediction_log_rows",
            "Prediction rows handed to the prediction log.",
            registry=r,
        )
        self.log_dropped = Counter(
            "driftline_prediction_log_dropped",
            "Prediction rows the prediction log dropped because its queue was full.",
            registry=r,
        )
        self.feedback_rows = Counter(
            "driftline_feedback_log_rows",
            "Feedback rows handed to the feedback log.",
            registry=r,
        )
        self.feedback_dropped = Counter(
            "driftline_feedback_log_dropped",
            "Feedback rows the feedback log dropped because its queue was full.",
            registry=r,
        )
        self.rollbacks = Counter(
            "driftline_canary_rollbacks",
            "Canaries rolled back automatically for breaking an SLO.",
            ["model"],
            registry=r,
        )
        # labels() costs a lock and a dict lookup per call; keep the children we made.
        self._request_children: dict[tuple[str, str, str, str], Any] = {}
        self._duration_children: dict[tuple[str, str], Any] = {}

    def request(self, model: str, version: str, route: str, status: str, seconds: float) -> None:
        """Count one prediction request and observe its duration."""
        key = (model, version, route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(*key)
        child.inc()
        dkey = (model, route)
        timer = self._duration_children.get(dkey)
        if timer is None:
            timer = self._duration_children[dkey] = self.duration.labels(*dkey)
        timer.observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type (merged over workers when configured)."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=str(self.multiprocess_dir))
        return generate_latest(merged), CONTENT_TYPE_LATEST
