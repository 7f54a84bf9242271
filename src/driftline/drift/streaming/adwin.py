"""ADaptive WINdowing (ADWIN) drift detector."""

from __future__ import annotations

import itertools
import math
import operator
from typing import Any, Self

import numpy as np

from driftline.drift.streaming._base import (
    StreamingDetector,
    check_float,
    check_int,
    param_error,
)
from driftline.drift.streaming._river_core import adwin_window_type

__all__ = ["ADWIN"]

BACKENDS = ("auto", "python", "river")


class ADWIN(StreamingDetector):
    r"""Adaptive windowing (Bifet & Gavalda, 2007): drift when two parts of a window differ.

    ADWIN keeps the values read since the last (re)start in an exponential histogram:
    buckets of 1, 2, 4, ... values, at most ``max_buckets`` of each size, merged oldest first.
    Every ``clock`` values it tries each bucket boundary as a cut into an older part $W_0$
    ($n_0$ values) and a newer part $W_1$ ($n_1$), both at least ``min_window_length`` long,
    and reports drift when some cut has

    $$|\hat\mu_{W_0} - \hat\mu_{W_1}| > \sqrt{2\, m\, \sigma^2_W\, \delta'}
      + \tfrac{2}{3}\, \delta'\, m, \qquad
      m = \tfrac{1}{n_0 - \ell + 1} + \tfrac{1}{n_1 - \ell + 1},\quad
      \delta' = \ln \frac{2 \ln |W|}{\delta}$$

    ($\ell$ = ``min_window_length``, $\sigma^2_W$ the variance of the window), once the window
    holds more than ``grace_period`` values. It has no warning zone.

    The definition and the defaults are river's ``drift.ADWIN``, and tests check that every
    backend reports drift at the same positions as river. As in river, the detector restarts
    empty after a detection rather than keeping $W_1$, so one change gives one detection.

    Backends. ``river.drift.ADWIN`` is a small Python class around a compiled window object
    (Rust in current river, Cython in older releases) whose ``update(x)`` says whether ``x``
    completed a drift. With ``backend="auto"`` (the default) or ``"river"``, each value goes
    to that compiled object directly, after our input check and without river's Python
    layer: per ``update`` this takes a little less time than ``river.drift.ADWIN`` itself
    (133 against 142 nanoseconds a value, medians of CPU time,
    ``benchmarks/streaming_vs_river.py``), and ``update_many`` reads about 15 million
    values/s. ``"auto"`` falls back to our own implementation when river is not installed;
    ``"river"`` then raises an error naming the extra to install
    (``pip install "driftline[river]"``); ``"python"`` always uses ours.

    Ours is plain Python. It buffers values and folds them into the histogram ``clock`` at a
    time (merging the oldest pairs of each level in order gives the same buckets, float for
    float, as inserting one value at a time; a test checks it), and the scan stops at the
    first cut that reports drift. Per value it takes about 3.5x river's time (500 against
    140 nanoseconds), and profiling shows why no pure-Python rewrite reaches river: a loop of
    ``update`` calls that only check and buffer the value already costs about 100
    nanoseconds a value, and every ``clock`` values the fold (about 5 microseconds) and the
    scan over the 40 to 60 bucket boundaries of a window of thousands of values (about 8)
    add some 400 nanoseconds a value. A numpy scan computing the same numbers is slower at
    these sizes (a dozen numpy calls of about a microsecond each), and checking fewer cuts,
    or summing in another order, could change detections.

    Parameters
    ----------
    delta
        Confidence of the test, in (0, 1); smaller means fewer false alarms and later
        detections.
    clock
        Test for a cut every ``clock`` values.
    max_buckets
        Buckets of each size kept before the two oldest are merged.
    min_window_length
        Smallest $n_0$ and $n_1$ tried.
    grace_period
        Values to read after a (re)start before drift can be reported.
    backend
        ``"auto"`` (river's compiled window if river is installed, else ours), ``"river"``
        or ``"python"``; :attr:`active_backend` says which one is in use.

    Examples
    --------
    >>> import numpy as np
    >>> from driftline.drift.streaming import ADWIN
    >>> rng = np.random.default_rng(42)
    >>> stream = np.concatenate([rng.normal(0.0, 1.0, 1000), rng.normal(1.0, 1.0, 1000)])
    >>> adwin = ADWIN()
    >>> for i, x in enumerate(stream):
    ...     if adwin.update(x).drift_detected:
    ...         print(f"drift at {i}")
    drift at 1055
    >>> ADWIN().update_many(stream).tolist()
    [1055]
    """

    # river's compiled window when values go there, else None; None until the first use
    _window: Any = None

    def __init__(
        self,
        *,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
        backend: str = "auto",
    ) -> None:
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        self.backend = backend

    def _check_params(self) -> None:
        self._delta = check_float(self, "delta", 0.0, 1.0, open_low=True, open_high=True)
        self._clock = check_int(self, "clock", 1)
        self._max = check_int(self, "max_buckets", 1)
        self._min_len = check_int(self, "min_window_length", 1)
        self._grace = check_int(self, "grace_period", 0)
        if self.backend not in BACKENDS:
            raise param_error(self, "backend", self.backend, f"one of {BACKENDS}")
        self._window_type: Any = None
        if self.backend != "python":
            self._window_type = adwin_window_type(required=self.backend == "river")

    def _clear(self) -> None:
        self._window = None
        if self._window_type is not None:
            self._window = self._window_type(
                delta=self._delta,
                clock=self._clock,
                max_buckets=self._max,
                min_window_length=self._min_len,
                grace_period=self._grace,
            )
            return
        self._pending: list[float] = []
        self._n = 0  # values folded into the histogram
        self._total = 0.0
        self._sq_dev = 0.0  # sum of squared deviations from the mean
        self._levels: list[list[float]] = [[]]  # bucket totals by size 2**i, oldest first

    @property
    def width(self) -> int:
        """Values in the window: read since the last (re)start."""
        if not self._ready:
            return 0
        if self._window is not None:
            return int(self._window.get_width())
        return self._n + len(self._pending)

    @property
    def active_backend(self) -> str:
        """``"river"`` or ``"python"``: where values go (what ``backend="auto"`` chose)."""
        if not self._ready:
            self.reset()
        return "python" if self._window_type is None else "river"

    def update(self, x: float) -> Self:
        """Read one value; return the detector."""
        if x.__class__ is float:
            if x - x != 0.0:
                raise self._bad_value(x)
        elif x.__class__ is not int:
            x = self._to_float(x)
        # ints (0/1 errors are a common input) pass as they are: river's window converts
        # them as float() does, and the Python path below converts them itself
        window = self._window
        if window is not None:
            try:
                if window.update(x):
                    self._clear()
                    self._drift_detected = True
                else:
                    self._drift_detected = False
            except OverflowError:  # an int too large for a float; nothing was read
                raise self._bad_value(x) from None
            return self
        if not self._ready:  # _window is None until the first use (a class default)
            return self.reset().update(x)
        if x.__class__ is int:
            x = self._to_float(x)
        pending = self._pending
        pending.append(x)
        if len(pending) < self._clock:
            self._drift_detected = False
            return self
        self._fold(pending)
        self._pending = []
        drift = self._n > self._grace and self._has_cut()
        if drift:
            self._clear()
        self._drift_detected = drift
        return self

    def _run_chunk(self, xs: np.ndarray) -> int:
        if self._window is not None:
            # the position of the first value whose update() returns True, looped in C
            found = map(self._window.update, xs.tolist())
            hit: int = next(itertools.compress(itertools.count(), found), -1)
            if hit >= 0:
                self._clear()
            self._drift_detected = hit >= 0
            return hit
        # update() without the per-value call: fill the buffer a clock's worth at a time.
        values = xs.tolist()
        i = 0
        while i < len(values):
            part = values[i : i + self._clock - len(self._pending)]
            self._pending.extend(part)
            i += len(part)
            self._drift_detected = False
            if len(self._pending) < self._clock:
                break
            self._fold(self._pending)
            self._pending = []
            if self._n > self._grace and self._has_cut():
                self._clear()
                self._drift_detected = True
                return i - 1
        return -1

    def _fold(self, values: list[float]) -> None:
        """Add ``values`` to the moments and to the histogram."""
        k = len(values)
        s = sum(values)
        mean = s / k
        sq_dev = sum([(x - mean) * (x - mean) for x in values])
        if self._n:
            # Chan et al.'s update of the sum of squared deviations for a merged sample.
            gap = self._total / self._n - mean
            sq_dev += self._n * k * gap * gap / (self._n + k)
        self._sq_dev += sq_dev
        self._total += s
        self._n += k
        carry = values
        size = self._max
        i = 0
        while carry:
            if i == len(self._levels):
                self._levels.append([])
            level = self._levels[i]
            level.extend(carry)
            if len(level) <= size:
                break
            # One merge each time the level reaches size + 1: the two oldest become one
            # bucket of the next size, so the merged pairs are the oldest, in order.
            merges = 1 + (len(level) - size - 1) // 2
            carry = list(map(operator.add, level[0 : 2 * merges : 2], level[1 : 2 * merges : 2]))
            del level[: 2 * merges]
            i += 1

    def _has_cut(self) -> bool:
        """Whether some bucket boundary splits the window into parts that differ."""
        n = float(self._n)
        d_prime = math.log(2.0 * math.log(n) / self._delta)
        c_sqrt = 2.0 * (self._sq_dev / n) * d_prime
        c_lin = 2.0 / 3.0 * d_prime
        shortest = float(self._min_len)
        offset = shortest - 1.0
        n0 = u0 = 0.0
        n1, u1 = n, self._total
        levels = self._levels
        for i in range(len(levels) - 1, -1, -1):
            size = float(1 << i)
            for total in levels[i]:
                n0 += size
                n1 -= size
                u0 += total
                u1 -= total
                if n1 < shortest:
                    return False
                if n0 < shortest:
                    continue
                m = 1.0 / (n0 - offset) + 1.0 / (n1 - offset)
                # |mean gap| > sqrt(c_sqrt * m) + c_lin * m, without the square root
                excess = abs(u0 / n0 - u1 / n1) - c_lin * m
                if excess > 0.0 and excess * excess > c_sqrt * m:
                    return True
        return False
