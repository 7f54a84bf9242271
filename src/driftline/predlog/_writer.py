"""The segment writer: a bounded in-memory queue drained by one thread into segment files."""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, cast

import numpy as np

from driftline.exceptions import (
    ConflictError,
    DriftlineError,
    UnavailableError,
    ValidationError,
)
from driftline.predlog._codecs import ChunkCodec, Codec, Encoded
from driftline.predlog._segments import (
    ARROW,
    HOUR_US,
    Segment,
    SegmentFile,
    datetime_to_us,
    ensure_dir,
    write_segment,
)

__all__ = [
    "Clock",
    "SegmentLogWriter",
    "checked_sample_rate",
    "positive_int",
    "sample_chunk",
    "sample_rows",
    "sample_threshold",
]

Clock = Callable[[], datetime]
_SCALE = 1 << 64
# Columnar chunks are encoded once this many rows, or this many chunks, wait in a segment
# (and when it closes), at most ~_ENCODE_ROWS rows per codec call.
_ENCODE_ROWS = 8192
_ENCODE_CHUNKS = 512


def checked_sample_rate(value: object) -> float:
    """``value`` as a sampling rate in (0, 1], or a ValidationError naming ``sample_rate``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"sample_rate must be a number in (0, 1], got {value!r}")
    if not (math.isfinite(value) and 0 < value <= 1):
        raise ValidationError(f"sample_rate must be in (0, 1], got {value!r}")
    return float(value)


def sample_threshold(rate: float) -> int | None:
    """The hash bound below which a row is kept at sampling ``rate``; None keeps every row."""
    threshold = min(int(rate * _SCALE), _SCALE)
    return None if threshold >= _SCALE else threshold


def _sampled_in(pid: Any, threshold: int) -> bool:
    """Whether the row with ``pid`` is kept: the same ids on every run and every worker."""
    if pid is None:
        return True  # nothing to sample on; keeping it beats losing it
    digest = hashlib.blake2b(str(pid).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < threshold


def sample_rows(rows: Sequence[Mapping[str, Any]], threshold: int) -> list[Mapping[str, Any]]:
    """The row dicts kept at ``threshold`` (see :func:`sample_threshold`)."""
    return [r for r in rows if _sampled_in(r.get("prediction_id"), threshold)]


def sample_chunk(chunk: Any, threshold: int) -> tuple[Any, int]:
    """A columnar chunk's rows kept at ``threshold``, and how many were left out."""
    n = len(chunk)
    keep = np.fromiter((_sampled_in(pid, threshold) for pid in chunk.prediction_ids), bool, n)
    skipped = n - int(keep.sum())
    return (chunk.take(keep) if skipped else chunk), skipped


def _utc_now() -> datetime:
    return datetime.now(UTC)


def positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be an int >= 1, got {value!r}")
    return value


def _positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


