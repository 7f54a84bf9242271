"""Behaviour of each streaming detector beyond the shared contract."""

from __future__ import annotations

import math
import pickle
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from driftline.drift import streaming
from driftline.drift.streaming import _river_core
from driftline.drift.streaming.kswin import _critical_count, _ks_count
from driftline.exceptions import DependencyMissingError, ValidationError


def _loop(detector: streaming.StreamingDetector, values: Any) -> list[int]:
    return [i for i, x in enumerate(values) if detector.update(x).drift_detected]


# CUSUM ---------------------------------------------------------------------------------------


def _textbook_cusum(values: np.ndarray, mu: float, sigma: float, k: float, h: float) -> list[int]:
    """Montgomery's tabular CUSUM, restarted at 0 after each signal."""
    hits, up, down = [], 0.0, 0.0
    for i, x in enumerate(values):
        up = max(0.0, up + x - mu - k * sigma)
        down = max(0.0, down + mu - x - k * sigma)
        if up > h * sigma or down > h * sigma:
            hits.append(i)
            up = down = 0.0
    return hits


def test_cusum_matches_the_textbook_recursion() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(5, 2, 3000), rng.normal(6, 2, 3000)])
    expected = _textbook_cusum(values, 5.0, 2.0, 0.5, 5.0)
    assert len(expected) > 10
    assert streaming.CUSUM(mean=5.0, std=2.0).update_many(values).tolist() == expected


def test_cusum_in_control_run_length_matches_siegmund() -> None:
    # Siegmund's approximation of the one-sided ARL with b = h + 1.166 and drift -k; the
    # two-sided chart has 1/ARL = 1/ARL+ + 1/ARL- (Montgomery, Introduction to SQC, 9.1.5).
    k, h = 0.5, 5.0
    delta, b = -k, h + 1.166
    one_sided = (math.exp(-2 * delta * b) + 2 * delta * b - 1) / (2 * delta**2)
    two_sided = one_sided / 2
    values = np.random.default_rng(1).normal(0, 1, 600_000)
    hits = streaming.CUSUM(mean=0.0, std=1.0, allowance=k, threshold=h).update_many(values)
    mean_run = (hits[-1] + 1) / len(hits)
    assert mean_run == pytest.approx(two_sided, rel=0.08)


def test_cusum_estimates_its_target_after_each_restart() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.normal(0, 1, 1000), rng.normal(10, 3, 1000)])
    hits = streaming.CUSUM(warm_start=50).update_many(values).tolist()
    after = [h for h in hits if h >= 1000]
    # one alarm for the shift, then the chart learns the new level instead of alarming on
    assert len(after) >= 1 and after[0] < 1010
    assert len(after) <= 6


def test_cusum_one_sided_modes() -> None:
    rng = np.random.default_rng(3)
    falling = np.concatenate([rng.normal(0, 1, 500), rng.normal(-3, 1, 500)])
    assert (
        streaming.CUSUM(mean=0.0, std=1.0, threshold=8.0, mode="up")
        .update_many(falling[500:])
        .tolist()
        == []
    )
    assert len(streaming.CUSUM(mean=0.0, std=1.0, mode="down").update_many(falling[500:])) > 0


# KSWIN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("r", "alpha"), [(30, 0.005), (30, 0.0001), (50, 0.01), (8, 0.05)])
def test_kswin_decision_matches_scipy_ks_2samp(r: int, alpha: float) -> None:
    rng = np.random.default_rng(r)
    h_crit = _critical_count(r, alpha)
    outcomes = set()
    for shift in np.linspace(0.0, 2.5, 120):
        a = rng.normal(0, 1, r).tolist()
        b = rng.normal(shift, 1, r).tolist()
        result = stats.ks_2samp(a, b, method="auto")
        assert _ks_count(a, b) / r == pytest.approx(result.statistic, abs=1e-12)
        expected = bool(result.pvalue <= alpha and result.statistic > 0.1)
        assert (_ks_count(a, b) >= h_crit) == expected
        outcomes.add(expected)
    assert outcomes == {True, False}


def test_kswin_counts_ties_like_scipy() -> None:
    a = [0.0, 0.0, 1.0, 1.0, 2.0]
    b = [1.0, 1.0, 1.0, 2.0, 3.0]
    assert _ks_count(a, b) / 5 == pytest.approx(stats.ks_2samp(a, b).statistic)


# Page-Hinkley, HDDM_A, DDM, EDDM, ADWIN --------------------------------------------------


def test_page_hinkley_modes_see_their_direction_only() -> None:
    rng = np.random.default_rng(4)
    falling = np.concatenate([rng.normal(0, 1, 300), rng.normal(-4, 1, 300)])
    up = streaming.PageHinkley(mode="up").update_many(falling).tolist()
    down = streaming.PageHinkley(mode="down").update_many(falling).tolist()
    both = streaming.PageHinkley(mode="both").update_many(falling).tolist()
    assert not [h for h in up if h >= 300]
    assert down and 300 <= down[0] < 330
    assert both[0] == down[0]


