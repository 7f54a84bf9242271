"""Drift Detection Method (DDM) over a stream of errors."""

from __future__ import annotations

import math
from typing import Self

import numpy as np

from driftline.drift.streaming._base import StreamingDetector, check_float, check_int

__all__ = ["DDM"]


class DDM(StreamingDetector):
    r"""Drift Detection Method (Gama et al., 2004) over a stream of 0/1 errors.

    After $t$ values with $k$ errors the error rate is $p_t = k/t$ with standard deviation
    $s_t = \sqrt{p_t(1 - p_t)/t}$. The detector remembers $p_{min}, s_{min}$ at the time
    $p_t + s_t$ was smallest and reports a warning when
    $p_t + s_t > p_{min} + w\, s_{min}$ and drift when $p_t + s_t > p_{min} + d\, s_{min}$.
    Nothing is reported while $t \le$ ``warm_start``.

    The definition and the defaults are river's ``drift.binary.DDM`` and a test checks that
    both report drift at the same positions. One deliberate difference: values must be 0 or
    1 (river accepts any number and then computes a meaningless "error rate"), and
    $p_t$ is computed from the integer count, which keeps ``update_many`` exact.

    Parameters
    ----------
    warm_start
        Values to read after a (re)start before anything can be reported.
    warning_threshold
        $w$, in standard deviations.
    drift_threshold
        $d$, in standard deviations; at least ``warning_threshold``.

    Examples
    --------
    >>> import numpy as np
    >>> from driftline.drift.streaming import DDM
    >>> rng = np.random.default_rng(0)
    >>> errors = np.concatenate([rng.random(1000) < 0.1, rng.random(1000) < 0.3])
    >>> ddm = DDM()
    >>> for i, e in enumerate(errors):
    ...     if ddm.update(int(e)).drift_detected:
    ...         print(f"drift at {i}")
    drift at 1052
    >>> DDM().update_many(errors).tolist()
    [1052]
    """

    input_kind = "binary"

    def __init__(
        self, *, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0
    ) -> None:
        self.warm_start = warm_start
        self.warning_threshold = warning_threshold
        self.drift_threshold = drift_threshold

    def _check_params(self) -> None:
        self._warm = check_int(self, "warm_start", 0)
        self._w = check_float(self, "warning_threshold", 0.0)
        self._d = check_float(self, "drift_threshold", self._w)

    def _clear(self) -> None:
        self._n = 0
        self._k = 0
        self._p_min = 0.0
        self._s_min = 0.0
        self._ps_min = math.inf

    def update(self, x: float) -> Self:
        """Read one outcome (1 = error, 0 = correct); return the detector."""
        if x != 1 and x != 0:
            raise self._bad_value(x)
        if not self._ready:
            self.reset()
        k = self._k + 1 if x == 1 else self._k
        n = self._n + 1
        self._n = n
        self._k = k
        if n <= self._warm:
            self._drift_detected = False
            return self
        p = k / n
        s = math.sqrt(p * (1.0 - p) / n)
        ps = p + s
        if ps <= self._ps_min:
            self._p_min, self._s_min, self._ps_min = p, s, ps
        if ps > self._p_min + self._d * self._s_min:
            self._clear()
            self._drift_detected = True
            self._warning_detected = False
            return self
        self._drift_detected = False
        self._warning_detected = ps > self._p_min + self._w * self._s_min
        return self

    def _run_chunk(self, xs: np.ndarray) -> int:
        n = np.arange(self._n + 1, self._n + len(xs) + 1, dtype=float)
        p = (self._k + np.cumsum(xs)) / n
        s = np.sqrt(p * (1.0 - p) / n)
        ps = p + s
        active = n > self._warm
        # The minimum moves wherever p + s ties or beats the running minimum; each position
        # then reads p and s from the latest such place (or from the state before the chunk).
        run_min = np.minimum(np.minimum.accumulate(np.where(active, ps, math.inf)), self._ps_min)
        moved = active & (ps == run_min)
        last = np.maximum.accumulate(np.where(moved, np.arange(len(xs)), -1))
        p_min = np.where(last >= 0, p[last], self._p_min)
        s_min = np.where(last >= 0, s[last], self._s_min)
        drift = active & (ps > p_min + self._d * s_min)
        if drift.any():
            self._clear()
            self._drift_detected = True
            self._warning_detected = False
            return int(np.argmax(drift))
        self._n += len(xs)
        self._k += round(float(np.sum(xs)))
        if last[-1] >= 0:
            self._p_min, self._s_min = float(p_min[-1]), float(s_min[-1])
            self._ps_min = float(run_min[-1])
        self._drift_detected = False
        if active[-1]:
            self._warning_detected = bool(ps[-1] > p_min[-1] + self._w * s_min[-1])
        return -1
