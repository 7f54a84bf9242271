"""Profile: every input type, bounded size, merge equals concatenation, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.drift import CategoricalProfile, NumericProfile, Profile, UnsupportedProfile
from driftline.exceptions import ValidationError


def _frame(n: int = 2_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[::17] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "k": rng.integers(0, 5, n),
            "c": rng.choice(["red", "green", "blue"], n),
        }
    )


def _without_sketch_noise(d: dict) -> dict:
    return json.loads(json.dumps(d))


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda df: df, id="pandas"),
        pytest.param(pl.from_pandas, id="polars"),
        pytest.param(lambda df: pa.Table.from_pandas(df, preserve_index=False), id="pyarrow"),
        pytest.param(lambda df: {c: df[c].to_numpy() for c in df.columns}, id="dict"),
    ],
)
def test_every_input_type_gives_the_same_profile(convert) -> None:
    df = _frame()
    expected = Profile().fit(df).to_dict()
    assert _without_sketch_noise(Profile().fit(convert(df)).to_dict()) == expected


def test_numpy_inputs_with_names() -> None:
    rng = np.random.default_rng(1)
    array = rng.normal(size=(300, 2))
    from_2d = Profile().fit(array, feature_names=["a", "b"])
    structured = np.rec.fromarrays([array[:, 0], array[:, 1]], names=["a", "b"])
    assert Profile().fit(structured).to_dict() == from_2d.to_dict()
    assert list(Profile().fit(array).features_) == ["x0", "x1"]


def test_numeric_profile_contents() -> None:
    values = np.array([1.0, 2.0, np.nan, np.inf, 3.0, 4.0, None], dtype=float)
    profile = NumericProfile.from_values(values, n_bins=2)
    assert (profile.count, profile.missing, profile.infinite, profile.n_finite) == (7, 2, 1, 4)
    assert profile.mean == pytest.approx(2.5)
    assert profile.std == pytest.approx(np.std([1, 2, 3, 4]))
    assert (profile.minimum, profile.maximum) == (1.0, 4.0)
    np.testing.assert_array_equal(profile.edges, [3.0])
    np.testing.assert_array_equal(profile.bin_counts, [2, 2])
    assert profile.missing_share == pytest.approx(3 / 7)


def test_categorical_profile_keeps_top_k_and_counts_the_rest() -> None:
    codes = np.array([0, 0, 0, 1, 1, 2, 3, -1])
    profile = CategoricalProfile.from_codes(codes, ("a", "b", "c", "d"), top_k=2)
    assert profile.categories == ("a", "b")
    np.testing.assert_array_equal(profile.counts, [3, 2])
    assert (profile.other, profile.missing, profile.complete) == (2, 1, False)


def test_size_is_bounded_whatever_the_row_count() -> None:
    rng = np.random.default_rng(2)
    n = 400_000
    data = {"x": rng.normal(size=n), "id": np.array([f"u{i % 5000}" for i in range(n)])}
    profile = Profile(top_k=100, max_exact=1_000, sketch_size=256).fit(data)
    text = profile.to_json()
    assert len(text) < 60_000
    assert profile["x"].sketch.size < 256 * 12
    assert len(profile["id"].categories) == 100 and profile["id"].other == n - 100 * 80


@settings(max_examples=30, deadline=None)
@given(
    split=st.integers(min_value=1, max_value=799),
    seed=st.integers(0, 2**16),
    nan_share=st.sampled_from([0.0, 0.1]),
)
def test_merge_equals_profiling_the_concatenation(split: int, seed: int, nan_share: float) -> None:
    rng = np.random.default_rng(seed)
    n = 800
    x = np.round(rng.normal(size=n), 1)
    x[rng.random(n) < nan_share] = np.nan
    frame = pd.DataFrame({"x": x, "c": rng.choice(["a", "b", "c", "d"], n)})
    reference = Profile(max_exact=300, sketch_size=64).fit(frame.iloc[:split])
    other = reference.profile_like(frame.iloc[split:])
    merged = reference.merge(other)
    whole = reference.profile_like(frame)
    for name in ("x", "c"):
        a, b = merged[name].to_dict(), whole[name].to_dict()
        a.pop("sketch", None)
        b.pop("sketch", None)
        for key in ("mean", "m2"):
            if key in a:
                assert a.pop(key) == pytest.approx(b.pop(key), rel=1e-9, abs=1e-9)
        assert a == b, name
    merged_sketch, whole_sketch = merged["x"].sketch, whole["x"].sketch
    assert merged_sketch.n == whole_sketch.n
    ordered = np.sort(x[np.isfinite(x)])
    probe = np.unique(ordered)
    true = np.searchsorted(ordered, probe, side="right")
    assert np.max(np.abs(merged_sketch.rank(probe) - true), initial=0) <= merged_sketch.rank_error


def test_merge_refuses_other_edges_and_other_columns() -> None:
    a = Profile().fit(_frame(seed=1))
    b = Profile().fit(_frame(seed=2))
    with pytest.raises(ValidationError, match="profile_like"):
        a.merge(b)
    c = Profile().fit(_frame().drop(columns=["c"]))
    with pytest.raises(ValidationError, match="different columns"):
        a.merge(c)


def test_json_round_trip_and_format_check() -> None:
    profile = Profile(n_bins=7, missing_values=("?",)).fit(_frame())
    again = Profile.from_json(profile.to_json())
    assert again.to_dict() == profile.to_dict()
    assert again.n_bins == 7 and again.missing_values == ("?",)
    with pytest.raises(ValidationError, match="not a serialised"):
        Profile.from_dict({"format": "other"})
    with pytest.raises(ValidationError, match="does not parse"):
        Profile.from_json("{")
    broken = profile.to_dict()
    broken["features"]["x"]["kind"] = "tensor"
    with pytest.raises(ValidationError, match="unknown feature profile kind"):
        Profile.from_dict(broken)


def test_unfitted_and_unknown_feature_errors() -> None:
    with pytest.raises(ValidationError, match=r"call fit\(\) first"):
        Profile().to_dict()
    with pytest.raises(ValidationError, match="no feature 'nope'"):
        Profile().fit(_frame())["nope"]


def test_missing_tokens_and_unsupported_types() -> None:
    frame = pd.DataFrame(
        {"c": ["a", "?", "b", "?"], "when": pd.date_range("2024-01-01", periods=4)}
    )
    profile = Profile(missing_values=("?",)).fit(frame)
    assert profile["c"].missing == 2 and profile["c"].categories == ("a", "b")
    assert isinstance(profile["when"], UnsupportedProfile)


def test_bad_inputs_name_the_problem() -> None:
    with pytest.raises(ValidationError, match="no rows"):
        Profile().fit(pd.DataFrame({"x": []}))
    with pytest.raises(ValidationError, match="different lengths"):
        Profile().fit({"a": [1, 2], "b": [1]})
    with pytest.raises(ValidationError, match="cannot read a str"):
        Profile().fit("data.csv")
    with pytest.raises(ValidationError, match="duplicate column names"):
        Profile().fit(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(ValidationError, match="feature_names has 1 names"):
        Profile().fit(np.zeros((3, 2)), feature_names=["a"])
