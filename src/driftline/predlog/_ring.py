"""A byte ring in shared memory, one writer process and one reader process, and its frames.

The server copies each prediction batch into the ring as one frame (its arrays' bytes,
no pickling for numeric batches) and moves on: no lock, no system call, no thread to wake.
A child process polls the ring, rebuilds the batches and writes the segments. Frames are
contiguous (a frame that would wrap starts again at the front, after a pad mark), 8-byte
aligned, and only published, by storing the new head, once their bytes are in place.

Layout: 64 bytes of counters (unsigned 64-bit: head and tail in bytes ever written and
read, the flush ticket asked for and the one done, then the reader's written, dropped and
segment counts), then the data. Stores of aligned 64-bit words are seen in program order
on x86-64, which the process writer needs; elsewhere the server logs from a thread.
"""

from __future__ import annotations

import functools
import mmap
import os
import pickle
import platform
import struct
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftline.predlog._batches import JoinedIds, PredictionBatch
from driftline.predlog._segments import datetime_to_us

__all__ = ["Ring", "batch_frame", "read_frame", "ring_supported", "rows_frame"]

# Slots of the counter words.
HEAD, TAIL, FLUSH_ASKED, FLUSH_DONE, WRITTEN, DROPPED, SEGMENTS = range(7)
_CONTROL = 64
_FRAME = struct.Struct("<4sII")  # magic, kind, body size
_MAGIC = b"DLR1"
BATCH, PICKLED, ROWS, _PAD = 1, 2, 3, 4
_META = struct.Struct("<IIqqBd8s8si8sHiII")
_NO_TIME = -(2**63)
_NO_ROUTE = -1
_NUMERIC = frozenset("biuf")
_NAME_SEPARATOR = "\x1f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ring_supported() -> bool:
    """Whether this machine can run the ring: Linux's ``memfd_create``, and x86-64, whose
    stores are seen in program order (Python has no memory barrier to offer elsewhere)."""
    return hasattr(os, "memfd_create") and platform.machine().lower() in ("x86_64", "amd64")


def _aligned(size: int) -> int:
    return (size + 7) & ~7


class Ring:
    """The shared memory: made by the server (:meth:`create`), mapped again by the child."""

    def __init__(self, fd: int, capacity: int) -> None:
        self.fd = fd
        self.capacity = capacity
        self.memory = mmap.mmap(fd, _CONTROL + capacity)
        self.words = np.frombuffer(self.memory, np.uint64, 8, 0)
        self._head = int(self.words[HEAD])
        self._tail = int(self.words[TAIL])

    @classmethod
    def create(cls, capacity: int) -> Ring:
        """A new ring of ``capacity`` bytes in an anonymous memory file (pages on first use)."""
        capacity = _aligned(max(capacity, 1 << 16))
        fd = os.memfd_create("driftline-prediction-log", 0)  # inheritable: the child maps it
        try:
            os.ftruncate(fd, _CONTROL + capacity)
            return cls(fd, capacity)
        except BaseException:
            os.close(fd)
            raise

    def put(self, parts: list[Any], kind: int) -> bool:
        """Append one frame of ``parts`` (C-contiguous bytes-like objects); False if full."""
        views = [memoryview(part).cast("B") for part in parts]
        size = sum(view.nbytes for view in views)
        padded = _aligned(_FRAME.size + size)
        head, capacity = self._head, self.capacity
        pos = head % capacity
        skip = capacity - pos if padded > capacity - pos else 0
        if skip + padded > capacity - (head - int(self.words[TAIL])):
            return False
        memory = self.memory
        if skip:
            if skip >= _FRAME.size:
                at = _CONTROL + pos
                memory[at : at + _FRAME.size] = _FRAME.pack(_MAGIC, _PAD, 0)
            head, pos = head + skip, 0
        at = _CONTROL + pos
        memory[at : at + _FRAME.size] = _FRAME.pack(_MAGIC, kind, size)
        at += _FRAME.size
        for view in views:
            memory[at : at + view.nbytes] = view
            at += view.nbytes
        self._head = head + padded
        self.words[HEAD] = self._head  # publish: the frame's bytes are already in place
        return True

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """Each published frame not read yet, as (kind, body); the space frees as it goes."""
        words, capacity, memory = self.words, self.capacity, self.memory
        head = int(words[HEAD])
        tail = self._tail
        while tail < head:
            pos = tail % capacity
            if capacity - pos < _FRAME.size:
                tail += capacity - pos
                continue
            at = _CONTROL + pos
            magic, kind, size = _FRAME.unpack_from(memory, at)
            if magic != _MAGIC:
                raise ValueError(f"prediction log ring is corrupt at byte {tail}")
            if kind == _PAD:
                tail += capacity - pos
                continue
            body = memory[at + _FRAME.size : at + _FRAME.size + size]
            tail += _aligned(_FRAME.size + size)
            self._tail = tail
            words[TAIL] = tail
            yield kind, body
        self._tail = tail
        words[TAIL] = tail

    @property
    def used(self) -> int:
        """Bytes published and not read yet."""
        return int(self.words[HEAD]) - int(self.words[TAIL])

    def close(self) -> None:
        self.words = np.zeros(8, np.uint64)  # drop the view so the map can close
        self.memory.close()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def batch_frame(batch: PredictionBatch) -> tuple[list[Any], int]:
    """A batch as (parts, kind): raw arrays when numeric, else a pickle."""
    f, p, q, latency = batch.features, batch.predictions, batch.probabilities, batch.latency_ms
    if not (
        type(f) is np.ndarray
        and f.dtype.kind in _NUMERIC
        and type(p) is np.ndarray
        and p.ndim == 1
        and p.dtype.kind in _NUMERIC
        and (q is None or (type(q) is np.ndarray and q.ndim == 2 and q.dtype.kind in _NUMERIC))
        and (latency is None or type(latency) in (float, int, np.ndarray))
        and (batch.time is None or isinstance(batch.time, datetime))
        and type(batch.model) is str
        and type(batch.version) is int
    ):
        return [pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)], PICKLED
    n, width = f.shape
    model = batch.model.encode()
    route = None if batch.route is None else batch.route.encode()
    names = _NAME_SEPARATOR.join(batch.feature_names).encode()
    text = "\n".join(batch.prediction_ids)
    if n and text.count("\n") != n - 1:  # an id with a newline: the text would not split back
        return [pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)], PICKLED
    ids = text.encode()
    when = batch.time
    time_us = _NO_TIME if when is None else datetime_to_us(when)
    if type(latency) is np.ndarray:
        latency_kind, latency_value = 2, 0.0
    else:
        latency_kind, latency_value = (0, 0.0) if latency is None else (1, float(latency))
    meta = _META.pack(
        n,
        width,
        batch.version,
        time_us,
        latency_kind,
        latency_value,
        f.dtype.str.encode(),
        p.dtype.str.encode(),
        -1 if q is None else q.shape[1],
        b"" if q is None else q.dtype.str.encode(),
        len(model),
        _NO_ROUTE if route is None else len(route),
        len(names),
        len(ids),
    )
    parts: list[Any] = [meta, model, route or b"", names, ids]
    parts += [np.ascontiguousarray(f), np.ascontiguousarray(p)]
    if q is not None:
        parts.append(np.ascontiguousarray(q))
    if latency_kind == 2:
        parts.append(np.ascontiguousarray(latency, np.float64))
    return parts, BATCH


