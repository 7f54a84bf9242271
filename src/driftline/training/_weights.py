"""Weight matrices the metric kernels read: slice masks and bootstrap resample counts.

Both come in chunks of rows so that a chunk holds at most about two million cells (16 MB of
float64) however many slices, resamples or holdout rows there are. The chunk size depends on the
row count only, so a seed gives the same resamples on every machine.

The matrices are ``(m, n)`` views of ``(n, m)`` C-ordered arrays: a row of data is contiguous
across resamples, so the kernels' gathers of rows (sorting by score for ROC AUC) copy
contiguous memory, which is about ten times faster than gathering scattered columns.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["bootstrap_weights", "slice_weights"]

_MAX_CELLS = 1 << 21


def _chunk_rows(n: int) -> int:
    return max(1, _MAX_CELLS // max(n, 1))


def slice_weights(codes: np.ndarray, n_groups: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(first group, 0/1 masks)`` chunks: row ``i`` of a mask marks group ``first + i``."""
    step = _chunk_rows(len(codes))
    for start in range(0, n_groups, step):
        groups = np.arange(start, min(start + step, n_groups))
        yield start, (codes[:, None] == groups[None, :]).astype(np.float64).T


def bootstrap_weights(n: int, n_boot: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(first resample, counts)`` chunks: how often each of ``n`` rows was drawn, per resample.

    Indices for a whole chunk are drawn as one ``(k, n)`` matrix and turned into counts with a
    single ``bincount`` (cell ``row * k + resample``), so no Python loop runs per resample.
    """
    rng = np.random.default_rng(seed)
    step = _chunk_rows(n)
    for start in range(0, n_boot, step):
        k = min(step, n_boot - start)
        drawn = rng.integers(0, n, size=(k, n))
        drawn *= k
        drawn += np.arange(k)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=k * n).reshape(n, k)
        yield start, counts.astype(np.float64).T
