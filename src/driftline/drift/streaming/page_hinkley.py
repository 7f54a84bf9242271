"""Page-Hinkley test for a change in the mean of a stream."""

from __future__ import annotations

import math
from typing import Literal, Self

import numpy as np

from driftline.drift.streaming._base import StreamingDetector, check_float, check_int, param_error

__all__ = ["PageHinkley"]

_MODES = ("up", "down", "both")


class PageHinkley(StreamingDetector):
    r"""Page-Hinkley test for a change in the mean of a stream (Page, 1954).

    With $\bar{x}_t$ the mean of the values read so far, the detector keeps the faded sums

    $$m^+_t = \alpha\, m^+_{t-1} + (x_t - \bar{x}_t - \delta), \qquad
      m^-_t = \alpha\, m^-_{t-1} + (x_t - \bar{x}_t + \delta)$$

    and reports drift when $m^+_t - \min_{s \le t} m^+_s$ (a rise of the mean) or
    $\max_{s \le t} m^-_s - m^-_t$ (a fall) exceeds ``threshold``, once ``min_instances``
    values were read. It has no warning zone. The definition and the defaults are river's
    ``drift.PageHinkley``, and a test checks that both report drift at the same positions;
    our sums are computed in an order that numpy (and :func:`scipy.signal.lfilter` for the
    fading) can vectorise exactly, so ``update_many`` reads millions of values a second.

    Parameters
    ----------
    min_instances
        Values to read after a (re)start before drift can be reported.
    delta
        Magnitude of change that is tolerated.
    threshold
        The detection threshold (lambda).
    alpha
        Fading factor of the sums, in (0, 1]; 1 means no fading.
    mode
        Watch for a rise of the mean (``"up"``), a fall (``"down"``) or both.

    Examples
    --------
    >>> import numpy as np
    >>> from driftline.drift.streaming import PageHinkley
    >>> rng = np.random.default_rng(1)
    >>> stream = np.concatenate([rng.normal(0.0, 1.0, 1000), rng.normal(3.0, 1.0, 1000)])
    >>> ph = PageHinkley()
    >>> for i, x in enumerate(stream):
    ...     if ph.update(x).drift_detected:
    ...         print(f"drift at {i}")
    drift at 1010
    >>> PageHinkley().update_many(stream).tolist()
    [1010]
    """

    def __init__(
        self,
        *,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: Literal["up", "down", "both"] = "both",
    ) -> None:
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode

    def _check_params(self) -> None:
        self._min_n = check_int(self, "min_instances", 1)
        self._delta = check_float(self, "delta", 0.0)
        self._thr = check_float(self, "threshold", 0.0)
        self._alpha = check_float(self, "alpha", 0.0, 1.0, open_low=True)
        if self.mode not in _MODES:
            raise param_error(self, "mode", self.mode, f"one of {_MODES}")
        self._up = self.mode != "down"
        self._down = self.mode != "up"

    def _clear(self) -> None:
        self._n = 0
        self._sum = 0.0
        self._inc = 0.0
        self._dec = 0.0
        self._min_inc = math.inf
        self._max_dec = -math.inf

    def update(self, x: float) -> Self:
        """Read one value; return the detector."""
        if x.__class__ is not float:
            x = self._to_float(x)
        elif x - x != 0.0:
            raise self._bad_value(x)
        if not self._ready:
            self.reset()
        n = self._n + 1
        s = self._sum + x
        dev = x - s / n
        inc = self._alpha * self._inc + (dev - self._delta)
        dec = self._alpha * self._dec + (dev + self._delta)
        min_inc = inc if inc < self._min_inc else self._min_inc
        max_dec = dec if dec > self._max_dec else self._max_dec
        if n >= self._min_n and (
            (self._up and inc - min_inc > self._thr) or (self._down and max_dec - dec > self._thr)
        ):
            self._clear()
            self._drift_detected = True
            return self
        self._n, self._sum, self._inc, self._dec = n, s, inc, dec
        self._min_inc, self._max_dec = min_inc, max_dec
        self._drift_detected = False
        return self

    def _run_chunk(self, xs: np.ndarray) -> int:
        # Same arithmetic as update(): a sequential cumsum for the running sum, and lfilter's
        # first-order recursion computes alpha * m + v in that order, value by value.
        from scipy.signal import lfilter

        n = np.arange(self._n + 1, self._n + len(xs) + 1, dtype=float)
        s = np.cumsum(np.concatenate(([self._sum], xs)))[1:]
        dev = xs - s / n
        feedback = (1.0, -self._alpha)
        inc = lfilter((1.0,), feedback, dev - self._delta, zi=[self._alpha * self._inc])[0]
        dec = lfilter((1.0,), feedback, dev + self._delta, zi=[self._alpha * self._dec])[0]
        min_inc = np.minimum(np.minimum.accumulate(inc), self._min_inc)
        max_dec = np.maximum(np.maximum.accumulate(dec), self._max_dec)
        drift = np.zeros(len(xs), dtype=bool)
        if self._up:
            drift |= inc - min_inc > self._thr
        if self._down:
            drift |= max_dec - dec > self._thr
        drift &= n >= self._min_n
        if drift.any():
            self._clear()
            self._drift_detected = True
            return int(np.argmax(drift))
        self._n += len(xs)
        self._sum, self._inc, self._dec = float(s[-1]), float(inc[-1]), float(dec[-1])
        self._min_inc, self._max_dec = float(min_inc[-1]), float(max_dec[-1])
        self._drift_detected = False
        return -1