class SegmentLogWriter:
    """Shared machinery of the prediction and feedback logs; see :class:`PredictionLogWriter`.

    A subclass names its row format in ``codec_type``; each writer makes its own codec.
    """

    codec_type: ClassVar[type[Codec]]

    def __init__(
        self,
        directory: str | Path,
        *,
        max_queue: int = 10_000,
        segment_rows: int = 50_000,
        segment_seconds: float = 300,
        sample_rate: float = 1.0,
        clock: Clock | None = None,
        on_drop: Callable[[int], None] | None = None,
        on_segment: Callable[[Path, int], None] | None = None,
        gate: threading.Event | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self.directory = Path(directory)
        self.max_queue = positive_int("max_queue", max_queue)
        self.segment_rows = positive_int("segment_rows", segment_rows)
        self.segment_seconds = _positive_number("segment_seconds", segment_seconds)
        self.poll_interval = _positive_number("poll_interval", poll_interval)
        self.sample_rate = checked_sample_rate(sample_rate)
        self.clock: Clock = clock or _utc_now
        self.on_drop, self.on_segment, self.gate = on_drop, on_segment, gate
        self.accepted = self.dropped = self.sampled_out = 0
        self.written = self.failed = self.segments = 0
        self.last_error: str | None = None
        self._codec = self.codec_type()
        self._threshold = sample_threshold(self.sample_rate)
        self._high_water = max(1, self.max_queue // 2)
        self._pending: list[Mapping[str, Any]] = []
        # Columnar chunks (see the codec's prepare_chunk) and the rows they hold.
        self._chunks: list[Any] = []
        self._chunk_rows = 0
        self._lock = threading.Lock()  # guards the queues, _closed and the submit-side counters
        self._cycle_lock = threading.Lock()  # one drain at a time; guards _open and the rest
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._open: dict[tuple[Any, ...], Segment] = {}

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def queued(self) -> int:
        """Rows accepted but not yet taken by the writer."""
        return len(self._pending) + self._chunk_rows

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Create the log folder and start the one background thread (a no-op if it runs)."""
        with self._lock:
            if self._closed:
                raise ConflictError(f"the {self._codec.kind} log writer is closed; make a new one")
            if self._thread is None:
                try:
                    ensure_dir(self.directory)
                except OSError as exc:
                    raise UnavailableError(
                        f"cannot create the {self._codec.kind} log folder {str(self.directory)!r}: "
                        f"{exc.strerror or exc}"
                    ) from exc
                self._thread = threading.Thread(
                    target=self._run, name=f"driftline-{self._codec.kind}-log", daemon=True
                )
                self._thread.start()
        return self

    def submit(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Queue ``rows`` without blocking; return how many were accepted (the rest are dropped)."""
        if self._threshold is not None:
            kept = sample_rows(rows, self._threshold)
            skipped, rows = len(rows) - len(kept), kept
        else:
            skipped = 0
        n = len(rows)
        with self._lock:
            accepted = self._room(n)
            if accepted:
                self._pending.extend(rows if accepted == n else rows[:accepted])
            size = self._count(n, accepted, skipped)
        self._queued_after(n, accepted, size)
        return accepted

    def _submit_chunk(self, chunk: Any) -> int:
        """Queue a columnar chunk of rows as one item; the codec encodes chunks together.

        A chunk has ``len()``, ``prediction_ids``, ``take(slice or mask)`` and ``rows()``
        (see :class:`~driftline.predlog.PredictionBatch`).
        """
        skipped = 0
        if self._threshold is not None and len(chunk):
            chunk, skipped = sample_chunk(chunk, self._threshold)
        n = len(chunk)
        with self._lock:
            accepted = self._room(n)
            if accepted:
                self._chunks.append(chunk if accepted == n else chunk.take(slice(0, accepted)))
                self._chunk_rows += accepted
            size = self._count(n, accepted, skipped)
        self._queued_after(n, accepted, size)
        return accepted

    def _room(self, n: int) -> int:
        """How many of ``n`` rows fit in the queue (call with the lock held)."""
        room = 0 if self._closed else self.max_queue - len(self._pending) - self._chunk_rows
        return n if n <= room else max(room, 0)

    def _count(self, n: int, accepted: int, skipped: int) -> int:
        """Update the submit counters (lock held); return the queue's size."""
        self.accepted += accepted
        self.dropped += n - accepted
        self.sampled_out += skipped
        return len(self._pending) + self._chunk_rows

    def _queued_after(self, n: int, accepted: int, size: int) -> None:
        if accepted < n and self.on_drop is not None:
            self.on_drop(n - accepted)
        if size >= self._high_water and not self._wake.is_set():
            self._wake.set()

    def drain(self) -> None:
        """Move queued rows into open segments and close the segments whose time is up."""
        self._cycle(close_all=False)

    def flush(self) -> None:
        """Write every queued row and close every open segment, in the calling thread."""
        self._cycle(close_all=True)

    def close(self) -> None:
        """Stop the thread, write everything accepted so far, and refuse rows from now on."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self._cycle(close_all=True)

    def _run(self) -> None:
        while True:
            # Every wake takes the GIL from the serving threads: under load the half-full
            # queue wakes the thread; the poll (1 s by default) only bounds a quiet queue's
            # wait and a closing segment's delay (20 polls a second of an idle feedback log
            # cost a busy server 0.5% of its CPU).
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self.gate is not None and not self.gate.is_set():
                continue
            try:
                self._cycle(close_all=False)
            except Exception as exc:  # a failing callback must not stop the log
                self.last_error = repr(exc)

    def _now_us(self) -> int:
        return datetime_to_us(self.clock())

    def _cycle(self, *, close_all: bool) -> None:
        with self._cycle_lock:
            with self._lock:
                rows, self._pending = self._pending, []
                chunks, self._chunks, self._chunk_rows = self._chunks, [], 0
            now_us = self._now_us()
            if rows:
                self._absorb(rows, now_us)
            if chunks:
                self._absorb_chunks(chunks, now_us)
            for key, segment in list(self._open.items()):
                if close_all or now_us >= segment.deadline_us:
                    del self._open[key]
                    self._close(segment)

    def _lose(self, rows: int, error: BaseException) -> None:
        with self._lock:
            self.failed += rows
            self.dropped += rows
        self.last_error = str(error) if isinstance(error, DriftlineError) else repr(error)
        if self.on_drop is not None:
            self.on_drop(rows)

    def _partition(
        self,
        items: list[Any],
        prepare: Callable[[Any, int], tuple[tuple[Any, ...], int, int]],
        rows_of: Callable[[Any], int],
        now_us: int,
    ) -> dict[tuple[Any, ...], tuple[int, list[Any], list[int]]]:
        """Items by partition key: (hour, items, each item's time); bad items are lost."""
        groups: dict[tuple[Any, ...], tuple[int, list[Any], list[int]]] = {}
        for item in items:
            try:
                key, hour, time_us = prepare(item, now_us)
            except (ValidationError, AttributeError, TypeError) as exc:
                self._lose(rows_of(item), exc)
                continue
            group = groups.get(key)
            if group is None:
                group = groups[key] = (hour, [], [])
            group[1].append(item)
            group[2].append(time_us)
        return groups

    def _absorb(self, rows: list[Mapping[str, Any]], now_us: int) -> None:
        groups = self._partition(rows, self._codec.prepare, lambda row: 1, now_us)
        for key, (hour, members, times) in groups.items():
            start = 0
            while start < len(members):
                segment = self._segment(key, hour, now_us)
                stop = start + self.segment_rows - segment.rows
                self._append(segment, members[start:stop], times[start:stop])
                if segment.rows >= self.segment_rows:
                    del self._open[key]
                    self._close(segment)
                start = stop

    def _absorb_chunks(self, chunks: list[Any], now_us: int) -> None:
        prepare = cast(ChunkCodec, self._codec).prepare_chunk
        for key, (hour, members, times) in self._partition(chunks, prepare, len, now_us).items():
            self._fill(key, hour, members, times, now_us)

    def _fill(
        self, key: tuple[Any, ...], hour: int, chunks: list[Any], times: list[int], now_us: int
    ) -> None:
        """Append one partition's chunks to its open segments, closing each one that fills."""
        open_segment = self._open.get(key)
        filled = 0 if open_segment is None else open_segment.rows
        parts: list[Any] = []
        part_times: list[int] = []
        for chunk, time_us in zip(chunks, times, strict=True):
            start, size = 0, len(chunk)
            while start < size:
                stop = min(size, start + self.segment_rows - filled)
                parts.append(chunk if stop - start == size else chunk.take(slice(start, stop)))
                part_times.append(time_us)
                filled += stop - start
                start = stop
                if filled >= self.segment_rows:
                    segment = self._segment(key, hour, now_us)
                    self._append_chunks(segment, parts, part_times)
                    del self._open[key]
                    self._close(segment)
                    parts, part_times, filled = [], [], 0
        if parts:
            self._append_chunks(self._segment(key, hour, now_us), parts, part_times)

    def _append_chunks(self, segment: Segment, chunks: list[Any], times: list[int]) -> None:
        # Chunks wait in the segment and are encoded many at a time: few encode calls (each
        # a dozen short Arrow calls, each a GIL hand-off with the request threads), and yet
        # not so many waiting chunks that the garbage collector keeps walking them.
        rows = sum(len(chunk) for chunk in chunks)
        segment.chunks.extend(chunks)
        segment.chunk_times.extend(times)
        segment.chunk_rows += rows
        segment.rows += rows
        if segment.chunk_rows >= _ENCODE_ROWS or len(segment.chunks) >= _ENCODE_CHUNKS:
            self._encode_chunks(segment)

    def _encode_chunks(self, segment: Segment) -> None:
        """Encode a closing segment's chunks together (row by row if that fails)."""
        chunks, times = segment.chunks, segment.chunk_times
        segment.chunks, segment.chunk_times, segment.chunk_rows = [], [], 0
        start = 0
        while start < len(chunks):
            # Pieces of ~8k rows: one call holds the GIL for a millisecond or so.
            stop, rows = start, 0
            while stop < len(chunks) and (rows < _ENCODE_ROWS or stop == start):
                rows += len(chunks[stop])
                stop += 1
            self._encode_piece(segment, chunks[start:stop], times[start:stop])
            start = stop

    def _encode_piece(self, segment: Segment, chunks: list[Any], times: list[int]) -> None:
        try:
            encoded = cast(ChunkCodec, self._codec).encode_chunks(chunks, times)
        except Exception:  # find the rows at fault the slow way, through the row codec
            pass
        else:
            self._add_encoded(segment, [encoded], encoded.table.num_rows)
            return
        for chunk, time_us in zip(chunks, times, strict=True):
            segment.rows -= len(chunk)
            try:
                rows = chunk.rows()
            except Exception as exc:
                self._lose(len(chunk), exc)
                continue
            self._append(segment, rows, [time_us] * len(rows))

    def _segment(self, key: tuple[Any, ...], hour: int, now_us: int) -> Segment:
        segment = self._open.get(key)
        if segment is None:
            deadline = min(now_us + int(self.segment_seconds * 1_000_000), (hour + 1) * HOUR_US)
            segment = self._open[key] = Segment(key, hour, now_us, deadline)
        return segment

    def _append(self, segment: Segment, rows: list[Mapping[str, Any]], times: list[int]) -> None:
        segment.rows += len(rows)
        try:
            encoded = [self._codec.encode(rows, times)]
        except Exception:
            # One bad row must not cost its neighbours: encode one by one to find it.
            encoded = []
            for row, time_us in zip(rows, times, strict=True):
                try:
                    encoded.append(self._codec.encode([row], [time_us]))
                except Exception as exc:
                    segment.rows -= 1
                    self._lose(1, exc)
        self._add_encoded(segment, encoded, sum(e.table.num_rows for e in encoded))

    def _add_encoded(self, segment: Segment, encoded: list[Encoded], rows: int) -> None:
        """Keep encoded rows for the segment's file; an Arrow segment takes each ~8k rows."""
        segment.batches.extend(encoded)
        segment.batch_rows += rows
        if self._codec.suffix == ARROW and segment.batch_rows >= _ENCODE_ROWS:
            self._spill(segment)

    def _spill(self, segment: Segment) -> None:
        """Append the segment's encoded rows to its Arrow file, opening one if needed.

        Rows whose columns cannot join the file's (a model whose outputs changed type, say)
        land the file as it is and start the next one. A failed write loses the file's
        rows and these (the file is all or nothing) and the segment carries on.
        """
        batches, rows = segment.batches, segment.batch_rows
        segment.batches, segment.batch_rows = [], 0
        if not batches:
            return
        try:
            table = self._codec.finish(batches)
        except Exception as exc:  # these rows only; the file so far stays good
            segment.rows -= rows
            self._lose(rows, exc)
            return
        current = segment.file
        try:
            if current is not None and not current.schema.equals(table.schema, check_metadata=True):
                segment.file = None
                self._commit(segment, current)
            if segment.file is None:
                directory = self._codec.directory(self.directory, segment.key)
                ensure_dir(directory)
                segment.file = SegmentFile(directory, table.schema)
            segment.file.write(table)
        except Exception as exc:
            lost = rows
            if segment.file is not None:
                lost += segment.file.rows
                segment.file.abort()
                segment.file = None
            segment.rows -= lost
            self._lose(lost, exc)

    def _commit(self, segment: Segment, file: SegmentFile) -> None:
        """Land an Arrow segment file (its rows are lost if that fails)."""
        segment.rows -= file.rows
        try:
            path = file.commit()
        except Exception as exc:
            self._lose(file.rows, exc)
            return
        self._landed(path, file.rows)

    def _landed(self, path: Path, rows: int) -> None:
        self.written += rows
        self.segments += 1
        if self.on_segment is not None:
            self.on_segment(path, rows)

    def _close(self, segment: Segment) -> None:
        if segment.chunks:
            self._encode_chunks(segment)
        if self._codec.suffix == ARROW:
            self._spill(segment)
            if segment.file is not None:
                file, segment.file = segment.file, None
                self._commit(segment, file)
            return
        if not segment.rows:
            return
        try:
            table = self._codec.finish(segment.batches)
            directory = self._codec.directory(self.directory, segment.key)
            ensure_dir(directory)
            path = write_segment(table, directory)
        except Exception as exc:
            self._lose(segment.rows, exc)
            return
        self._landed(path, segment.rows)
