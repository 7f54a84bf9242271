"""QuantileSketch: exact below max_exact, a deterministic rank-error bound beyond."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.drift import QuantileSketch
from driftline.exceptions import ValidationError


def _max_rank_error(sketch: QuantileSketch, data: np.ndarray) -> float:
    """Largest |estimated - true| rank, over every stored value, just below it, and the data."""
    ordered = np.sort(data)
    items, _ = sketch.weighted_items()
    points = np.concatenate([items, np.nextafter(items, -np.inf), ordered])
    true = np.searchsorted(ordered, points, side="right")
    return float(np.max(np.abs(sketch.rank(points) - true)))


def test_small_input_is_kept_exactly() -> None:
    values = np.random.default_rng(0).normal(size=500)
    sketch = QuantileSketch.from_values(values, max_exact=500)
    assert sketch.is_exact and sketch.error_bound == 0.0
    np.testing.assert_array_equal(sketch.levels[0], np.sort(values))
    assert sketch.quantile(0.5) == np.sort(values)[249]


def test_nan_and_infinities_are_left_out() -> None:
    sketch = QuantileSketch.from_values([1.0, np.nan, np.inf, -np.inf, 2.0])
    assert sketch.n == 2


@pytest.mark.parametrize("n", [10_001, 100_000, 1_000_000])
def test_size_is_bounded_and_error_within_one_over_k(n: int) -> None:
    values = np.random.default_rng(n).standard_cauchy(n)
    sketch = QuantileSketch.from_values(values, k=1024, max_exact=10_000)
    assert not sketch.is_exact
    assert sketch.size <= 1024 * (1 + np.log2(n / 1024))
    assert sketch.error_bound <= 1 / 1024
    assert _max_rank_error(sketch, values) <= sketch.rank_error


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=6_000), min_size=1, max_size=12),
    k=st.sampled_from([8, 64, 256]),
    max_exact=st.sampled_from([0, 100, 2_000]),
    seed=st.integers(0, 2**16),
)
def test_merged_sketch_respects_its_bound(
    sizes: list[int], k: int, max_exact: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    parts = [np.round(rng.exponential(size=s), 2) for s in sizes]  # rounding makes ties
    sketch = QuantileSketch.from_values(parts[0], k=k, max_exact=max_exact)
    for part in parts[1:]:
        sketch = sketch.merge(QuantileSketch.from_values(part, k=k, max_exact=max_exact))
    data = np.concatenate(parts)
    assert sketch.n == len(data)
    if len(data):
        assert _max_rank_error(sketch, data) <= sketch.rank_error
    if len(data) <= max_exact:
        assert sketch.is_exact


def test_cdf_and_quantile_are_within_the_bound() -> None:
    values = np.random.default_rng(1).gamma(2.0, size=200_000)
    sketch = QuantileSketch.from_values(values, k=256, max_exact=1_000)
    ordered = np.sort(values)
    for q in (0.01, 0.25, 0.5, 0.9, 0.999):
        x = sketch.quantile(q)
        true_cdf = np.searchsorted(ordered, x, side="right") / len(values)
        assert abs(true_cdf - q) <= sketch.error_bound + 1 / len(values)
        assert abs(sketch.cdf(x) - true_cdf) <= sketch.error_bound


def test_round_trip_through_json() -> None:
    sketch = QuantileSketch.from_values(np.arange(50_000.0), k=128, max_exact=100)
    again = QuantileSketch.from_dict(json.loads(json.dumps(sketch.to_dict())))
    assert again.to_dict() == sketch.to_dict()
    assert again.cdf(1234.5) == sketch.cdf(1234.5)


def test_bad_input_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="at least 2"):
        QuantileSketch.from_values([1.0], k=1)
    with pytest.raises(ValidationError, match="empty"):
        QuantileSketch.from_values([]).cdf(0.0)
    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        QuantileSketch.from_values([1.0, 2.0]).quantile(1.5)
    with pytest.raises(ValidationError, match="not a serialised"):
        QuantileSketch.from_dict({"levels": "nope"})
