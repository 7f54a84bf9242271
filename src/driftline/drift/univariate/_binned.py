"""Bucket proportions shared by the binned tests (PSI, Jensen-Shannon, KL, Hellinger).

Numeric features use the bins whose edges were fixed from the reference's quantiles (the outer
bins are open, so nothing falls outside). Categorical features use the reference's labels
(plus ``other`` when the reference folded rare labels); values the reference never saw are not
in any bucket: they are the feature's own ``unseen`` signal, never an instant alarm here.
"""

from __future__ import annotations

import numpy as np

from driftline.drift._samples import CategoricalPair, NumericPair, Pair

__all__ = ["FLOOR", "bucket_counts", "proportions"]

# Proportions below this are raised to it where a logarithm needs a positive value (PSI, KL);
# the usual choice in drift tooling, so values compare with other tools.
FLOOR = 1e-4


def bucket_counts(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current counts on the same buckets."""
    if isinstance(pair, NumericPair):
        return pair.reference.bin_counts, pair.current.bin_counts
    if isinstance(pair, CategoricalPair):
        return pair.ref_counts, pair.cur_counts
    raise TypeError(type(pair).__name__)


def proportions(pair: Pair, floor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Reference and current shares per bucket, raised to ``floor`` where smaller."""
    ref, cur = bucket_counts(pair)
    p = ref / ref.sum()
    q = cur / cur.sum()
    if floor:
        p, q = np.maximum(p, floor), np.maximum(q, floor)
    return p, q
