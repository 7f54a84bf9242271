"""Where our definition is river's, both must report drift at the same positions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from driftline.drift import streaming
from driftline.exceptions import ValidationError

river_drift = pytest.importorskip(
    "river.drift", reason="river is not installed: the parity tests compare against it"
)


def _real_stream(seed: int) -> list[float]:
    """Six segments with random means and spreads (abrupt changes every 1000 values)."""
    rng = np.random.default_rng(seed)
    parts = [rng.normal(rng.uniform(-2, 2), rng.uniform(0.5, 2), 1000) for _ in range(6)]
    return np.concatenate(parts).tolist()


def _short_real_stream(seed: int) -> list[float]:
    """The first three segments of ``_real_stream`` (KSWIN in river is slow)."""
    return _real_stream(seed)[:3000]


def _gradual_stream(seed: int) -> list[float]:
    """A mean that ramps from 0 to 2 over 3000 values, with noise."""
    rng = np.random.default_rng(seed)
    ramp = np.concatenate([np.zeros(2000), np.linspace(0, 2, 3000), np.full(1000, 2.0)])
    return (ramp + rng.normal(0, 1, len(ramp))).tolist()


def _error_stream(seed: int) -> list[int]:
    """0/1 errors whose rate jumps between six random levels."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.05, 0.5, 6)
    return np.concatenate([rng.random(1000) < p for p in rates]).astype(int).tolist()


def _detections(detector: Any, values: list[Any]) -> list[int]:
    hits = []
    for i, x in enumerate(values):
        detector.update(x)
        if detector.drift_detected:
            hits.append(i)
    return hits


def _outlier_stream(seed: int) -> list[float]:
    """Heavy-tailed values (Student t, 2 degrees of freedom) whose level steps every 1500."""
    rng = np.random.default_rng(seed)
    levels = np.repeat(rng.uniform(-3, 3, 4), 1500)
    return (levels + rng.standard_t(2, len(levels))).tolist()


ADWIN_SETTINGS: dict[str, tuple[dict[str, Any], Callable[[int], list[Any]]]] = {
    "defaults": ({}, _real_stream),
    "gradual": ({}, _gradual_stream),
    "errors": ({}, _error_stream),
    "outliers": ({}, _outlier_stream),
    "delta-clock": ({"delta": 0.05, "clock": 4}, _real_stream),
    "clock-1": ({"clock": 1, "delta": 0.0001}, _real_stream),
    "grace-clock": ({"delta": 0.05, "clock": 4, "grace_period": 30}, _gradual_stream),
    "buckets-min-length": (
        {"max_buckets": 2, "min_window_length": 40, "grace_period": 100},
        _outlier_stream,
    ),
}

PAIRS: dict[str, tuple[Callable[[], Any], Callable[[], Any], Callable[[int], list[Any]]]] = {
    f"ADWIN-{backend}-{name}": (
        functools.partial(river_drift.ADWIN, **params),
        functools.partial(streaming.ADWIN, **params, backend=backend),
        stream,
    )
    for name, (params, stream) in ADWIN_SETTINGS.items()
    for backend in ("python", "river")
}
PAIRS |= {
    "PageHinkley": (river_drift.PageHinkley, streaming.PageHinkley, _real_stream),
    "PageHinkley-up-no-fading": (
        lambda: river_drift.PageHinkley(mode="up", alpha=1.0, threshold=20.0),
        lambda: streaming.PageHinkley(mode="up", alpha=1.0, threshold=20.0),
        _gradual_stream,
    ),
    "DDM": (river_drift.binary.DDM, streaming.DDM, _error_stream),
    "EDDM": (river_drift.binary.EDDM, streaming.EDDM, _error_stream),
    "HDDM_A": (river_drift.binary.HDDMA, streaming.HDDM_A, _error_stream),
    "HDDM_A-two-sided": (
        lambda: river_drift.binary.HDDMA(two_sided_test=True),
        lambda: streaming.HDDM_A(two_sided_test=True),
        _error_stream,
    ),
    "KSWIN": (
        lambda: river_drift.KSWIN(seed=11),
        lambda: streaming.KSWIN(seed=11),
        _short_real_stream,
    ),
    "KSWIN-small-alpha": (
        lambda: river_drift.KSWIN(alpha=0.0001, window_size=200, stat_size=50, seed=3),
        lambda: streaming.KSWIN(alpha=0.0001, window_size=200, stat_size=50, seed=3),
        _short_real_stream,
    ),
}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", PAIRS)
def test_same_detections_as_river(name: str, seed: int) -> None:
    make_river, make_ours, stream = PAIRS[name]
    values = stream(seed)
    expected = _detections(make_river(), values)
    assert expected, "the stream must make river detect something, or the test proves nothing"
    assert _detections(make_ours(), values) == expected
    assert make_ours().update_many(values).tolist() == expected


@pytest.mark.parametrize("seed", [0, 1])
def test_same_warnings_as_river_ddm(seed: int) -> None:
    values = _error_stream(seed)
    ours, theirs = streaming.DDM(), river_drift.binary.DDM()
    warnings_ours, warnings_theirs = [], []
    for i, x in enumerate(values):
        if ours.update(x).warning_detected:
            warnings_ours.append(i)
        theirs.update(x)
        if theirs.warning_detected:
            warnings_theirs.append(i)
    assert warnings_theirs
    assert warnings_ours == warnings_theirs


@pytest.mark.parametrize("seed", [0, 1])
def test_adwin_backends_agree_value_by_value(seed: int) -> None:
    values = _real_stream(seed) + _gradual_stream(seed)
    python, river = streaming.ADWIN(backend="python"), streaming.ADWIN(backend="river")
    widths = []
    for x in values:
        a, b = python.update(x), river.update(x)
        assert a.drift_detected == b.drift_detected
        widths.append((a.width, b.width))
    assert all(w_py == w_river for w_py, w_river in widths)
    assert sum(w == 0 for w, _ in widths) >= 2  # the window restarted after each detection
    # update_many over two calls leaves the river backend where an update loop leaves it
    split = streaming.ADWIN(backend="river")
    first = split.update_many(values[:2500]).tolist()
    rest = [2500 + i for i in split.update_many(values[2500:]).tolist()]
    assert first + rest == streaming.ADWIN(backend="python").update_many(values).tolist()
    assert split.width == python.width


def test_adwin_river_backend_keeps_our_input_checks_and_reset() -> None:
    adwin = streaming.ADWIN(backend="river")
    with pytest.raises(ValidationError, match="x = nan is not valid"):
        adwin.update(float("nan"))
    with pytest.raises(ValidationError, match=r"values\[1\] = inf"):
        adwin.update_many([1.0, float("inf")])
    for x in _real_stream(0)[:500]:
        adwin.update(x)
    assert adwin.width == 500
    assert adwin.reset().width == 0
    assert adwin.clone().get_params()["backend"] == "river"
