"""Prediction batches to Arrow, many at once: numpy arrays in, Arrow columns out.

The writer's thread encodes the batches waiting in one segment together (thousands of rows
at a time), so its cost is a dozen Arrow calls per encode plus copying the numbers, not
Python work per row. Numeric features become typed ``f_<name>`` columns straight from the
stacked matrices; the JSON text of the features is not written for such segments (readers
rebuild it from the typed columns, see :mod:`driftline.predlog`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from driftline.exceptions import ValidationError
from driftline.predlog._batches import JoinedIds, PredictionBatch
from driftline.predlog._codecs import (
    ARROW_ERRORS,
    FEATURE_PREFIX,
    PROBABILITIES,
    SCALARS,
    TIME,
    Encoded,
    PredictionCodec,
    to_json,
)
from driftline.predlog._segments import HOUR_US, datetime_to_us

__all__ = ["BatchPredictionCodec", "encode_batches"]

_NUMERIC_KINDS = frozenset("biuf")
_MAX_OFFSET = 2**31 - 1
_SEPARATOR = "\n"


class BatchPredictionCodec(PredictionCodec):
    """The prediction codec, which also takes whole :class:`PredictionBatch` objects."""

    def prepare_chunk(
        self, batch: PredictionBatch, now_us: int
    ) -> tuple[tuple[Any, ...], int, int]:
        """Check model and version; one partition (model, version, hour) for the batch."""
        if not isinstance(batch, PredictionBatch):
            raise ValidationError(f"expected a PredictionBatch, got {type(batch).__name__}")
        model, version = batch.model, batch.version
        if not isinstance(model, str) or not model:
            raise ValidationError(
                f"prediction batch field 'model' must be a non-empty string, got {model!r}"
            )
        if isinstance(version, bool) or not isinstance(version, int | np.integer):
            raise ValidationError(
                f"prediction batch field 'version' must be an int, got {version!r}"
            )
        time_us = now_us if batch.time is None else datetime_to_us(batch.time)
        hour = time_us // HOUR_US
        return (model, int(version), hour), hour, time_us

    def encode_chunks(self, batches: Sequence[PredictionBatch], times: Sequence[int]) -> Encoded:
        """Arrow columns for batches of one partition."""
        return encode_batches(batches, times)


def encode_batches(batches: Sequence[PredictionBatch], times: Sequence[int]) -> Encoded:
    """Arrow columns for batches of one partition (``times`` in microseconds, one per batch).

    Raises an Arrow or numpy error when the batches cannot be encoded together; the writer
    then encodes them row by row to find the rows at fault.
    """
    first = batches[0]
    counts = np.fromiter((len(b) for b in batches), np.int64, len(batches))
    n = int(counts.sum())
    prediction, as_json = _predictions(batches)
    columns: dict[str, pa.Array] = {
        "prediction_id": _ids(batches, n),
        "time": pa.array(np.repeat(np.asarray(times, np.int64), counts)).cast(TIME),
        "model": pa.repeat(pa.scalar(first.model, pa.string()), n),
        "version": pa.repeat(pa.scalar(int(first.version), pa.int64()), n),
        "route": _per_batch([b.route for b in batches], counts, pa.string()),
        "latency_ms": _latencies(batches, counts),
        "prediction": prediction,
        "probabilities": _probabilities(batches, n),
    }
    names = _typed_features(batches, columns)
    if names is None:
        rows = chain.from_iterable(b.feature_rows() for b in batches)
        columns["features"] = pa.array([to_json(f) for f in rows], pa.string())
    return Encoded(pa.table(columns), prediction_json=as_json, feature_names=names)


def _ids(batches: Sequence[PredictionBatch], n: int) -> pa.Array:
    """The prediction id column; ids that came as text (:class:`JoinedIds`) stay text."""
    parts = [b.prediction_ids for b in batches]
    texts = [p.text for p in parts if isinstance(p, JoinedIds) and len(p)]
    if len(texts) == sum(1 for p in parts if len(p)):  # every non-empty part came as text
        column = _text_column(_SEPARATOR.join(texts), n)
        if column is not None:
            return column
    return _strings(list(chain.from_iterable(parts)))


def _strings(values: list[Any]) -> pa.Array:
    """A string column of ``values`` (prediction ids), in a few C calls when they allow."""
    try:
        joined = _SEPARATOR.join(values)
    except TypeError:
        return pa.array(values, pa.string())
    column = _text_column(joined, len(values))
    return column if column is not None else pa.array(values, pa.string())


def _text_column(joined: str, n: int) -> pa.Array | None:
    """The string column of ``n`` newline-joined ids of one length and ASCII, else None.

    When the text holds exactly one newline per id and it ends every ``stride`` bytes,
    every id is ``stride - 1`` long and the text minus the newlines is the column's data
    (~2x cheaper than ``pa.array``, one object at a time). Anything else (uneven lengths,
    non-ASCII, newlines in ids) is None: the caller goes through ``pa.array``.
    """
    stride, extra = divmod(len(joined) + 1, n) if n else (0, 1)
    if extra or stride * n > _MAX_OFFSET or not joined.isascii():
        return None
    text = np.frombuffer((joined + _SEPARATOR).encode("ascii"), np.uint8)
    grid, newline = text.reshape(n, stride), ord(_SEPARATOR)
    if np.count_nonzero(text == newline) != n or not (grid[:, -1] == newline).all():
        return None
    size = stride - 1
    offsets = (
        np.arange(0, size * n + 1, size, dtype=np.int32) if size else np.zeros(n + 1, np.int32)
    )
    data = np.ascontiguousarray(grid[:, :size])
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _per_batch(values: list[Any], counts: np.ndarray, kind: pa.DataType) -> pa.Array:
    """One value per batch, repeated for its rows."""
    if all(v == values[0] for v in values):
        return pa.repeat(pa.scalar(values[0], kind), int(counts.sum()))
    return pa.array(np.repeat(np.array(values, dtype=object), counts), kind)


def _latencies(batches: Sequence[PredictionBatch], counts: np.ndarray) -> pa.Array:
    """Each row's latency: one per batch (repeated) or one per row (merged requests)."""
    values = [b.latency_ms for b in batches]
    if not any(isinstance(v, np.ndarray) for v in values):
        return _per_batch(values, counts, pa.float64())
    parts = [
        np.asarray(v, np.float64)
        if isinstance(v, np.ndarray)
        else np.full(int(n), np.nan if v is None else v, np.float64)
        for v, n in zip(values, counts, strict=True)
    ]
    nulls = [np.full(int(n), v is None) for v, n in zip(values, counts, strict=True)]
    return pa.array(np.concatenate(parts), pa.float64(), mask=np.concatenate(nulls))


