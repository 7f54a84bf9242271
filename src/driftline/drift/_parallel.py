"""Run one function per column on a small thread pool (numpy releases the GIL while sorting)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from driftline.exceptions import ValidationError

__all__ = ["map_columns", "resolve_jobs"]

T = TypeVar("T")


def resolve_jobs(n_jobs: int | None) -> int:
    """``None`` means one worker per CPU core; otherwise a positive count."""
    if n_jobs is None:
        return max(1, os.cpu_count() or 1)
    if n_jobs < 1:
        raise ValidationError(f"n_jobs must be a positive number of threads, got {n_jobs}")
    return n_jobs


def map_columns(fn: Callable[[str], T], names: Sequence[str], n_jobs: int | None) -> list[T]:
    """``[fn(name) for name in names]``, on up to ``n_jobs`` threads, results in order."""
    workers = min(resolve_jobs(n_jobs), len(names))
    if workers <= 1:
        return [fn(name) for name in names]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="driftline-drift") as pool:
        return list(pool.map(fn, names))
