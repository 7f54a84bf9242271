"""Hoeffding drift detection with moving averages (HDDM_A)."""

from __future__ import annotations

import math
from typing import Self

import numpy as np

from driftline.drift.streaming._base import StreamingDetector, check_float

__all__ = ["HDDM_A"]


class HDDM_A(StreamingDetector):
    r"""Drift detection with Hoeffding's bound on moving averages (Frias-Blanco et al., 2014).

    For values in [0, 1] (typically 0/1 errors) with running mean $\bar{x}_t$, the detector
    keeps a cut point: the time $c$ at which $\bar{x}_c + \epsilon_c$ was smallest, with
    $\epsilon_n = \sqrt{\ln(1/\delta_d) / 2n}$. The mean has risen when

    $$\bar{x}_t - \bar{x}_c \ge \sqrt{\frac{t - c}{2\,c\,t}\,\ln\frac{2}{\delta}}$$

    with $\delta$ = ``drift_confidence`` (drift) or ``warning_confidence`` (warning). With
    ``two_sided_test`` a fall of the mean is watched the same way from the largest
    $\bar{x}_c - \epsilon_c$.

    The definition and the defaults are river's ``drift.binary.HDDMA`` and a test checks that
    both report drift at the same positions. Deliberate differences: any value in [0, 1] is
    accepted (the bound holds for bounded values, not only for 0/1), the warning flag is
    cleared when drift is reported, and counts are floats so ``update_many`` is exact.

    Parameters
    ----------
    drift_confidence
        Significance level of the drift test, in (0, 1).
    warning_confidence
        Significance level of the warning test, at least ``drift_confidence``.
    two_sided_test
        Also report a fall of the mean.

    Examples
    --------
    >>> import numpy as np
    >>> from driftline.drift.streaming import HDDM_A
    >>> rng = np.random.default_rng(0)
    >>> errors = np.concatenate([rng.random(1000) < 0.2, rng.random(1000) < 0.4])
    >>> hddm = HDDM_A()
    >>> for i, e in enumerate(errors):
    ...     if hddm.update(int(e)).drift_detected:
    ...         print(f"drift at {i}")
    drift at 1042
    >>> HDDM_A().update_many(errors).tolist()
    [1042]
    """

    input_kind = "unit"

    def __init__(
        self,
        *,
        drift_confidence: float = 0.001,
        warning_confidence: float = 0.005,
        two_sided_test: bool = False,
    ) -> None:
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.two_sided_test = two_sided_test

    def _check_params(self) -> None:
        drift = check_float(self, "drift_confidence", 0.0, 1.0, open_low=True, open_high=True)
        warn = check_float(self, "warning_confidence", drift, 1.0, open_high=True)
        self._c_cut = math.log(1.0 / drift) / 2.0
        self._c_drift = math.log(2.0 / drift) / 2.0
        self._c_warn = math.log(2.0 / warn) / 2.0
        self._two = bool(self.two_sided_test)

    def _clear(self) -> None:
        self._n = self._s = 0.0
        # The cut points: count, sum and bound at the lowest (highest) mean + (-) epsilon.
        self._n_lo = self._s_lo = self._n_hi = self._s_hi = 0.0
        self._a_lo = math.inf
        self._a_hi = -math.inf

    def update(self, x: float) -> Self:
        """Read one value in [0, 1] (1 = error); return the detector."""
        if x.__class__ is not float:
            x = self._to_float(x)
        if not 0.0 <= x <= 1.0:
            raise self._bad_value(x)
        if not self._ready:
            self.reset()
        n = self._n + 1.0
        s = self._s + x
        self._n, self._s = n, s
        mean = s / n
        bound = math.sqrt(self._c_cut / n)
        if mean + bound <= self._a_lo:
            self._n_lo, self._s_lo, self._a_lo = n, s, mean + bound
        drift = warn = False
        if self._n_lo != n:
            diff = mean - self._s_lo / self._n_lo
            m = (n - self._n_lo) / (self._n_lo * n)
            drift = diff >= math.sqrt(m * self._c_drift)
            warn = diff >= math.sqrt(m * self._c_warn)
        if self._two:
            if mean - bound >= self._a_hi:
                self._n_hi, self._s_hi, self._a_hi = n, s, mean - bound
            if self._n_hi != n:
                diff = self._s_hi / self._n_hi - mean
                m = (n - self._n_hi) / (self._n_hi * n)
                drift = drift or diff >= math.sqrt(m * self._c_drift)
                warn = warn or diff >= math.sqrt(m * self._c_warn)
        if drift:
            self._clear()
        self._drift_detected = drift
        self._warning_detected = warn and not drift
        return self

    def _run_chunk(self, xs: np.ndarray) -> int:
        n = np.arange(self._n + 1.0, self._n + len(xs) + 0.5)
        s = np.cumsum(np.concatenate(([self._s], xs)))[1:]
        mean = s / n
        bound = np.sqrt(self._c_cut / n)
        drift, warn, low = self._side(n, s, mean, mean + bound, rising=True)
        high = None
        if self._two:
            d2, w2, high = self._side(n, s, mean, mean - bound, rising=False)
            drift |= d2
            warn |= w2
        if drift.any():
            self._clear()
            self._drift_detected, self._warning_detected = True, False
            return int(np.argmax(drift))
        self._n, self._s = float(n[-1]), float(s[-1])
        self._n_lo, self._s_lo, self._a_lo = low
        if high is not None:
            self._n_hi, self._s_hi, self._a_hi = high
        self._drift_detected, self._warning_detected = False, bool(warn[-1])
        return -1

    def _side(
        self, n: np.ndarray, s: np.ndarray, mean: np.ndarray, a: np.ndarray, *, rising: bool
    ) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
        """Drift and warning flags for one direction, and its cut point after the chunk."""
        if rising:
            n0, s0, a0 = self._n_lo, self._s_lo, self._a_lo
            run = np.minimum(np.minimum.accumulate(a), a0)
        else:
            n0, s0, a0 = self._n_hi, self._s_hi, self._a_hi
            run = np.maximum(np.maximum.accumulate(a), a0)
        moved = a == run  # the cut moves wherever the bound ties or beats the best so far
        last = np.maximum.accumulate(np.where(moved, np.arange(len(n)), -1))
        n_cut = np.where(last >= 0, n[last], n0)
        s_cut = np.where(last >= 0, s[last], s0)
        valid = n_cut != n
        safe_n = np.where(valid, n_cut, 1.0)
        diff = mean - s_cut / safe_n if rising else s_cut / safe_n - mean
        m = (n - n_cut) / (safe_n * n)
        drift = valid & (diff >= np.sqrt(m * self._c_drift))
        warn = valid & (diff >= np.sqrt(m * self._c_warn))
        return drift, warn, (float(n_cut[-1]), float(s_cut[-1]), float(run[-1]))