def _predictions(batches: Sequence[PredictionBatch]) -> tuple[pa.Array, bool]:
    """The prediction column, native when every prediction is a scalar, else JSON text."""
    values = np.concatenate([np.asarray(b.predictions) for b in batches])
    if values.ndim == 1 and values.dtype.kind in _NUMERIC_KINDS | {"U"}:
        return pa.array(values), False
    if values.ndim == 1 and values.dtype.kind == "O":
        items = values.tolist()
        if all(v is None or isinstance(v, SCALARS) for v in items):
            try:
                return pa.array(items), False
            except ARROW_ERRORS:
                pass
    return pa.array([to_json(v) for v in values.tolist()], pa.string()), True


def _probabilities(batches: Sequence[PredictionBatch], n: int) -> pa.Array:
    parts = [b.probabilities for b in batches]
    if all(p is None for p in parts):
        return pa.nulls(n, PROBABILITIES)
    arrays = [p for p in parts if p is not None and p.ndim == 2]
    widths = {a.shape[1] for a in arrays}
    width = widths.pop() if len(widths) == 1 and len(arrays) == len(parts) else -1
    if width < 0 or n * width > _MAX_OFFSET:  # ragged or huge: build it from lists
        lists = chain.from_iterable(
            p.tolist() if p is not None else [None] * len(b)
            for p, b in zip(parts, batches, strict=True)
        )
        return pa.array(list(lists), PROBABILITIES)
    values = np.concatenate(arrays).astype(np.float64, copy=False).ravel()
    offsets = pa.array(np.arange(0, n * width + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(values), type=PROBABILITIES)


def _typed_features(
    batches: Sequence[PredictionBatch], columns: dict[str, pa.Array]
) -> tuple[str, ...] | None:
    """Add one ``f_<name>`` column per feature when the batches share their features."""
    names = batches[0].feature_names
    if not names or any(b.feature_names != names for b in batches):
        return None
    arrays = [b.features for b in batches if isinstance(b.features, np.ndarray)]
    frames = [b.features for b in batches if isinstance(b.features, pd.DataFrame)]
    if len(arrays) == len(batches) and all(a.dtype.kind in _NUMERIC_KINDS for a in arrays):
        # Column-major in one copy, a request's small block at a time; then every feature
        # column is a contiguous row that Arrow takes without copying. (Left to itself,
        # concatenate would lay the transposed blocks out row-major again.)
        by_column = np.empty((len(names), sum(len(a) for a in arrays)), np.result_type(*arrays))
        np.concatenate([a.T for a in arrays], axis=1, out=by_column)
        typed = dict(
            zip([FEATURE_PREFIX + n for n in names], _rows_as_arrays(by_column), strict=True)
        )
    elif len(frames) == len(batches):
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        try:
            typed = {
                FEATURE_PREFIX + name: _from_pandas(frame.iloc[:, j])
                for j, name in enumerate(names)
            }
        except ARROW_ERRORS:
            return None
    else:
        return None
    columns.update(typed)
    return names


def _rows_as_arrays(matrix: np.ndarray) -> list[pa.Array]:
    """Each row of a C-contiguous numeric matrix as an Arrow array over the same memory.

    ~1.5 us a column, where ``pa.array`` copied each (strided) row: ~25 us for 8k values.
    Booleans (bit-packed in Arrow) take the ``pa.array`` way.
    """
    if matrix.dtype.kind == "b" or not matrix.flags.c_contiguous:
        return [pa.array(row) for row in matrix]
    kind = pa.from_numpy_dtype(matrix.dtype)
    n, step = matrix.shape[1], matrix.shape[1] * matrix.itemsize
    buffer = pa.py_buffer(matrix)
    return [
        pa.Array.from_buffers(kind, n, [None, buffer.slice(j * step, step)])
        for j in range(matrix.shape[0])
    ]


def _from_pandas(series: pd.Series) -> pa.Array:
    """A frame column as Arrow, typed like the row path types it (plain strings, values)."""
    array = pa.Array.from_pandas(series)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    return array
