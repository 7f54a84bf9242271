"""The engine on the shared real datasets (read-only, gzipped CSV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.drift import Profile, compare

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"


def _read(name: str) -> pd.DataFrame:
    path = DATASETS / f"{name}.csv.gz"
    if not path.is_file():
        pytest.skip(f"shared dataset {path} not found")
    return pd.read_csv(path)


def test_elec2_second_half_drifts_where_victoria_data_appears() -> None:
    frame = _read("elec2").drop(columns=["date"])
    half = len(frame) // 2
    report = compare(frame.iloc[:half], frame.iloc[half:])
    assert report.drift_detected
    # Victorian columns are constant for the first 17,424 rows (the data was missing)
    for name in ("vicprice", "vicdemand", "transfer"):
        assert report.features[name].distribution_drift, name
    assert not report.features["day"].drift_detected  # weekdays are weekdays in both halves


def test_adult_random_halves_do_not_drift_and_injected_changes_do() -> None:
    frame = _read("adult")
    shuffled = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    half = len(shuffled) // 2
    reference, current = shuffled.iloc[:half], shuffled.iloc[half:].copy()
    calm = compare(reference, current)
    assert not calm.drift_detected, calm.summary()
    assert calm.features["workclass"].missing_share_ref == pytest.approx(
        reference["workclass"].isna().mean()
    )
    rng = np.random.default_rng(0)
    hit = rng.random(len(current)) < 0.3
    current["workclass"] = current["workclass"].where(~hit, "?")  # "?" is adult's missing mark
    current["age"] = current["age"] + 6
    report = compare(reference, current, missing_values=("?",))
    assert set(report.drifted_features) == {"workclass", "age"}
    assert report.features["workclass"].signals == ("missing",)
    assert report.features["workclass"].unseen_share == 0.0  # "?" is missing, not a new label
    assert report.features["age"].signals == ("distribution",)


def test_bank_marketing_target_drifts_over_time() -> None:
    frame = _read("bank_marketing")
    report = compare(frame.iloc[:5_000], frame.iloc[-5_000:], columns=["y", "age", "month"])
    assert report.features["y"].distribution_drift  # 3% yes in the first block, 46% in the last
    assert report.features["month"].drift_detected


def test_california_housing_new_category_and_missing_values() -> None:
    frame = _read("california_housing")
    inland = frame["ocean_proximity"] == "INLAND"
    report = compare(frame[~inland], frame[inland])
    ocean = report.features["ocean_proximity"]
    assert ocean.testable is False  # no current value is among the reference's labels
    assert ocean.unseen_share == 1.0 and ocean.unseen_drift
    assert report.features["total_bedrooms"].missing_share_ref > 0
    assert report.features["median_house_value"].distribution_drift


def test_profile_round_trip_on_real_data_gives_the_same_report() -> None:
    frame = _read("bank_marketing")
    profile = Profile(max_exact=50_000).fit(frame.iloc[:20_000])
    stored = Profile.from_json(profile.to_json())
    direct = compare(frame.iloc[:20_000], frame.iloc[20_000:])
    via_profile = compare(stored, frame.iloc[20_000:])
    assert via_profile.to_dict() == direct.to_dict()
