"""The segment writer: a bounded in-memory queue drained by one thread into Parquet segments."""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from driftline.exceptions import (
    ConflictError,
    DriftlineError,
    UnavailableError,
    ValidationError,
)
from driftline.serving.predlog._codecs import Codec, Encoded
from driftline.serving.predlog._segments import (
    HOUR_US,
    Segment,
    datetime_to_us,
    ensure_dir,
    write_segment,
)

__all__ = ["Clock", "SegmentLogWriter"]

Clock = Callable[[], datetime]
_SCALE = 1 << 64


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be an int >= 1, got {value!r}")
    return value


def _positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


class SegmentLogWriter:
    """Shared machinery of the prediction and feedback logs; see :class:`PredictionLogWriter`."""

    def __init__(
        self,
        codec: Codec,
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
        poll_interval: float = 0.05,
    ) -> None:
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | float):
            raise ValidationError(f"sample_rate must be a number in (0, 1], got {sample_rate!r}")
        if not (math.isfinite(sample_rate) and 0 < sample_rate <= 1):
            raise ValidationError(f"sample_rate must be in (0, 1], got {sample_rate!r}")
        self.directory = Path(directory)
        self.max_queue = _positive_int("max_queue", max_queue)
        self.segment_rows = _positive_int("segment_rows", segment_rows)
        self.segment_seconds = _positive_number("segment_seconds", segment_seconds)
        self.poll_interval = _positive_number("poll_interval", poll_interval)
        self.sample_rate = float(sample_rate)
        self.clock: Clock = clock or _utc_now
        self.on_drop, self.on_segment, self.gate = on_drop, on_segment, gate
        self.accepted = self.dropped = self.sampled_out = 0
        self.written = self.failed = self.segments = 0
        self.last_error: str | None = None
        self._codec = codec
        self._threshold = min(int(sample_rate * _SCALE), _SCALE)
        self._high_water = max(1, self.max_queue // 2)
        self._pending: list[Mapping[str, Any]] = []
        self._lock = threading.Lock()  # guards _pending, _closed and the submit-side counters
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
        return len(self._pending)

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
        if self._threshold < _SCALE:
            kept = [r for r in rows if self._keep(r)]
            skipped, rows = len(rows) - len(kept), kept
        else:
            skipped = 0
        n = len(rows)
        with self._lock:
            room = 0 if self._closed else self.max_queue - len(self._pending)
            if n <= room:
                self._pending.extend(rows)
                accepted = n
            else:
                accepted = max(room, 0)
                self._pending.extend(rows[:accepted])
            self.accepted += accepted
            self.dropped += n - accepted
            self.sampled_out += skipped
            size = len(self._pending)
        if accepted < n and self.on_drop is not None:
            self.on_drop(n - accepted)
        if size >= self._high_water and not self._wake.is_set():
            self._wake.set()
        return accepted

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

    def _keep(self, row: Mapping[str, Any]) -> bool:
        pid = row.get("prediction_id")
        if pid is None:
            return True  # nothing to sample on; keeping it beats losing it
        digest = hashlib.blake2b(str(pid).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") < self._threshold

    def _run(self) -> None:
        while True:
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
            now_us = self._now_us()
            if rows:
                self._absorb(rows, now_us)
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

    def _absorb(self, rows: list[Mapping[str, Any]], now_us: int) -> None:
        groups: dict[tuple[Any, ...], tuple[int, list[Mapping[str, Any]], list[int]]] = {}
        for row in rows:
            try:
                key, hour, time_us = self._codec.prepare(row, now_us)
            except (ValidationError, AttributeError, TypeError) as exc:
                self._lose(1, exc)
                continue
            group = groups.get(key)
            if group is None:
                group = groups[key] = (hour, [], [])
            group[1].append(row)
            group[2].append(time_us)
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

    def _segment(self, key: tuple[Any, ...], hour: int, now_us: int) -> Segment:
        segment = self._open.get(key)
        if segment is None:
            deadline = min(now_us + int(self.segment_seconds * 1_000_000), (hour + 1) * HOUR_US)
            segment = self._open[key] = Segment(key, hour, now_us, deadline)
        return segment

    def _append(self, segment: Segment, rows: list[Mapping[str, Any]], times: list[int]) -> None:
        try:
            encoded = self._codec.encode(rows, times)
        except Exception:
            # One bad row must not cost its neighbours: encode one by one to find it.
            good: list[Encoded] = []
            for row, time_us in zip(rows, times, strict=True):
                try:
                    good.append(self._codec.encode([row], [time_us]))
                except Exception as exc:
                    self._lose(1, exc)
            segment.batches.extend(good)
            segment.rows += len(good)
            return
        segment.batches.append(encoded)
        segment.rows += len(rows)

    def _close(self, segment: Segment) -> None:
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
        self.written += segment.rows
        self.segments += 1
        if self.on_segment is not None:
            self.on_segment(path, segment.rows)
