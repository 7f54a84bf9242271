"""The public surface of driftline.quality."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

import driftline.quality as quality
from driftline.quality import Check

EXPECTED = {
    "LOGICAL_TYPES",
    "SCORING_RULES",
    "AllowedValues",
    "Check",
    "CheckResult",
    "ColumnMetrics",
    "Columns",
    "Completeness",
    "Custom",
    "Freshness",
    "QualityResult",
    "RecordCheckResult",
    "RecordChecker",
    "RecordResult",
    "Referential",
    "Regex",
    "RowCount",
    "Schema",
    "Suite",
    "Uniqueness",
    "ValueRange",
    "score",
    "suggest",
}


def test_all_lists_the_curated_public_names() -> None:
    assert set(quality.__all__) == EXPECTED
    for name in quality.__all__:
        assert getattr(quality, name) is not None


def test_every_check_is_a_frozen_dataclass_with_a_kind() -> None:
    checks = [getattr(quality, n) for n in quality.__all__]
    checks = [c for c in checks if isinstance(c, type) and issubclass(c, Check) and c is not Check]
    assert len(checks) == 10
    assert len({c.kind for c in checks}) == 10
    for cls in checks:
        assert dataclasses.fields(cls)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_results_are_frozen() -> None:
    result = quality.Suite([quality.RowCount(min=1)]).run({"x": [1]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = False  # type: ignore[misc]


def test_importing_quality_loads_no_database_web_plotting_or_drift_code() -> None:
    code = (
        "import sys, driftline.quality; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'fastapi', 'starlette', 'matplotlib', 'plotly', 'pandas', 'polars'} "
        "or m.startswith(('driftline.drift', 'driftline.store'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
