"""RealTimeDriftDetector: windows of live records compared with the batch engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from driftline.drift import Profile, compare
from driftline.drift.streaming import RealTimeDriftDetector
from driftline.exceptions import ValidationError


def _reference(seed: int = 0, n: int = 3000) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(0, 1, n), "y": rng.exponential(2.0, n), "c": rng.choice(["a", "b"], n)}


def _records(seed: int, n: int, *, shift_at: int | None = None) -> list[dict[str, Any]]:
    """Records like the reference; from ``shift_at`` on, the mean of ``x`` moves by 1."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        shift = 1.0 if shift_at is not None and i >= shift_at else 0.0
        rows.append(
            {
                "x": float(rng.normal(shift, 1)),
                "y": float(rng.exponential(2.0)),
                "c": str(rng.choice(["a", "b"])),
            }
        )
    return rows


class FakeClock:
    """Ticks one second per call."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_checks_run_when_the_window_fills_then_every_update_frequency() -> None:
    clock = FakeClock()
    detector = RealTimeDriftDetector(window_size=200, update_frequency=50, clock=clock)
    detector.fit(_reference())
    detector.update_many(_records(1, 500))
    assert [c.position for c in detector.history_] == [200, 250, 300, 350, 400, 450, 500]
    assert [c.at.second for c in detector.history_] == [1, 2, 3, 4, 5, 6, 7]


def test_a_check_is_the_batch_engine_on_the_window() -> None:
    reference = _reference()
    records = _records(2, 400, shift_at=250)
    detector = RealTimeDriftDetector(window_size=300, update_frequency=100).fit(reference)
    detector.update_many(records)
    check = detector.last_check_
    assert check is not None and check.position == 400
    window = {k: [r[k] for r in records[100:]] for k in ("x", "y", "c")}
    expected = compare(Profile().fit(reference), window, n_jobs=1)
    assert check.report.to_dict() == expected.to_dict()
    assert check.drift_detected == expected.drift_detected


def test_false_alarms_stay_near_the_nominal_level() -> None:
    checks = alarms = 0
    for seed in range(20, 40):
        detector = RealTimeDriftDetector(window_size=300, update_frequency=300)
        detector.fit(_reference()).update_many(_records(seed, 1500))
        checks += len(detector.history_)
        alarms += sum(c.drift_detected for c in detector.history_)
    assert checks == 100
    assert alarms / checks <= 0.12  # family-wise alpha 0.05; 3 binomial sd above it


def test_finds_a_shift_in_the_feature_that_moved() -> None:
    detector = RealTimeDriftDetector(window_size=300, update_frequency=100).fit(_reference())
    hits = detector.update_many(_records(4, 1500, shift_at=600)).tolist()
    assert hits and 600 < hits[0] < 900
    assert all(c.drifted_features == ("x",) for c in detector.history_ if c.drift_detected)


def test_refresh_never_keeps_reporting_on_drift_reports_once() -> None:
    records = _records(5, 2000, shift_at=500)
    never = RealTimeDriftDetector(window_size=300, update_frequency=100).fit(_reference())
    on_drift = RealTimeDriftDetector(
        window_size=300, update_frequency=100, reference_refresh="on_drift"
    ).fit(_reference())
    kept = never.update_many(records).tolist()
    once = on_drift.update_many(records).tolist()
    assert len(kept) >= 10  # the shifted regime never matches the fitted reference
    assert len(once) == 1 and once[0] == kept[0]
    # after the drift the next 300 records became the reference, then checks resumed
    positions = [c.position for c in on_drift.history_]
    after = positions[positions.index(once[0] + 1) + 1]
    assert after == once[0] + 1 + 300 + 100


def test_sliding_compares_consecutive_windows() -> None:
    detector = RealTimeDriftDetector(
        window_size=200, update_frequency=100, reference_refresh="sliding"
    ).fit(_reference())
    hits = detector.update_many(_records(6, 1400, shift_at=700)).tolist()
    assert hits and all(700 <= h < 1100 for h in hits)  # quiet again once both are shifted
    assert detector.history_[0].position == 400


def test_a_feature_going_missing_is_drift() -> None:
    detector = RealTimeDriftDetector(window_size=300, update_frequency=100).fit(_reference())
    records = _records(7, 900)
    for row in records[400:]:
        if row["x"] > 0:
            del row["y"]  # a missing key is a missing value
    hits = detector.update_many(records).tolist()
    assert hits and hits[0] >= 400
    check = next(c for c in detector.history_ if c.drift_detected)
    assert "missing" in check.report.features["y"].signals


def test_update_many_reads_a_dict_of_columns() -> None:
    records = _records(8, 700, shift_at=300)
    columns = {k: [r[k] for r in records] for k in ("x", "y", "c")}
    a = RealTimeDriftDetector(window_size=200, update_frequency=50).fit(_reference())
    b = RealTimeDriftDetector(window_size=200, update_frequency=50).fit(_reference())
    expected = [i for i, r in enumerate(records) if a.update(r).drift_detected]
    assert expected
    assert b.update_many(columns).tolist() == expected


def test_reset_restores_the_fitted_reference() -> None:
    records = _records(9, 1200, shift_at=400)
    detector = RealTimeDriftDetector(
        window_size=200, update_frequency=100, reference_refresh="on_drift"
    ).fit(_reference())
    first = detector.update_many(records).tolist()
    detector.reset()
    assert not detector.history_ and detector.last_check_ is None
    assert detector.update_many(records).tolist() == first
    assert detector.warning_detected is False


def test_a_stored_profile_is_a_reference() -> None:
    profile = Profile().fit(_reference())
    records = _records(10, 600, shift_at=100)
    from_profile = RealTimeDriftDetector(window_size=300, update_frequency=100).fit(profile)
    from_data = RealTimeDriftDetector(window_size=300, update_frequency=100).fit(_reference())
    assert from_profile.update_many(records).tolist() == from_data.update_many(records).tolist()


def test_needs_fit_first() -> None:
    detector = RealTimeDriftDetector()
    with pytest.raises(ValidationError, match=r"call fit\(\) first"):
        detector.update({"x": 1.0})
    assert detector.drift_detected is False
    with pytest.raises(ValidationError, match="not fitted"):
        detector.fit(Profile())


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"window_size": 1}, "window_size"),
        ({"update_frequency": 0}, "update_frequency"),
        ({"reference_refresh": "weekly"}, "reference_refresh"),
        ({"history_size": True}, "history_size"),
    ],
)
def test_invalid_parameters_fail_at_fit_naming_them(params: dict[str, Any], name: str) -> None:
    detector = RealTimeDriftDetector(**params)  # building does not validate
    with pytest.raises(ValidationError, match=name):
        detector.fit(_reference())


def test_bad_records_are_rejected() -> None:
    detector = RealTimeDriftDetector(window_size=50, update_frequency=10).fit(_reference())
    with pytest.raises(ValidationError, match="mapping"):
        detector.update([1.0, 2.0, "a"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="same length"):
        detector.update_many({"x": [1.0, 2.0], "y": [1.0]})
