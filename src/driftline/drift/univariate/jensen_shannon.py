"""Jensen-Shannon distance."""

from __future__ import annotations

import numpy as np

from driftline.drift.univariate._binned import BinnedDistance

__all__ = ["JensenShannon"]


class JensenShannon(BinnedDistance):
    """Square root of the Jensen-Shannon divergence (base 2), between 0 and 1.

    Equals ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` on the bucket shares (see
    ``_binned``); needs no smoothing, so empty buckets are fine.

    Parameters
    ----------
    threshold:
        Drift when the distance exceeds it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = rng.choice(["a", "b", "c"], 3000), rng.choice(["a", "b"], 3000)
    >>> result = JensenShannon().compare(ref, cur)
    >>> result.drift_detected, round(result.statistic, 2)
    (True, 0.45)
    """

    name = "jensenshannon"

    def _distance(self, p: np.ndarray, q: np.ndarray) -> float:
        m = (p + q) / 2
        divergence = (_kl_bits(p, m) + _kl_bits(q, m)) / 2
        return float(np.sqrt(max(divergence, 0.0)))


def _kl_bits(p: np.ndarray, m: np.ndarray) -> float:
    mask = p > 0  # 0 * log(0) is 0; m > 0 wherever p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / m[mask])))
