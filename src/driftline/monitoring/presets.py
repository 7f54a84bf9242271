"""Ready-made alert rules for drift, data quality, performance, latency, errors and system.

Each factory returns an :class:`AlertRule` over a metric in the catalogue; ``model=`` (and
``feature=``, ``check=``, ``path=``) narrow it to matching series.
"""

from __future__ import annotations

from datetime import timedelta

from driftline.monitoring.rules import AlertRule

__all__ = [
    "accuracy_drop",
    "cpu_usage",
    "dataset_drift",
    "default_rules",
    "disk_usage",
    "error_rate",
    "feature_drift",
    "latency_p99",
    "memory_usage",
    "quality_violations",
]

Duration = timedelta | str | float


def _matchers(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def dataset_drift(
    *,
    threshold: float = 0.3,
    model: str | None = None,
    for_: Duration = "0s",
    severity: str = "warning",
    name: str = "DatasetDrift",
) -> AlertRule:
    """Share of drifted features in the latest window above ``threshold``."""
    return AlertRule(
        name,
        "driftline_dataset_drift_share",
        ">",
        threshold,
        for_=for_,
        severity=severity,
        matchers=_matchers(model=model),
        labels={"category": "drift"},
        annotations={
            "summary": "{labels.model} v{labels.version}: {value} of features drifted",
            "description": "More than {threshold} of the features drifted from the reference "
            "profile of {labels.model} version {labels.version}.",
        },
    )


def feature_drift(
    *,
    threshold: float = 0.2,
    model: str | None = None,
    feature: str | None = None,
    for_: Duration = "0s",
    severity: str = "warning",
    name: str = "FeatureDrift",
) -> AlertRule:
    """One feature's drift score above ``threshold``."""
    return AlertRule(
        name,
        "driftline_feature_drift_score",
        ">",
        threshold,
        for_=for_,
        severity=severity,
        matchers=_matchers(model=model, feature=feature),
        labels={"category": "drift"},
        annotations={
            "summary": "{labels.model}: feature {labels.feature} drifted (score {value})",
            "description": "Drift score {value} is above {threshold} for feature "
            "{labels.feature} of {labels.model} version {labels.version}.",
        },
    )


def quality_violations(
    *,
    threshold: float = 0.05,
    model: str | None = None,
    check: str | None = None,
    for_: Duration = "5m",
    severity: str = "warning",
    name: str = "DataQualityViolations",
) -> AlertRule:
    """Share of live records breaking a quality check above ``threshold``."""
    return AlertRule(
        name,
        "driftline_quality_violation_rate",
        ">",
        threshold,
        for_=for_,
        severity=severity,
        matchers=_matchers(model=model, check=check),
        labels={"category": "quality"},
        annotations={
            "summary": "{labels.model}: {value} of records break check {labels.check}",
        },
    )


def accuracy_drop(
    *,
    max_drop: float = 0.05,
    model: str | None = None,
    for_: Duration = "0s",
    severity: str = "critical",
    name: str = "AccuracyDrop",
) -> AlertRule:
    """Accuracy more than ``max_drop`` (relative) below its registry baseline."""
    return AlertRule(
        name,
        "driftline_model_performance_degradation",
        ">",
        max_drop,
        for_=for_,
        severity=severity,
        matchers=_matchers(model=model, metric="accuracy"),
        labels={"category": "performance"},
        annotations={
            "summary": "{labels.model} v{labels.version}: accuracy {value} below baseline",
            "description": "Accuracy from delayed labels dropped by more than {threshold} "
            "(relative) from the baseline recorded in the registry.",
        },
    )


def latency_p99(
    *,
    threshold_seconds: float = 0.5,
    model: str | None = None,
    for_: Duration = "5m",
    severity: str = "warning",
    name: str = "HighLatencyP99",
) -> AlertRule:
    """99th percentile of request duration above ``threshold_seconds``."""
    return AlertRule(
        name,
        "driftline_request_latency_p99_seconds",
        ">",
        threshold_seconds,
        for_=for_,
        severity=severity,
        matchers=_matchers(model=model),
        labels={"category": "latency"},
        annotations={"summary": "{labels.model} ({labels.route}): p99 latency {value}s"},
    )


def error_rate(
    *,
    threshold: float = 0.05,
    model: str | None = None,
    for_: Duration = "5m",
    severity: str = "critical",
    name: str = "HighErrorRate",
) -> AlertRule:
    """Share of requests answered 5xx above ``threshold``."""
    return AlertRule(
        name,
        "driftline_request_error_rate",
        ">",
        threshold,
        for_=for_,
        severity=severity,
        matchers=_matchers(model=model),
        labels={"category": "errors"},
        annotations={"summary": "{labels.model} ({labels.route}): {value} of requests fail"},
    )


def cpu_usage(
    *,
    threshold: float = 90.0,
    for_: Duration = "10m",
    severity: str = "warning",
    name: str = "HighCpuUsage",
) -> AlertRule:
    """CPU use (percent of the CPUs available) above ``threshold``."""
    return AlertRule(
        name,
        "driftline_system_cpu_percent",
        ">",
        threshold,
        for_=for_,
        severity=severity,
        labels={"category": "system"},
        annotations={"summary": "CPU at {value}%"},
    )


def memory_usage(
    *,
    threshold: float = 90.0,
    for_: Duration = "10m",
    severity: str = "warning",
    name: str = "HighMemoryUsage",
) -> AlertRule:
    """Memory use (percent of the memory available) above ``threshold``."""
    return AlertRule(
        name,
        "driftline_system_memory_percent",
        ">",
        threshold,
        for_=for_,
        severity=severity,
        labels={"category": "system"},
        annotations={"summary": "memory at {value}%"},
    )


def disk_usage(
    *,
    threshold: float = 90.0,
    path: str | None = None,
    for_: Duration = "10m",
    severity: str = "critical",
    name: str = "DiskAlmostFull",
) -> AlertRule:
    """Disk use of a filesystem above ``threshold`` percent."""
    return AlertRule(
        name,
        "driftline_system_disk_percent",
        ">",
        threshold,
        for_=for_,
        severity=severity,
        matchers=_matchers(path=path),
        labels={"category": "system"},
        annotations={"summary": "disk holding {labels.path} at {value}%"},
    )


def default_rules(*, model: str | None = None) -> list[AlertRule]:
    """One rule of each kind above with its default threshold (narrowed to ``model``)."""
    return [
        dataset_drift(model=model),
        feature_drift(model=model),
        quality_violations(model=model),
        accuracy_drop(model=model),
        latency_p99(model=model),
        error_rate(model=model),
        cpu_usage(),
        memory_usage(),
        disk_usage(),
    ]
