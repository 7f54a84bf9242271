"""OpenLineage ``dataQualityAssertions`` and ``dataQualityMetrics`` facets for a result."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from driftline.quality.result import jsonable

if TYPE_CHECKING:
    from driftline.quality.result import CheckResult, QualityResult

__all__ = ["ASSERTIONS_SCHEMA_URL", "METRICS_SCHEMA_URL", "facets"]

_FACETS = "https://openlineage.io/spec/facets"
ASSERTIONS_SCHEMA_URL = (
    f"{_FACETS}/1-1-0/DataQualityAssertionsDatasetFacet.json"
    "#/$defs/DataQualityAssertionsDatasetFacet"
)
METRICS_SCHEMA_URL = (
    f"{_FACETS}/1-0-3/DataQualityMetricsInputDatasetFacet.json"
    "#/$defs/DataQualityMetricsInputDatasetFacet"
)


def _text(value: Any) -> str:
    value = jsonable(value)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _assertion(check: CheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "assertion": check.kind,
        "success": check.passed,
        "name": check.name,
        "severity": check.severity,
        "expected": check.expected,
        "actual": _text(check.observed),
        "params": jsonable({"columns": list(check.columns), "failed_rows": check.failed_rows}),
    }
    if check.column is not None:
        out["column"] = check.column  # absent means the whole dataset, per the facet spec
    return out


def _column_metrics(result: QualityResult) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, m in result.metrics.items():
        entry: dict[str, Any] = {"nullCount": m.null_count, "count": m.count}
        optional = {"distinctCount": m.distinct_count, "min": m.min, "max": m.max, "sum": m.sum}
        entry.update({k: jsonable(v) for k, v in optional.items() if v is not None})
        out[name] = {k: v for k, v in entry.items() if v is not None}
    return out


def facets(result: QualityResult, producer: str) -> dict[str, dict[str, Any]]:
    """Both facets, keyed by their OpenLineage names, as plain dicts."""
    return {
        "dataQualityAssertions": {
            "_producer": producer,
            "_schemaURL": ASSERTIONS_SCHEMA_URL,
            "assertions": [_assertion(c) for c in result.checks],
        },
        "dataQualityMetrics": {
            "_producer": producer,
            "_schemaURL": METRICS_SCHEMA_URL,
            "rowCount": result.rows,
            "columnMetrics": _column_metrics(result),
        },
    }