def test_hddm_a_two_sided_sees_a_falling_error_rate() -> None:
    rng = np.random.default_rng(5)
    errors = np.concatenate([rng.random(1500) < 0.5, rng.random(1500) < 0.1]).astype(float)
    one = streaming.HDDM_A().update_many(errors).tolist()
    two = streaming.HDDM_A(two_sided_test=True).update_many(errors).tolist()
    assert not [h for h in one if h >= 1500]
    assert [h for h in two if 1500 <= h < 1700]


def test_hddm_a_reads_values_in_the_unit_interval() -> None:
    rng = np.random.default_rng(6)
    scores = np.concatenate([rng.beta(2, 8, 1000), rng.beta(6, 4, 1000)])
    hits = streaming.HDDM_A().update_many(scores).tolist()
    assert hits and 1000 <= hits[0] < 1100


def test_ddm_warns_before_it_detects_a_gradual_rise() -> None:
    rng = np.random.default_rng(7)
    rate = np.concatenate([np.full(2000, 0.1), np.linspace(0.1, 0.5, 2000)])
    errors = (rng.random(len(rate)) < rate).astype(int)
    ddm = streaming.DDM()
    warnings, drifts = [], []
    for i, e in enumerate(errors.tolist()):
        ddm.update(e)
        if ddm.warning_detected:
            warnings.append(i)
        if ddm.drift_detected:
            drifts.append(i)
    first = next(d for d in drifts if d >= 2000)
    before = max([d for d in drifts if d < first], default=-1)
    assert [w for w in warnings if max(before, 2000) <= w < first]


def test_eddm_reports_only_on_errors() -> None:
    rng = np.random.default_rng(8)
    errors = np.concatenate([rng.random(3000) < 0.05, rng.random(2000) < 0.4]).astype(int)
    hits = streaming.EDDM().update_many(errors)
    assert len(hits) > 0
    assert (errors[hits] == 1).all()


def test_adwin_tests_every_clock_values_after_its_grace_period() -> None:
    rng = np.random.default_rng(9)
    values = np.concatenate([rng.normal(0, 1, 500), rng.normal(5, 1, 500)] * 3)
    hits = streaming.ADWIN(clock=16, grace_period=40).update_many(values).tolist()
    assert len(hits) >= 5
    starts = [-1, *hits[:-1]]
    assert all((h - s) % 16 == 0 and h - s > 40 for h, s in zip(hits, starts, strict=True))


def test_adwin_width_counts_values_since_the_restart() -> None:
    adwin = streaming.ADWIN()
    assert adwin.width == 0
    adwin.update_many(np.zeros(100))
    assert adwin.width == 100
    rng = np.random.default_rng(10)
    hits = adwin.update_many(rng.normal(8, 1, 200))
    assert adwin.width == 199 - hits[-1]


# Inputs and parameters -----------------------------------------------------------------------

REAL = {
    "ADWIN": streaming.ADWIN,
    "ADWIN-python": lambda: streaming.ADWIN(backend="python"),
    "PageHinkley": streaming.PageHinkley,
    "CUSUM": streaming.CUSUM,
    "KSWIN": lambda: streaming.KSWIN(seed=1),
}


@pytest.mark.parametrize("factory", REAL.values(), ids=REAL.keys())
def test_numbers_of_any_type_give_the_same_detections(factory: Any) -> None:
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.integers(0, 3, 600), rng.integers(4, 9, 600)])
    as_floats = _loop(factory(), values.astype(float).tolist())
    assert as_floats
    assert _loop(factory(), values.tolist()) == as_floats
    assert _loop(factory(), list(values)) == as_floats  # numpy integers


def test_binary_detectors_accept_bools() -> None:
    rng = np.random.default_rng(12)
    errors = np.concatenate([rng.random(1000) < 0.1, rng.random(1000) < 0.5])
    for factory in (streaming.DDM, streaming.EDDM, streaming.HDDM_A):
        expected = _loop(factory(), errors.astype(int).tolist())
        assert expected
        assert _loop(factory(), errors.tolist()) == expected
        assert factory().update_many(errors).tolist() == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([[1.0, 2.0]], "one-dimensional"),
        ([1.0, "x", 3.0], r"values\[1\] = 'x'"),
        ([1.0, None], r"values\[1\] = None"),
        ([1.0, 10**400], "too large"),
        (np.array([0.0, -np.inf]), r"values\[1\] = -inf"),
    ],
)
def test_update_many_names_the_bad_value(values: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        streaming.PageHinkley().update_many(values)


def test_update_rejects_arrays_and_huge_numbers() -> None:
    with pytest.raises(ValidationError, match="x = 'abc'"):
        streaming.ADWIN().update("abc")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="finite"):
        streaming.CUSUM().update(10**400)
    for backend in ("auto", "python"):  # ADWIN hands ints to river's window unconverted
        adwin = streaming.ADWIN(backend=backend).update(1)
        with pytest.raises(ValidationError, match="finite"):
            adwin.update(-(10**400))
        assert adwin.width == 1  # the rejected value was not read


