"""A small thread pool for a suite run, and the bookkeeping that keeps threaded runs exact.

Checks spend their time in numpy and Arrow kernels, which release the GIL, so independent
checks (and row slices of one expensive check) can run side by side on a few threads. Results
must not depend on the pool: callers get results in input order, the error they see is the one
of the first failing item in that order, and :func:`use_key` lets the table list its converted
columns in the order a sequential run would have converted them.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from driftline.exceptions import ValidationError

__all__ = ["AUTO_MIN_ROWS", "MAX_AUTO_WORKERS", "Workers", "resolve_workers", "task", "use_key"]

T = TypeVar("T")
R = TypeVar("R")

# Below this many rows a run takes a few milliseconds and threads would only add overhead.
AUTO_MIN_ROWS = 100_000
MAX_AUTO_WORKERS = 4

_TASK: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "driftline_quality_task", default=None
)
_OUTSIDE = itertools.count()


def resolve_workers(workers: Any, n_rows: int) -> int:
    """The number of threads to use: ``workers`` if given, else one per core up to a few."""
    if workers is None:
        if n_rows < AUTO_MIN_ROWS:
            return 1
        return max(1, min(MAX_AUTO_WORKERS, _usable_cores()))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValidationError(f"workers must be a whole number >= 1 or None, got {workers!r}")
    return workers


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may run on, where known
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def task(index: int, fn: Callable[[], T]) -> T:
    """Run ``fn`` as item ``index`` of a run: column first uses inside it are keyed by it."""
    token = _TASK.set([index, 0])
    try:
        return fn()
    finally:
        _TASK.reset(token)


def use_key() -> tuple[int, int]:
    """Where the current first use falls in a sequential run: (item index, use within item)."""
    current = _TASK.get()
    if current is None:
        return (1 << 62, next(_OUTSIDE))  # outside any item: after all of them
    current[1] += 1
    return (current[0], current[1])


class Workers:
    """``size`` threads: the caller's own and ``size - 1`` pool threads.

    In :meth:`map` the caller takes items from the front of the start order (the costly ones)
    and pool threads from the back, so a pool thread that the machine starves of CPU holds up
    a cheap item, not the costliest. A caller never blocks on work no thread has started, so
    an item may itself call :meth:`map` (no deadlock).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._pool = ThreadPoolExecutor(size - 1, "driftline-quality") if size > 1 else None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        local: Callable[[T], bool] | None = None,
        order: Sequence[int] | None = None,
    ) -> list[R]:
        """``[fn(x) for x in items]``, spread over the threads; errors as the loop would raise.

        Items for which ``local(item)`` is true run on the calling thread. ``order`` lists the
        item positions from the costliest to the cheapest; results keep the order of ``items``.
        """
        items = list(items)
        if self._pool is None or len(items) < 2:
            return [fn(x) for x in items]
        start = list(range(len(items))) if order is None else list(order)
        mine = [i for i in start if local is not None and local(items[i])]
        queue = _Queue(i for i in start if i not in frozenset(mine))
        done: dict[int, tuple[bool, Any]] = {}

        def drain() -> None:
            while (k := queue.take(front=False)) is not None:
                done[k] = _attempt(fn, items[k])

        helpers = [
            self._pool.submit(contextvars.copy_context().run, drain)
            for _ in range(min(self.size - 1, len(queue)))
        ]
        for i in mine:
            done[i] = _attempt(fn, items[i])
        while (j := queue.take(front=True)) is not None:
            done[j] = _attempt(fn, items[j])
        for helper in helpers:
            # A helper still queued behind other work has nothing left to do: drop it.
            if not helper.cancel():
                helper.result()
        out: list[R] = []
        for i in range(len(items)):
            ok, value = done[i]
            if not ok:
                raise value
            out.append(value)
        return out

    def slices(self, n: int, min_rows: int = 200_000) -> Sequence[tuple[int, int]]:
        """Row ranges covering ``0..n``: one per thread when each gets at least ``min_rows``."""
        parts = max(1, min(self.size, n // min_rows))
        bounds = [n * i // parts for i in range(parts + 1)]
        return list(itertools.pairwise(bounds))


class _Queue:
    """Item positions that any thread may take, from either end."""

    def __init__(self, positions: Iterable[int]) -> None:
        self._items = deque(positions)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def take(self, *, front: bool) -> int | None:
        with self._lock:
            if not self._items:
                return None
            return self._items.popleft() if front else self._items.pop()


def _attempt(fn: Callable[[T], R], item: T) -> tuple[bool, Any]:
    try:
        return True, contextvars.copy_context().run(fn, item)
    except BaseException as exc:  # re-raised by map() in item order
        return False, exc
