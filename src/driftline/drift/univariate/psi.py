"""Population Stability Index."""

from __future__ import annotations

import numpy as np

from driftline.drift.univariate._binned import FLOOR, BinnedDistance

__all__ = ["PopulationStabilityIndex"]


class PopulationStabilityIndex(BinnedDistance):
    """``sum((q - p) * ln(q / p))`` over buckets; the symmetrised KL divergence.

    ``p`` and ``q`` are the reference and current shares per bucket (see ``_binned``), each
    raised to at least 1e-4 so an empty bucket gives a large but finite value. Exact for the
    binned distributions (bins fixed from the reference); an approximation of the continuous
    divergence by construction. The usual reading: < 0.1 stable, 0.1-0.25 moderate, > 0.25
    major shift.

    Parameters
    ----------
    threshold:
        Drift when PSI exceeds it.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> result = PopulationStabilityIndex().compare(rng.normal(size=5000), rng.normal(size=5000))
    >>> result.drift_detected, result.statistic < 0.01
    (False, True)
    """

    name = "psi"
    floor = FLOOR

    def _distance(self, p: np.ndarray, q: np.ndarray) -> float:
        return float(np.sum((q - p) * np.log(q / p)))
