"""Kolmogorov-Smirnov windowing (KSWIN) drift detector."""

from __future__ import annotations

import collections
import functools
import math
import random
import warnings
from typing import Self

import numpy as np

from driftline.drift.streaming._base import StreamingDetector, check_float, check_int, param_error

__all__ = ["KSWIN"]


class KSWIN(StreamingDetector):
    r"""Kolmogorov-Smirnov windowing (Raab et al., 2020).

    The detector keeps the last ``window_size`` values. Once the window is full, each new
    value triggers a two-sample Kolmogorov-Smirnov test between the last ``stat_size`` values
    and ``stat_size`` values drawn without replacement from the older part of the window;
    drift is reported when the p-value is at most ``alpha`` and the statistic exceeds 0.1.
    It has no warning zone.

    The definition, the defaults and the random draws (``random.Random(seed).sample``) are
    river's ``drift.KSWIN``, and a test checks that both report drift at the same positions.
    Where we differ: the p-value is not computed per value. For two samples of equal size
    $r$ the statistic is $h/r$ for an integer $h$ and the exact p-value falls with $h$, so
    the smallest $h$ that reports drift is found once, with :func:`scipy.stats.ks_2samp`,
    and each test compares integers; "exceeds 0.1" is then exact ($10h > r$) rather than a
    float comparison. The ``window`` argument of river (pre-filled values) is not offered.

    Parameters
    ----------
    alpha
        Significance level of the test, in (0, 1).
    window_size
        Values kept in the sliding window; at least twice ``stat_size``.
    stat_size
        Size of each of the two samples tested.
    seed
        Seed of the random draws; None draws a fresh seed at each (re)start.

    Examples
    --------
    >>> import numpy as np
    >>> from driftline.drift.streaming import KSWIN
    >>> rng = np.random.default_rng(42)
    >>> stream = np.concatenate([rng.normal(0.0, 1.0, 500), rng.normal(1.5, 1.0, 500)])
    >>> kswin = KSWIN(alpha=0.0001, seed=42)
    >>> for i, x in enumerate(stream):
    ...     if kswin.update(x).drift_detected:
    ...         print(f"drift at {i}")
    drift at 525
    >>> KSWIN(alpha=0.0001, seed=42).update_many(stream).tolist()
    [525]
    """

    def __init__(
        self,
        *,
        alpha: float = 0.005,
        window_size: int = 100,
        stat_size: int = 30,
        seed: int | None = None,
    ) -> None:
        self.alpha = alpha
        self.window_size = window_size
        self.stat_size = stat_size
        self.seed = seed

    def _check_params(self) -> None:
        alpha = check_float(self, "alpha", 0.0, 1.0, open_low=True, open_high=True)
        self._r = check_int(self, "stat_size", 1)
        self._w = check_int(self, "window_size", 2 * self._r)
        if self.seed is not None and not isinstance(self.seed, int):
            raise param_error(self, "seed", self.seed, "an integer or None")
        self._h_crit = _critical_count(self._r, alpha)

    def _clear(self) -> None:
        self._window: collections.deque[float] = collections.deque(maxlen=self._w)
        self._rng = random.Random(self.seed)

    def update(self, x: float) -> Self:
        """Read one value; return the detector."""
        if x.__class__ is not float:
            x = self._to_float(x)
        elif x - x != 0.0:
            raise self._bad_value(x)
        if not self._ready:
            self.reset()
        window = self._window
        window.append(x)
        self._drift_detected = False
        if len(window) < self._w:
            return self
        r = self._r
        old = [window[i] for i in self._rng.sample(range(self._w - r), r)]
        recent = [window[i] for i in range(self._w - r, self._w)]
        if _ks_count(old, recent) >= self._h_crit:
            self._clear()
            self._drift_detected = True
        return self


def _ks_count(a: list[float], b: list[float]) -> int:
    """``len(a)`` times the two-sample KS statistic of equal-size samples ``a`` and ``b``."""
    sa = np.sort(a)
    sb = np.sort(b)
    both = np.concatenate((sa, sb))
    gap = np.searchsorted(sa, both, side="right") - np.searchsorted(sb, both, side="right")
    return int(np.abs(gap).max())


@functools.lru_cache(maxsize=64)
def _critical_count(r: int, alpha: float) -> int:
    """The smallest h with p-value(h/r) <= alpha and h/r > 0.1 (r + 1 if there is none)."""
    from scipy.stats import ks_2samp

    def rejects(h: int) -> bool:
        # Two samples at distance h/r: the p-value depends on (r, r, h) only.
        base = np.arange(r, dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p_value = ks_2samp(base, base + h, method="auto").pvalue
        return bool(p_value <= alpha) and 10 * h > r

    low, high = math.floor(r / 10), r + 1  # rejects(low) is False, treat rejects(r + 1) as True
    while high - low > 1:
        mid = (low + high) // 2
        if rejects(mid):
            high = mid
        else:
            low = mid
    return high