def test_repr_and_params() -> None:
    detector = streaming.KSWIN(alpha=0.01, seed=3)
    assert repr(detector) == "KSWIN(alpha=0.01, window_size=100, stat_size=30, seed=3)"
    assert detector.get_params()["seed"] == 3
    assert detector.clone().get_params() == detector.get_params()


# update_many == update, on streams Hypothesis draws ------------------------------------------

ALL = {
    "ADWIN": lambda: streaming.ADWIN(clock=4, delta=0.05),
    "ADWIN-python": lambda: streaming.ADWIN(clock=4, delta=0.05, backend="python"),
    "PageHinkley": lambda: streaming.PageHinkley(threshold=10.0, min_instances=5),
    "CUSUM": lambda: streaming.CUSUM(warm_start=5),
    "KSWIN": lambda: streaming.KSWIN(window_size=20, stat_size=8, alpha=0.05, seed=0),
    "DDM": lambda: streaming.DDM(warm_start=5),
    "EDDM": lambda: streaming.EDDM(warm_start=3),
    "HDDM_A": lambda: streaming.HDDM_A(two_sided_test=True),
}


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(ALL)),
    levels=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5),
    length=st.integers(1, 150),
    seed=st.integers(0, 2**32 - 1),
    cut=st.floats(0.0, 1.0),
)
def test_update_many_equals_update_on_any_stream(
    name: str, levels: list[float], length: int, seed: int, cut: float
) -> None:
    factory = ALL[name]
    rng = np.random.default_rng(seed)
    if factory().input_kind == "real":
        values = np.concatenate([rng.normal(10 * p, 1 + 3 * p, length) for p in levels])
        values = np.round(values, 1)  # ties and repeats, as real data has
    else:
        values = np.concatenate([(rng.random(length) < p).astype(float) for p in levels])
    expected = _loop(factory(), values.tolist())
    split = int(cut * len(values))
    detector = factory()
    got = detector.update_many(values[:split]).tolist()
    got += [split + i for i in detector.update_many(values[split:]).tolist()]
    assert got == expected


def test_adwin_river_backend_names_the_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in _river_core._MODULES:  # as if river were not installed
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(DependencyMissingError, match=r'pip install "driftline\[river\]"'):
        streaming.ADWIN(backend="river").update(1.0)
    adwin = streaming.ADWIN()  # the default backend falls back to ours, which needs nothing
    assert adwin.update(1.0).width == 1
    assert adwin.active_backend == "python"


def _one_at_a_time_histogram(values: list[float], max_buckets: int) -> list[list[float]]:
    """ADWIN's exponential histogram built the textbook way: insert one value, then merge."""
    levels: list[list[float]] = [[]]
    for x in values:
        levels[0].append(x)
        i = 0
        while len(levels[i]) > max_buckets:
            oldest, second = levels[i].pop(0), levels[i].pop(0)
            if i + 1 == len(levels):
                levels.append([])
            levels[i + 1].append(oldest + second)
            i += 1
    return levels


@pytest.mark.parametrize(("clock", "max_buckets"), [(32, 5), (7, 2), (1, 1), (100, 3)])
def test_adwin_batched_histogram_equals_one_value_at_a_time(clock: int, max_buckets: int) -> None:
    # Our ADWIN folds `clock` values into the histogram at once; merging the oldest pairs
    # of each level in order gives the same buckets, float for float, as one at a time.
    values = np.random.default_rng(clock).normal(0, 1, 3000).tolist()
    adwin = streaming.ADWIN(
        clock=clock, max_buckets=max_buckets, grace_period=10**9, backend="python"
    )  # a grace period longer than the stream: no detection restarts the window
    checked = 0
    for n, x in enumerate(values, start=1):
        adwin.update(x)
        if n % clock == 0:
            expected = _one_at_a_time_histogram(values[:n], max_buckets)
            assert _trimmed(adwin._levels) == _trimmed(expected)
            checked += 1
    assert checked == len(values) // clock
    assert adwin.width == len(values)


def _trimmed(levels: list[list[float]]) -> list[list[float]]:
    while levels and not levels[-1]:
        levels = levels[:-1]
    return levels


@pytest.mark.parametrize("backend", ["auto", "python"])
def test_adwin_pickled_mid_stream_continues_alike(backend: str) -> None:
    rng = np.random.default_rng(12)
    values = np.concatenate([rng.normal(0, 1, 1500), rng.normal(2, 1, 1500)] * 2)
    expected = streaming.ADWIN(backend=backend).update_many(values).tolist()
    adwin = streaming.ADWIN(backend=backend)
    head = adwin.update_many(values[:2000]).tolist()
    copy = pickle.loads(pickle.dumps(adwin))
    assert copy.width == adwin.width > 0
    assert head + [2000 + h for h in copy.update_many(values[2000:]).tolist()] == expected
