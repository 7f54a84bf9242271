"""Live data quality: the suite stored with the model version, or one suggested from its
training data, over the last window of traffic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.exceptions import ValidationError
from driftline.monitoring import MetricStore, MonitoringCycle, quality_suite_tags
from driftline.monitoring.live_quality import SUITE_TAG, suite_for_version, violation_rates
from driftline.quality import Completeness, Suite, ValueRange


def _rates(ws: Any, now: Any) -> dict[str, float]:
    samples = MetricStore(ws.store).latest("driftline_quality_violation_rate", at=now)
    return {s.labels["check"]: s.value for s in samples}


def test_the_stored_suite_gives_the_share_of_records_out_of_range(workspace: Any, kit: Any) -> None:
    rows = kit.elec.holdout.iloc[:120]
    window = rows.iloc[60:]  # served in the last 10 minutes before `now`
    limit = float(np.quantile(window["nswprice"], 0.7))
    suite = Suite([Completeness("nswprice"), ValueRange("nswprice", min=0.0, max=limit)])
    kit.register(workspace, tags=quality_suite_tags(workspace, suite))
    kit.serve(workspace, rows, kit.t0, every=timedelta(seconds=10))
    now = kit.t0 + timedelta(minutes=19, seconds=59)  # the window is (now - 10m, now]
    summary = MonitoringCycle(workspace, rules=[], system=False, window="10m").run_once(now)
    quality = summary.models[0].signals["quality"]
    assert quality["source"] == "stored" and quality["rows"] == 60
    expected = float((window["nswprice"] > limit).mean())
    assert expected > 0
    assert _rates(workspace, now) == {
        "completeness:nswprice": 0.0,
        "range:nswprice": pytest.approx(expected),
    }


def test_inputs_in_the_wrong_unit_break_the_suggested_range(workspace: Any, kit: Any) -> None:
    version = kit.register(workspace)
    rows = kit.elec.holdout.iloc[:60].copy()
    rows["nswdemand"] = rows["nswdemand"] * 1.6  # an upstream unit change
    kit.serve(workspace, rows, kit.t0, every=timedelta(seconds=10))
    now = kit.t0 + timedelta(minutes=9, seconds=59)  # the window (now - 10m, now] holds all 60
    summary = MonitoringCycle(workspace, rules=[], system=False, window="10m").run_once(now)
    quality = summary.models[0].signals["quality"]
    assert quality["rows"] == 60
    assert quality["source"] == "suggested" and quality["dataset"] == "elec-train:1"
    suggested = suite_for_version(workspace, version).suite
    assert suggested is not None
    (bound,) = [c for c in suggested if isinstance(c, ValueRange) and c.column == "nswdemand"]
    assert bound.max is not None and bound.max < rows["nswdemand"].max()
    expected = float(((rows["nswdemand"] > bound.max) | (rows["nswdemand"] < bound.min)).mean())
    rates = _rates(workspace, now)
    assert rates["range:nswdemand"] == pytest.approx(expected) and expected > 0.05
    assert rates["range:nswprice"] == 0.0 and rates["completeness:nswdemand"] == 0.0


def test_without_suite_or_dataset_quality_is_skipped_with_the_reason(
    workspace: Any, kit: Any
) -> None:
    workspace.registry.register("elec", kit.elec.model, frame=kit.elec.train, target="class")
    workspace.registry.promote("elec", 1, reason="first")
    kit.serve(workspace, kit.elec.holdout.iloc[:40], kit.t0)
    summary = MonitoringCycle(workspace, rules=[], system=False, window="10m").run_once(
        kit.t0 + timedelta(minutes=10)
    )
    quality = summary.models[0].signals["quality"]
    assert quality["source"] == "none" and "no training dataset" in quality["skipped"]
    assert summary.all_errors == ()


def test_a_tag_naming_a_missing_suite_is_reported_and_the_rest_goes_on(
    workspace: Any, kit: Any
) -> None:
    kit.register(workspace, tags={SUITE_TAG: "0" * 64})
    kit.serve(workspace, kit.elec.holdout.iloc[:40], kit.t0)
    now = kit.t0 + timedelta(minutes=10)
    summary = MonitoringCycle(workspace, rules=[], system=False, window="10m").run_once(now)
    (error,) = summary.models[0].errors
    assert "quality" in error and SUITE_TAG in error
    assert "drift_share" in summary.models[0].signals["drift"]
    version = workspace.registry.get("elec/1")
    with pytest.raises(ValidationError, match="cannot be read"):
        suite_for_version(workspace, version)


def test_violation_rates_of_batch_checks_and_empty_windows() -> None:
    from driftline.quality import RowCount

    frame = pd.DataFrame({"age": [1.0, None, 3.0, 4.0]})
    suite = Suite([Completeness("age", max_missing=0.5), RowCount(min=10)])
    assert violation_rates(suite, frame) == {"completeness:age": 0.25, "row_count": 1.0}
    with pytest.raises(ValidationError, match="at least one record"):
        violation_rates(suite, frame.iloc[:0])
