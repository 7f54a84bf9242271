"""Two-sided tabular CUSUM chart for a shift of the mean."""

from __future__ import annotations

from typing import Literal, Self

import numpy as np

from driftline.drift.streaming._base import StreamingDetector, check_float, check_int, param_error

__all__ = ["CUSUM"]

_MODES = ("up", "down", "both")


class CUSUM(StreamingDetector):
    r"""Tabular CUSUM chart (Page, 1954) for a shift of the mean away from a target.

    With target mean $\mu_0$, standard deviation $\sigma$, allowance $K = k\sigma$ and
    decision interval $H = h\sigma$, the chart keeps

    $$C^+_t = \max(0,\ C^+_{t-1} + x_t - \mu_0 - K), \qquad
      C^-_t = \max(0,\ C^-_{t-1} + \mu_0 - x_t - K)$$

    and reports drift when $C^+_t > H$ (the mean rose) or $C^-_t > H$ (it fell). It has no
    warning zone. When ``mean`` or ``std`` is not given it is estimated from the first
    ``warm_start`` values after each (re)start (a constant warm-up gives $\sigma = 0$, so any
    later deviation is a drift). With the textbook defaults $k = 0.5$,
    $h = 5$ the in-control average run length is about 465 values on normal data and a
    shift of one standard deviation is found after about 10.
    river has no CUSUM; this one is ours. $C_t$ is computed as the running sum of the
    increments minus its running minimum, the same number in an order numpy can vectorise.

    Parameters
    ----------
    mean
        Target mean $\mu_0$; estimated after each (re)start when None.
    std
        Standard deviation $\sigma$; estimated after each (re)start when None.
    allowance
        $k$, the slack per value in standard deviations (half the shift to detect).
    threshold
        $h$, the decision interval in standard deviations.
    warm_start
        Values used to estimate ``mean`` and ``std`` when they are not given.
    mode
        Watch for a rise of the mean (``"up"``), a fall (``"down"``) or both.

    Examples
    --------
    >>> import numpy as np
    >>> from driftline.drift.streaming import CUSUM
    >>> rng = np.random.default_rng(1)
    >>> stream = np.concatenate([rng.normal(10.0, 1.0, 300), rng.normal(11.5, 1.0, 100)])
    >>> cusum = CUSUM()  # mean and std estimated from the first 30 values
    >>> for i, x in enumerate(stream):
    ...     if cusum.update(x).drift_detected:
    ...         print(f"drift at {i}")
    drift at 304
    >>> CUSUM().update_many(stream).tolist()
    [304]
    """

    def __init__(
        self,
        *,
        mean: float | None = None,
        std: float | None = None,
        allowance: float = 0.5,
        threshold: float = 5.0,
        warm_start: int = 30,
        mode: Literal["up", "down", "both"] = "both",
    ) -> None:
        self.mean = mean
        self.std = std
        self.allowance = allowance
        self.threshold = threshold
        self.warm_start = warm_start
        self.mode = mode

    def _check_params(self) -> None:
        self._k = check_float(self, "allowance", 0.0)
        self._h = check_float(self, "threshold", 0.0)
        if self.mean is not None:
            check_float(self, "mean", -np.inf)
        if self.std is not None:
            check_float(self, "std", 0.0)
        needs_warm = self.mean is None or self.std is None
        self._warm = check_int(self, "warm_start", 2 if needs_warm else 0)
        if self.mode not in _MODES:
            raise param_error(self, "mode", self.mode, f"one of {_MODES}")
        self._up = self.mode != "down"
        self._down = self.mode != "up"

    def _clear(self) -> None:
        self._seen: list[float] = []
        self._warming = True
        self._mu = self._slack = self._limit = 0.0
        if self.mean is not None and self.std is not None:
            self._set_reference(np.empty(0))
        # C = S - min(S) with S the running sum of increments; min starts at 0 (C_0 = 0).
        self._s_up = self._min_up = self._s_down = self._min_down = 0.0

    def _set_reference(self, warm: np.ndarray) -> None:
        mu = float(np.mean(warm)) if self.mean is None else float(self.mean)
        sigma = float(np.std(warm, ddof=1)) if self.std is None else float(self.std)
        self._mu, self._slack, self._limit = mu, self._k * sigma, self._h * sigma
        self._seen = []
        self._warming = False

    def update(self, x: float) -> Self:
        """Read one value; return the detector."""
        if x.__class__ is not float:
            x = self._to_float(x)
        elif x - x != 0.0:
            raise self._bad_value(x)
        if not self._ready:
            self.reset()
        self._drift_detected = False
        if self._warming:
            self._seen.append(x)
            if len(self._seen) == self._warm:
                self._set_reference(np.asarray(self._seen))
            return self
        s_up = self._s_up + (x - self._mu - self._slack)
        s_down = self._s_down + (self._mu - x - self._slack)
        min_up = s_up if s_up < self._min_up else self._min_up
        min_down = s_down if s_down < self._min_down else self._min_down
        if (self._up and s_up - min_up > self._limit) or (
            self._down and s_down - min_down > self._limit
        ):
            self._clear()
            self._drift_detected = True
            return self
        self._s_up, self._min_up, self._s_down, self._min_down = s_up, min_up, s_down, min_down
        return self

    def _run_chunk(self, xs: np.ndarray) -> int:
        start = 0
        if self._warming:
            start = min(len(xs), self._warm - len(self._seen))
            self._seen.extend(xs[:start].tolist())
            if len(self._seen) == self._warm:
                self._set_reference(np.asarray(self._seen))
        self._drift_detected = False
        rest = xs[start:]
        if len(rest) == 0:
            return -1
        s_up = np.cumsum(np.concatenate(([self._s_up], rest - self._mu - self._slack)))[1:]
        s_down = np.cumsum(np.concatenate(([self._s_down], self._mu - rest - self._slack)))[1:]
        min_up = np.minimum(np.minimum.accumulate(s_up), self._min_up)
        min_down = np.minimum(np.minimum.accumulate(s_down), self._min_down)
        drift = np.zeros(len(rest), dtype=bool)
        if self._up:
            drift |= s_up - min_up > self._limit
        if self._down:
            drift |= s_down - min_down > self._limit
        if drift.any():
            self._clear()
            self._drift_detected = True
            return start + int(np.argmax(drift))
        self._s_up, self._min_up = float(s_up[-1]), float(min_up[-1])
        self._s_down, self._min_down = float(s_down[-1]), float(min_down[-1])
        return -1
