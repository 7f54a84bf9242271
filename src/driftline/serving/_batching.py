"""Adaptive micro-batching: requests that queue up behind a busy model share one call.

A request that finds a free slot runs at once (or after ``max_latency_ms`` if asked to wait
for company); requests that arrive while every slot is busy wait and are merged, up to
``max_batch_size`` rows, into the next call. So an idle server adds no latency and a loaded
one makes fewer, larger calls, which is where vectorised models are fast.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from driftline.exceptions import UnavailableError, ValidationError
from driftline.serving._options import BatchingOptions
from driftline.serving._runtime import Prediction

__all__ = ["MicroBatcher", "QueueFullError"]

Data: TypeAlias = np.ndarray | pd.DataFrame


class QueueFullError(UnavailableError):
    """A model's batching queue is full; the client should retry after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MicroBatcher:
    """Merge concurrent calls of ``run`` on one model into batches.

    ``run`` is called in ``executor`` with the stacked rows; at most ``slots`` batches run at
    once. ``on_batch`` hears each batch's row count (for the batch-size histogram).
    """

    def __init__(
        self,
        run: Callable[[Data], Prediction],
        executor: Executor,
        options: BatchingOptions,
        *,
        slots: int = 1,
        on_batch: Callable[[int], None] | None = None,
        name: str = "model",
    ) -> None:
        self.run = run
        self.executor = executor
        self.options = options
        self.slots = max(1, slots)
        self.on_batch = on_batch
        self.name = name
        self._pending: deque[tuple[Data, asyncio.Future[Prediction]]] = deque()
        self._pending_rows = 0
        self._running = 0
        self._timer: asyncio.TimerHandle | None = None

    @property
    def queued_rows(self) -> int:
        """Rows waiting for a slot."""
        return self._pending_rows

    async def submit(self, data: Data) -> Prediction:
        """The model's answers for ``data``, computed in some batch."""
        rows = int(data.shape[0])
        if self._pending_rows + rows > self.options.max_queue_rows:
            raise QueueFullError(
                f"model {self.name} is overloaded: {self._pending_rows} rows are already "
                f"queued (limit {self.options.max_queue_rows}); retry shortly"
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Prediction] = loop.create_future()
        self._pending.append((data, future))
        self._pending_rows += rows
        self._schedule(loop)
        return await future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._running >= self.slots or not self._pending:
            return
        wait = self.options.max_latency_ms / 1000.0
        if wait > 0 and self._pending_rows < self.options.max_batch_size:
            if self._timer is None:
                self._timer = loop.call_later(wait, self._on_timer, loop)
            return
        self._launch(loop)

    def _on_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if self._running < self.slots and self._pending:
            self._launch(loop)

    def _launch(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch = self._take()
        self._running += 1
        task = loop.run_in_executor(self.executor, _run_batch, self.run, batch)
        task.add_done_callback(lambda done: self._finish(loop, batch, done))

    def _take(self) -> list[tuple[Data, asyncio.Future[Prediction]]]:
        batch: list[tuple[Data, asyncio.Future[Prediction]]] = []
        rows = 0
        while self._pending:
            data = self._pending[0][0]
            if batch and rows + int(data.shape[0]) > self.options.max_batch_size:
                break
            batch.append(self._pending.popleft())
            rows += int(data.shape[0])
        self._pending_rows -= rows
        if self.on_batch is not None:
            self.on_batch(rows)
        return batch

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[Data, asyncio.Future[Prediction]]],
        done: asyncio.Future[list[Prediction | BaseException]],
    ) -> None:
        self._running -= 1
        try:
            results: list[Prediction | BaseException] = done.result()
        except BaseException as exc:  # the executor itself failed (shut down)
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the client went away
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._schedule(loop)


def _run_batch(
    run: Callable[[Data], Prediction], batch: list[tuple[Data, Any]]
) -> list[Prediction | BaseException]:
    """Run one merged call and cut its answers back into per-request pieces."""
    parts = [data for data, _ in batch]
    if len(parts) == 1:
        return [_guarded(run, parts[0])]
    try:
        if all(isinstance(p, np.ndarray) for p in parts):
            merged: Data = np.concatenate(parts)
        else:
            merged = pd.concat(parts, ignore_index=True)
        whole = run(merged)
    except ValidationError:
        # One request's rows may be what the model refused: answer each on its own.
        return [_guarded(run, p) for p in parts]
    except Exception as exc:
        return [exc] * len(parts)
    out: list[Prediction | BaseException] = []
    start = 0
    for part in parts:
        stop = start + int(part.shape[0])
        out.append(whole.rows(start, stop))
        start = stop
    return out


def _guarded(run: Callable[[Data], Prediction], data: Data) -> Prediction | BaseException:
    try:
        return run(data)
    except Exception as exc:  # handed to the waiting request, which maps it to a status
        return exc
