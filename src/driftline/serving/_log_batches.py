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
from itertools import chain
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
    logs them one by one.
    """
    first = results[0]
    if len(results) == 1:
        return log_batch(first, now)
    features = [r.inputs.data for r in results]
    head = features[0]
    if not isinstance(head, np.ndarray) or any(
        not isinstance(f, np.ndarray) or f.dtype != head.dtype or f.shape[1:] != head.shape[1:]
        for f in features
    ):
        return None
    if any(r.inputs.columns != first.inputs.columns for r in results):
        return None
    probas = [r.prediction.probabilities for r in results]
    given = [p for p in probas if p is not None]
    if given and len(given) != len(probas):
        return None
    try:
        predictions = np.concatenate([np.asarray(r.prediction.predictions) for r in results])
        probabilities: np.ndarray | None = np.concatenate(given) if given else None
    except ValueError:  # shapes that do not stack
        return None
    counts = [r.inputs.n_rows for r in results]
    return PredictionBatch(
        model=first.model,
        version=first.version.number,
        prediction_ids=list(chain.from_iterable(r.prediction_ids for r in results)),
        predictions=predictions,
        features=np.concatenate(features),
        feature_names=first.inputs.columns,
        probabilities=probabilities,
        route=first.route,
        latency_ms=np.repeat([r.latency_s * 1000.0 for r in results], counts),
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
