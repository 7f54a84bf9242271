"""Kullback-Leibler divergence of the current distribution from the reference."""

from __future__ import annotations

import numpy as np

from driftline.drift.univariate._binned import FLOOR, BinnedDistance

__all__ = ["KLDivergence"]


class KLDivergence(BinnedDistance):
    """``KL(reference || current) = sum(p * ln(p / q))`` over buckets, in nats.

    Shares are raised to at least 1e-4 so the value stays finite; equals
    ``scipy.stats.entropy(p, q)`` on those shares. Binned like PSI (see ``_binned``).

    Parameters
    ----------
    threshold:
        Drift when the divergence exceeds it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = KLDivergence().compare(rng.normal(size=5000), rng.normal(1, 1, 5000))
    >>> result.drift_detected
    True
    """

    name = "kl"
    floor = FLOOR

    def _distance(self, p: np.ndarray, q: np.ndarray) -> float:
        return max(float(np.sum(p * np.log(p / q))), 0.0)
