"""Answered requests to prediction-log batches: one per request, or one per turn of the loop.

Under load the micro-batcher answers many single-row requests from one model call, and their
handlers all resume in the same turn of the event loop. :class:`LogCoalescer` collects what
they log during that turn and hands the log one :class:`PredictionBatch` per (sink, model,
version, route) once the turn ends: one batch object, one queue entry and one encode per
model call instead of per request, which is most of what logging costs a single-row request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from driftline.predlog import PredictionBatch

if TYPE_CHECKING:
    from driftline.serving._server import RowSink, Served

__all__ = ["LogCoalescer", "log_batch", "merged_log_batch"]


def log_batch(result: Served, now: Any) -> PredictionBatch:
    """The prediction-log batch for one answered request: its arrays, no per-row work."""
    return PredictionBatch(
        model=result.model,
        version=result.version.number,
        prediction_ids=result.prediction_ids,
        predictions=result.prediction.predictions,
        features=result.inputs.data,
        feature_names=result.inputs.columns,
        probabilities=result.prediction.probabilities,
        route=result.route,
        latency_ms=result.latency_s * 1000.0,
        time=now,
    )


def merged_log_batch(results: Sequence[Served], now: Any) -> PredictionBatch | None:
    """One batch for requests answered by one version on one route, or None if they differ.

    They merge when their features are numpy arrays of one dtype and width under the same
    column names, and their predictions (and probabilities) stack; otherwise the caller
    logs them one by one. This runs on the event loop once a turn, so it walks the
    requests once and stacks each column with one call.
    """
    first = results[0]
    if len(results) == 1:
        return log_batch(first, now)
    head, columns = first.inputs.data, first.inputs.columns
    if type(head) is not np.ndarray:
        return None
    dtype, width = head.dtype, head.shape[1:]
    with_proba = first.prediction.probabilities is not None
    features: list[np.ndarray] = []
    predictions: list[Any] = []
    probabilities: list[Any] = []
    ids: list[str] = []
    latencies: list[float] = []
    counts: list[int] = []
    for result in results:
        data, named, answer = result.inputs.data, result.inputs.columns, result.prediction
        if (
            type(data) is not np.ndarray
            or data.dtype != dtype
            or data.shape[1:] != width
            or (named is not columns and named != columns)
            or (answer.probabilities is not None) is not with_proba
        ):
            return None
        features.append(data)
        predictions.append(answer.predictions)
        probabilities.append(answer.probabilities)
        ids.extend(result.prediction_ids)
        latencies.append(result.latency_s * 1000.0)
        counts.append(len(data))
    try:
        stacked = np.concatenate(predictions)
        proba = np.concatenate(probabilities) if with_proba else None
    except ValueError:  # shapes that do not stack
        return None
    latency = np.array(latencies)
    return PredictionBatch(
        model=first.model,
        version=first.version.number,
        prediction_ids=ids,
        predictions=stacked,
        features=np.concatenate(features),
        feature_names=columns,
        probabilities=proba,
        route=first.route,
        latency_ms=latency if counts.count(1) == len(counts) else np.repeat(latency, counts),
        time=now,
    )


class LogCoalescer:
    """Collect the requests logged in one turn of the event loop; submit them merged.

    ``add`` must run on the event loop. ``on_logged(n)`` hears how many rows the sink
    accepted; ``on_failed(result, exc)`` hears of each request that could not be logged
    (logging never costs a client its answer).
    """

    def __init__(
        self,
        clock: Callable[[], Any],
        on_logged: Callable[[int], None],
        on_failed: Callable[[Served, Exception], None],
    ) -> None:
        self.clock = clock
        self.on_logged = on_logged
        self.on_failed = on_failed
        self._pending: list[tuple[RowSink, Served]] = []
        self._now: Any = None

    def add(self, sink: RowSink, result: Served) -> None:
        """Log ``result`` to ``sink`` once the current turn of the loop ends.

        The rows are stamped with the clock as the turn's first request is logged: the
        requests of one turn were answered together, and a clock read at the end of the
        turn could already show a later time.
        """
        if not self._pending:
            try:
                self._now = self.clock()
            except Exception:  # a failing clock must not fail the request: the writer stamps
                self._now = None
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append((sink, result))

    def flush(self) -> None:
        """Submit everything collected so far (also called on shutdown)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        now = self._now
        groups: dict[tuple[Any, ...], tuple[RowSink, list[Served]]] = {}
        for sink, result in pending:
            key = (id(sink), result.model, result.version.number, result.route)
            groups.setdefault(key, (sink, []))[1].append(result)
        for sink, results in groups.values():
            try:
                merged = merged_log_batch(results, now)
            except Exception:  # odd shapes: log them one by one
                merged = None
            if merged is not None:
                self._submit(sink, merged, results)
                continue
            for result in results:
                try:
                    batch = log_batch(result, now)
                except Exception as exc:
                    self.on_failed(result, exc)
                    continue
                self._submit(sink, batch, [result])

    def _submit(self, sink: RowSink, batch: PredictionBatch, results: list[Served]) -> None:
        try:
            self.on_logged(sink.submit_batch(batch))  # type: ignore[attr-defined]
        except Exception as exc:
            for result in results:
                self.on_failed(result, exc)
