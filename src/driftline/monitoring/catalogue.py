"""Every metric name driftline exposes or computes: its type, labels, help and source.

Dashboards, exported Prometheus rules and alert rules are checked against this one list, so a
renamed metric breaks a test instead of a dashboard. Three kinds of entries:

* ``counter``, ``gauge``, ``histogram``: exposed on a ``/metrics`` endpoint under this name
  (counters with their ``_total``; histograms as ``_bucket``, ``_sum`` and ``_count``);
* ``derived``: computed by driftline's monitors and fed to the metric history, and computed
  by Prometheus with the entry's ``promql`` over exposed metrics, so that a driftline rule
  and its exported Prometheus rule mean the same thing;
* ``builtin``: series Prometheus makes itself (``ALERTS``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from driftline.exceptions import NotFoundError, ValidationError
from driftline.monitoring._promql import label_matchers, metric_names_in

__all__ = ["CATALOGUE", "MetricCatalogue", "MetricKind", "MetricSpec", "metric_names_in"]

MetricKind = Literal["counter", "gauge", "histogram", "derived", "builtin"]
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# Prometheus' own rate window for the derived series; the monitors use the same window.
WINDOW = "5m"


@dataclass(frozen=True)
class MetricSpec:
    """One metric: name, kind, labels, help text, who produces it, and (derived) its PromQL.

    ``promql`` takes the inside of a label selector (``model="fraud"``, possibly empty) and
    returns the PromQL expression that computes the derived series with those matchers.
    """

    name: str
    kind: MetricKind
    labels: tuple[str, ...]
    help: str
    source: str
    promql: Callable[[str], str] | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValidationError(f"metric name {self.name!r} is not a valid Prometheus name")
        if self.kind == "counter" and not self.name.endswith("_total"):
            raise ValidationError(f"counter {self.name!r}: exposed counter names end in _total")
        if (self.kind == "derived") != (self.promql is not None):
            raise ValidationError(f"metric {self.name!r}: promql is given for derived only")

    @property
    def exposed_names(self) -> tuple[str, ...]:
        """The series names a scrape (or Prometheus itself) shows for this metric."""
        if self.kind == "histogram":
            return tuple(f"{self.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        if self.kind == "derived":
            return ()
        return (self.name,)

    def selector(self, matchers: Mapping[str, str]) -> str:
        """PromQL selecting this metric with equality ``matchers`` (derived: its expression)."""
        inside = label_matchers(matchers)
        if self.promql is not None:
            return self.promql(inside)
        return f"{self.name}{{{inside}}}" if inside else self.name


class MetricCatalogue:
    """A set of :class:`MetricSpec` looked up by name, with close-match suggestions.

    >>> CATALOGUE.closest("driftline_feature_drift_scor")
    'driftline_feature_drift_score'
    >>> "driftline_requests_total" in CATALOGUE
    True
    """

    def __init__(self, specs: Iterable[MetricSpec]) -> None:
        self._specs: dict[str, MetricSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValidationError(f"metric {spec.name!r} is in the catalogue twice")
            self._specs[spec.name] = spec

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[MetricSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> MetricSpec:
        """The spec of ``name``; NotFoundError naming the closest known name."""
        if name not in self._specs:
            raise NotFoundError(f"metric {name!r} is not in the catalogue{self._hint(name)}")
        return self._specs[name]

    def closest(self, name: str) -> str | None:
        """The known metric name most like ``name``, if any is close."""
        found = difflib.get_close_matches(name, list(self._specs), n=1, cutoff=0.6)
        return found[0] if found else None

    def exposed_names(self) -> frozenset[str]:
        """Every series name a PromQL expression may select."""
        return frozenset(n for spec in self for n in spec.exposed_names)

    def with_metrics(self, *specs: MetricSpec) -> MetricCatalogue:
        """A new catalogue with ``specs`` added (e.g. user-defined business metrics)."""
        return MetricCatalogue([*self, *specs])

    def check_promql(self, expr: str, *, where: str) -> None:
        """Raise ValidationError if ``expr`` selects a series this catalogue does not expose."""
        known = self.exposed_names()
        for name in sorted(metric_names_in(expr) - known):
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValidationError(
                f"{where}: PromQL selects {name!r}, which no driftline component exposes{hint}"
            )

    def _hint(self, name: str) -> str:
        close = self.closest(name)
        return f"; did you mean {close!r}?" if close else ""


def _rate(metric: str, inside: str, *extra: str) -> str:
    matchers = ",".join(part for part in (*extra, inside) if part)
    selector = f"{metric}{{{matchers}}}" if matchers else metric
    return f"rate({selector}[{WINDOW}])"


def _quantile(q: float) -> Callable[[str], str]:
    def expr(inside: str) -> str:
        buckets = _rate("driftline_request_duration_seconds_bucket", inside)
        return f"histogram_quantile({q}, sum by (le, model, route) ({buckets}))"

    return expr


def _error_rate(inside: str) -> str:
    by = "sum by (model, version, route)"
    bad = _rate("driftline_requests_total", inside, 'status=~"5.."')
    return f"{by} ({bad}) / {by} ({_rate('driftline_requests_total', inside)})"


def _request_rate(inside: str) -> str:
    return f"sum by (model, version, route) ({_rate('driftline_requests_total', inside)})"


_MVR = ("model", "version", "route")
_MV = ("model", "version")


_SERVING = "serving"
_SERVING_METRICS = (
    MetricSpec(
        "driftline_requests_total",
        "counter",
        (*_MVR, "status"),
        "Prediction requests by model, version, route and HTTP status.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_request_duration_seconds",
        "histogram",
        ("model", "route"),
        "Time from a prediction request's arrival to its response.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_inference_batch_size",
        "histogram",
        ("model",),
        "Rows per model call (after micro-batching).",
        _SERVING,
    ),
    MetricSpec("driftline_models_loaded", "gauge", (), "Model versions loaded and warm.", _SERVING),
    MetricSpec(
        "driftline_model_load_failures_total",
        "counter",
        ("model",),
        "Model versions that failed to load or warm.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_shadow_disagreement_total",
        "counter",
        ("model", "version", "shadow_version"),
        "Rows where a shadow version's prediction differed from the served one.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_shadow_skipped_total",
        "counter",
        ("model",),
        "Shadow calls skipped because too many were in flight.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_inference_rejected_total",
        "counter",
        ("model",),
        "Requests refused with 503 because a model's batching queue was full.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_prediction_log_rows_total",
        "counter",
        (),
        "Prediction rows handed to the prediction log.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_prediction_log_dropped_total",
        "counter",
        (),
        "Prediction rows dropped because the prediction log's queue was full.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_feedback_log_rows_total",
        "counter",
        (),
        "Feedback rows handed to the feedback log.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_feedback_log_dropped_total",
        "counter",
        (),
        "Feedback rows dropped because the feedback log's queue was full.",
        _SERVING,
    ),
    MetricSpec(
        "driftline_canary_rollbacks_total",
        "counter",
        ("model",),
        "Canaries rolled back automatically for breaking an SLO.",
        _SERVING,
    ),
)


_GATEWAY = "gateway"
_UP = ("upstream",)
_GATEWAY_METRICS = (
    MetricSpec(
        "driftline_gateway_requests_total",
        "counter",
        ("upstream", "status"),
        "Attempts sent to an upstream, by upstream and status.",
        _GATEWAY,
    ),
    MetricSpec(
        "driftline_gateway_retries_total",
        "counter",
        ("upstream", "reason"),
        "Attempts retried on another upstream.",
        _GATEWAY,
    ),
    MetricSpec(
        "driftline_gateway_no_upstream_total",
        "counter",
        (),
        "Requests answered 503 because no upstream was available.",
        _GATEWAY,
    ),
    MetricSpec(
        "driftline_gateway_request_duration_seconds",
        "histogram",
        (),
        "Gateway time from request to the last byte of the response.",
        _GATEWAY,
    ),
    MetricSpec(
        "driftline_gateway_upstream_healthy", "gauge", _UP, "1 when health checks pass.", _GATEWAY
    ),
    MetricSpec(
        "driftline_gateway_upstream_available",
        "gauge",
        _UP,
        "1 when it may take requests.",
        _GATEWAY,
    ),
    MetricSpec(
        "driftline_gateway_upstream_in_flight", "gauge", _UP, "Requests in flight to it.", _GATEWAY
    ),
    MetricSpec(
        "driftline_gateway_upstream_circuit_open",
        "gauge",
        _UP,
        "1 when its breaker is open.",
        _GATEWAY,
    ),
    MetricSpec(
        "driftline_gateway_ejections_total", "counter", _UP, "Passive ejections of it.", _GATEWAY
    ),
)


_MODEL = "model monitor"
_DERIVED_METRICS = (
    MetricSpec(
        "driftline_request_rate",
        "derived",
        _MVR,
        f"Prediction requests per second over {WINDOW}.",
        _MODEL,
        _request_rate,
    ),
    MetricSpec(
        "driftline_request_error_rate",
        "derived",
        _MVR,
        f"Share of prediction requests answered 5xx over {WINDOW} (0..1).",
        _MODEL,
        _error_rate,
    ),
    MetricSpec(
        "driftline_request_latency_p95_seconds",
        "derived",
        ("model", "route"),
        f"95th percentile of request duration over {WINDOW}.",
        _MODEL,
        _quantile(0.95),
    ),
    MetricSpec(
        "driftline_request_latency_p99_seconds",
        "derived",
        ("model", "route"),
        f"99th percentile of request duration over {WINDOW}.",
        _MODEL,
        _quantile(0.99),
    ),
)


_DRIFT, _QUALITY = "drift monitor", "quality monitor"
_PERFORMANCE, _BUSINESS = "performance monitor", "business monitor"
_MONITOR_METRICS = (
    MetricSpec(
        "driftline_feature_drift_score",
        "gauge",
        (*_MV, "feature"),
        "Drift score of one feature in the latest window vs the reference profile.",
        _DRIFT,
    ),
    MetricSpec(
        "driftline_dataset_drift_share",
        "gauge",
        _MV,
        "Share of features flagged as drifted in the latest window (0..1).",
        _DRIFT,
    ),
    MetricSpec(
        "driftline_dataset_drift",
        "gauge",
        _MV,
        "1 when the latest window drifted as a whole (the drift test's dataset decision), else 0.",
        _DRIFT,
    ),
    MetricSpec(
        "driftline_quality_violation_rate",
        "gauge",
        (*_MV, "check"),
        "Share of live records that break a quality check in the latest window (0..1).",
        _QUALITY,
    ),
    MetricSpec(
        "driftline_model_accuracy",
        "gauge",
        _MV,
        "Accuracy from delayed labels in the latest window.",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_model_performance",
        "gauge",
        (*_MV, "metric"),
        "A performance metric (accuracy, f1, rmse, ...) from delayed labels in the latest window.",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_model_accuracy_estimated",
        "gauge",
        _MV,
        "Accuracy estimated without labels from calibrated confidence (an estimate).",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_model_performance_degradation",
        "gauge",
        (*_MV, "metric"),
        "Relative drop of a performance metric from its registry baseline (0.1 = 10 %).",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_label_coverage",
        "gauge",
        _MV,
        "Share of predictions in the window that have received their label (0..1).",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_label_delay_seconds",
        "gauge",
        _MV,
        "Median delay between a prediction and its label in the window.",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_label_delay_p90_seconds",
        "gauge",
        _MV,
        "90th percentile of the delay between a prediction and its label in the window.",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_feedback_rejected_rows",
        "gauge",
        ("reason",),
        "Feedback rows of the latest window set aside (unknown prediction_id, label type).",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_feedback_rejected_total",
        "counter",
        ("reason",),
        "Feedback rows rejected (unknown prediction_id, label of the wrong type).",
        _PERFORMANCE,
    ),
    MetricSpec(
        "driftline_cost_per_prediction_seconds",
        "gauge",
        _MV,
        "CPU seconds spent per prediction in the window.",
        _BUSINESS,
    ),
    MetricSpec(
        "driftline_revenue_per_prediction",
        "gauge",
        _MV,
        "Business value from feedback per prediction in the window (over those with a value).",
        _BUSINESS,
    ),
    MetricSpec(
        "driftline_monitor_collect_errors_total",
        "counter",
        (),
        "Scrapes where the monitoring collector could not read the metadata DB.",
        "monitoring collector",
    ),
)


_SYSTEM, _ALERTING = "system monitor", "alerting"
_SYSTEM_AND_ALERTING_METRICS = (
    MetricSpec(
        "driftline_system_cpu_percent",
        "gauge",
        (),
        "CPU use in percent of the CPUs available (cgroup limit when present).",
        _SYSTEM,
    ),
    MetricSpec(
        "driftline_system_memory_percent",
        "gauge",
        (),
        "Memory use in percent of the memory available (cgroup limit when present).",
        _SYSTEM,
    ),
    MetricSpec(
        "driftline_system_disk_percent",
        "gauge",
        ("path",),
        "Disk use in percent of the filesystem holding path.",
        _SYSTEM,
    ),
    MetricSpec(
        "driftline_system_network_bytes_total",
        "counter",
        ("direction",),
        "Bytes sent and received on all interfaces.",
        _SYSTEM,
    ),
    MetricSpec(
        "driftline_alert_notifications_total",
        "counter",
        ("channel", "result"),
        "Alert notifications by channel and result (delivered or failed).",
        _ALERTING,
    ),
    MetricSpec(
        "ALERTS",
        "builtin",
        ("alertname", "alertstate", "severity"),
        "Prometheus' own series of pending and firing alerts.",
        "prometheus",
    ),
)


CATALOGUE = MetricCatalogue(
    [
        *_SERVING_METRICS,
        *_GATEWAY_METRICS,
        *_DERIVED_METRICS,
        *_MONITOR_METRICS,
        *_SYSTEM_AND_ALERTING_METRICS,
    ]
)