def read_frame(kind: int, body: bytes) -> PredictionBatch | list[dict[str, Any]]:
    """The batch (or the list of row dicts) a frame holds."""
    if kind in (PICKLED, ROWS):
        return pickle.loads(body)
    if kind != BATCH:
        raise ValueError(f"unknown prediction log frame kind {kind}")
    (n, width, version, time_us, latency_kind, latency_value, f_type, p_type, q_width, q_type,
     model_size, route_size, names_size, ids_size) = _META.unpack_from(body)  # fmt: skip
    at = _META.size
    model = body[at : at + model_size].decode()
    at += model_size
    route = None
    if route_size != _NO_ROUTE:
        route = body[at : at + route_size].decode()
        at += route_size
    names = tuple(body[at : at + names_size].decode().split(_NAME_SEPARATOR)) if width else ()
    at += names_size
    ids = JoinedIds(body[at : at + ids_size].decode(), n)
    at += ids_size
    features = np.frombuffer(body, _dtype(f_type), n * width, at).reshape(n, width)
    at += features.nbytes
    predictions = np.frombuffer(body, _dtype(p_type), n, at)
    at += predictions.nbytes
    probabilities = None
    if q_width >= 0:
        probabilities = np.frombuffer(body, _dtype(q_type), n * q_width, at).reshape(n, q_width)
        at += probabilities.nbytes
    latency: Any = None
    if latency_kind == 1:
        latency = latency_value
    elif latency_kind == 2:
        latency = np.frombuffer(body, np.float64, n, at)
    when = None if time_us == _NO_TIME else _EPOCH + timedelta(microseconds=time_us)
    return PredictionBatch(
        model=model,
        version=version,
        prediction_ids=ids,
        predictions=predictions,
        features=features,
        feature_names=names,
        probabilities=probabilities,
        route=route,
        latency_ms=latency,
        time=when,
    )


def rows_frame(rows: Sequence[Mapping[str, Any]]) -> tuple[list[Any], int]:
    """Row dicts as one pickled frame: (parts, kind)."""
    return [pickle.dumps(list(rows), protocol=pickle.HIGHEST_PROTOCOL)], ROWS


@functools.lru_cache(maxsize=64)
def _dtype(code: bytes) -> np.dtype[Any]:
    return np.dtype(code.rstrip(b"\0").decode())
