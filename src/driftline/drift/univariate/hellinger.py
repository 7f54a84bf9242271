"""Hellinger distance."""

from __future__ import annotations

import numpy as np

from driftline.drift.univariate._binned import BinnedDistance

__all__ = ["Hellinger"]


class Hellinger(BinnedDistance):
    """``sqrt(1 - sum(sqrt(p * q)))`` over bucket shares, between 0 and 1.

    Equal to ``||sqrt(p) - sqrt(q)||_2 / sqrt(2)``; needs no smoothing. Binned like PSI.

    Parameters
    ----------
    threshold:
        Drift when the distance exceeds it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = Hellinger().compare(rng.normal(size=5000), rng.normal(size=5000))
    >>> result.drift_detected
    False
    """

    name = "hellinger"

    def _distance(self, p: np.ndarray, q: np.ndarray) -> float:
        affinity = float(np.sum(np.sqrt(p * q)))
        return float(np.sqrt(max(1.0 - affinity, 0.0)))
