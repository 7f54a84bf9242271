"""Early Drift Detection Method (EDDM) over a stream of errors."""

from __future__ import annotations

import math
from typing import Self

import numpy as np

from driftline.drift.streaming._base import StreamingDetector, check_float, check_int

__all__ = ["EDDM"]


class EDDM(StreamingDetector):
    r"""Early Drift Detection Method (Baena-Garcia et al., 2006) over a stream of 0/1 errors.

    EDDM watches the distance (in values) between consecutive errors, which shrinks when
    errors become more frequent, and is quicker than :class:`DDM` on gradual drift. With
    $p'$ and $s'$ the mean and standard deviation of the distances so far, it remembers the
    largest $p' + 2s'$ seen and, at each error, compares the ratio
    $(p' + 2s') / \max(p' + 2s')$ with ``alpha`` (below: warning) and ``beta`` (below:
    drift). Nothing is reported before ``warm_start`` values and ``warm_start`` errors.
    On a stable stream it raises more false alarms than DDM (the first detection in the
    example below is one).

    The definition and defaults are river's ``drift.binary.EDDM`` and a test checks that both
    report drift at the same positions. Deliberate differences: values must be 0 or 1, the
    warning flag is cleared when drift is reported, and the moments of the distances are
    computed from running sums (exact integers) so ``update_many`` is exact.

    Parameters
    ----------
    warm_start
        Values, and errors, to read after a (re)start before anything can be reported.
    alpha
        Warning level of the ratio, in (0, 1].
    beta
        Drift level of the ratio, at most ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from driftline.drift.streaming import EDDM
    >>> rng = np.random.default_rng(9)
    >>> errors = np.concatenate([rng.random(1000) < 0.05, rng.random(500) < 0.3])
    >>> eddm = EDDM()
    >>> for i, e in enumerate(errors):
    ...     if eddm.update(int(e)).drift_detected:
    ...         print(f"drift at {i}")
    drift at 738
    drift at 1066
    >>> EDDM().update_many(errors).tolist()
    [738, 1066]
    """

    input_kind = "binary"

    def __init__(self, *, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        self.warm_start = warm_start
        self.alpha = alpha
        self.beta = beta

    def _check_params(self) -> None:
        self._warm = check_int(self, "warm_start", 0)
        self._alpha = check_float(self, "alpha", 0.0, 1.0, open_low=True)
        self._beta = check_float(self, "beta", 0.0, self._alpha, open_low=True)

    def _clear(self) -> None:
        self._n = 0
        self._last_error = 0
        self._errors = 0
        self._s1 = 0.0  # sum of the distances between errors
        self._s2 = 0.0  # sum of their squares
        self._max = -math.inf

    def update(self, x: float) -> Self:
        """Read one outcome (1 = error, 0 = correct); return the detector."""
        if x != 1:
            if x != 0:
                raise self._bad_value(x)
            if not self._ready:
                self.reset()
            self._n += 1
            self._drift_detected = False
            return self
        if not self._ready:
            self.reset()
        n = self._n + 1
        d = n - self._last_error
        errors = self._errors + 1
        s1 = self._s1 + d
        s2 = self._s2 + d * d
        self._n, self._last_error, self._errors, self._s1, self._s2 = n, n, errors, s1, s2
        self._drift_detected = False
        if n <= self._warm:
            return self
        mean = s1 / errors
        var = (s2 - s1 * mean) / (errors - 1) if errors > 1 else 0.0
        p2s = mean + 2.0 * math.sqrt(var if var > 0.0 else 0.0)
        if p2s > self._max:
            self._max = p2s
        elif errors > self._warm:
            level = p2s / self._max
            if level < self._beta:
                self._clear()
                self._drift_detected = True
                self._warning_detected = False
            else:
                self._warning_detected = level < self._alpha
        return self

    def _run_chunk(self, xs: np.ndarray) -> int:
        pos = np.flatnonzero(xs == 1.0)
        if len(pos) == 0:
            self._n += len(xs)
            self._drift_detected = False
            return -1
        at = self._n + 1 + pos  # the count n at each error
        d = np.diff(at, prepend=self._last_error)
        errors = self._errors + np.arange(1, len(pos) + 1)
        s1 = np.cumsum(np.concatenate(([self._s1], d.astype(float))))[1:]
        s2 = np.cumsum(np.concatenate(([self._s2], (d * d).astype(float))))[1:]
        mean = s1 / errors
        var = np.where(errors > 1, (s2 - s1 * mean) / np.maximum(errors - 1, 1), 0.0)
        p2s = mean + 2.0 * np.sqrt(np.maximum(var, 0.0))
        active = at > self._warm
        run_max = np.maximum(np.maximum.accumulate(np.where(active, p2s, -math.inf)), self._max)
        before = np.concatenate(([self._max], run_max[:-1]))
        tested = active & (p2s <= before) & (errors > self._warm)
        level = np.full(len(pos), math.inf)
        level[tested] = p2s[tested] / before[tested]
        drift = level < self._beta
        if drift.any():
            self._clear()
            self._drift_detected = True
            self._warning_detected = False
            return int(pos[np.argmax(drift)])
        self._n += len(xs)
        self._last_error, self._errors = int(at[-1]), int(errors[-1])
        self._s1, self._s2, self._max = float(s1[-1]), float(s2[-1]), float(run_max[-1])
        self._drift_detected = False
        if tested.any():
            self._warning_detected = bool(level[np.flatnonzero(tested)[-1]] < self._alpha)
        return -1
