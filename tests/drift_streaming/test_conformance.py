"""The detector conformance suite, run over every streaming detector."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest

from driftline.drift import streaming
from driftline.testing import detector_checks
from driftline.testing.detector_checks import DETECTOR_CHECKS, check_invalid_param

FACTORIES: dict[str, Callable[[], streaming.StreamingDetector]] = {
    "ADWIN": streaming.ADWIN,  # river's compiled window when river is installed
    "ADWIN-python": lambda: streaming.ADWIN(backend="python"),
    "PageHinkley": streaming.PageHinkley,
    "DDM": streaming.DDM,
    "EDDM": streaming.EDDM,
    "HDDM_A": streaming.HDDM_A,
    "HDDM_A-two-sided": lambda: streaming.HDDM_A(two_sided_test=True),
    "KSWIN": lambda: streaming.KSWIN(seed=7),
    "CUSUM": streaming.CUSUM,
    "CUSUM-up": lambda: streaming.CUSUM(mode="up", warm_start=50),
}
if importlib.util.find_spec("river") is not None:  # the opt-in backend needs river
    FACTORIES["ADWIN-river-backend"] = lambda: streaming.ADWIN(backend="river")


@pytest.mark.parametrize("check", DETECTOR_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("factory", FACTORIES.values(), ids=FACTORIES.keys())
def test_conformance(factory: Callable[[], streaming.StreamingDetector], check: Any) -> None:
    check(factory)


def test_every_public_detector_is_checked() -> None:
    public = {
        name
        for name in streaming.__all__
        if isinstance(getattr(streaming, name), type)
        and issubclass(getattr(streaming, name), streaming.StreamingDetector)
        and getattr(streaming, name) is not streaming.StreamingDetector
    }
    checked = {type(factory()).__name__ for factory in FACTORIES.values()}
    assert public == checked


BAD_PARAMS = [
    (streaming.ADWIN, {"delta": 1.5}, "delta"),
    (streaming.ADWIN, {"clock": 0}, "clock"),
    (streaming.ADWIN, {"min_window_length": 2.5}, "min_window_length"),
    (streaming.ADWIN, {"backend": "rust"}, "backend"),
    (streaming.PageHinkley, {"alpha": 0.0}, "alpha"),
    (streaming.PageHinkley, {"mode": "sideways"}, "mode"),
    (streaming.PageHinkley, {"threshold": float("nan")}, "threshold"),
    (streaming.DDM, {"warm_start": -1}, "warm_start"),
    (streaming.DDM, {"warning_threshold": 3.0, "drift_threshold": 2.0}, "drift_threshold"),
    (streaming.EDDM, {"alpha": 0.8, "beta": 0.9}, "beta"),
    (streaming.EDDM, {"alpha": 1.2}, "alpha"),
    (streaming.HDDM_A, {"drift_confidence": 0.0}, "drift_confidence"),
    (streaming.HDDM_A, {"warning_confidence": 0.0001}, "warning_confidence"),
    (streaming.KSWIN, {"window_size": 50, "stat_size": 30}, "window_size"),
    (streaming.KSWIN, {"alpha": 1.0}, "alpha"),
    (streaming.KSWIN, {"seed": "abc"}, "seed"),
    (streaming.CUSUM, {"std": -1.0}, "std"),
    (streaming.CUSUM, {"warm_start": 1}, "warm_start"),
    (streaming.CUSUM, {"allowance": True}, "allowance"),
]


@pytest.mark.parametrize(
    ("cls", "params", "name"), BAD_PARAMS, ids=[f"{c.__name__}-{n}" for c, _, n in BAD_PARAMS]
)
def test_invalid_parameter_fails_on_first_use(
    cls: type[streaming.StreamingDetector], params: dict[str, Any], name: str
) -> None:
    check_invalid_param(lambda: cls(**params), name)


def test_checks_catch_a_broken_detector() -> None:
    class Forgetful(streaming.PageHinkley):
        """A detector whose reset() forgets to clear its state."""

        def reset(self) -> Forgetful:
            if not self._ready:
                return super().reset()
            self._drift_detected = False
            return self

    with pytest.raises(AssertionError, match="reset"):
        detector_checks.check_reset_restores_initial_behaviour(Forgetful)


def test_checks_catch_update_many_that_drops_state() -> None:
    class Amnesiac(streaming.CUSUM):
        """A detector whose update_many starts from scratch each call."""

        def update_many(self, values: Any) -> Any:
            self.reset()
            return super().update_many(values)

    with pytest.raises(AssertionError, match="piece by piece"):
        detector_checks.check_update_many_keeps_state(Amnesiac)
