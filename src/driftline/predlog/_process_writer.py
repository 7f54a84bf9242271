"""The prediction log written by a child process, fed through shared memory.

Measured on the serving benchmark (100-row requests, two cores shared with the load
generator): the thread writer's encoding and writing, however cheap alone, cost the event
loop its share of the GIL; the same work in a child process costs the loop a copy per turn.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import pyarrow as pa

from driftline.exceptions import ConflictError, UnavailableError, ValidationError
from driftline.predlog._batches import PredictionBatch
from driftline.predlog._ring import (
    DROPPED,
    FLUSH_ASKED,
    FLUSH_DONE,
    SEGMENTS,
    WRITTEN,
    Ring,
    batch_frame,
    read_frame,
    rows_frame,
)
from driftline.predlog._writer import (
    checked_sample_rate,
    positive_int,
    sample_chunk,
    sample_rows,
    sample_threshold,
)

__all__ = ["ProcessLogWriter"]

# Bytes of ring per row the queue may hold (a 20-feature row takes ~280).
_BYTES_PER_ROW = 320
# The child's wait between looks at the ring when it found nothing: each wake-up costs ~40 us
# of CPU on a VM, and the ring holds seconds of traffic.
_POLL_S = 0.02
_FLUSH_TIMEOUT_S = 120.0
_CLOSE_TIMEOUT_S = 60.0  # to write what the ring holds (a full one takes a few seconds)
_START_METHODS = ("auto", "fork", "spawn")
_NICE = 5


class ProcessLogWriter:
    """A :class:`PredictionLogWriter` in a child process; the same surface to the server.

    :meth:`submit_batch` copies the batch into a shared-memory ring (arrays as raw bytes)
    and returns; when the ring is full the rows are dropped and counted, never waited for.
    The child (forked at :meth:`start`, so it shares the server's imported modules and
    loaded models, or started afresh: ``start_method``) reads the ring (every 20 ms when
    it is idle; a flush wakes it) and runs a :class:`PredictionLogWriter`: same segments,
    same files, same readers. :meth:`open` makes the ring without the child, so rows can
    queue before it starts. :meth:`flush` returns once the child has landed every row
    submitted before it (at once before :meth:`start`: there is no one to wait for);
    :meth:`close` lets the child write everything and waits for it. If the child dies, rows
    are dropped (counted) and :meth:`flush` raises :class:`UnavailableError`.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        max_queue: int = 100_000,
        sample_rate: float = 1.0,
        segment_rows: int = 50_000,
        segment_seconds: float = 300,
        on_drop: Callable[[int], None] | None = None,
        start_method: str = "auto",
    ) -> None:
        if start_method not in _START_METHODS:
            raise ValidationError(
                f"start_method must be one of {', '.join(_START_METHODS)}, got {start_method!r}"
            )
        self.start_method = start_method
        self.directory = Path(directory)
        self.max_queue = positive_int("max_queue", max_queue)
        self.sample_rate = checked_sample_rate(sample_rate)
        self._threshold = sample_threshold(self.sample_rate)
        self.segment_rows, self.segment_seconds = segment_rows, segment_seconds
        self.on_drop = on_drop
        self.accepted = self.sampled_out = 0
        self._dropped_here = 0
        self._flushed = 0  # ``accepted`` when the last flush returned
        self._lost = 0  # rows the ring held when the child was found dead
        self.last_error: str | None = None
        self._ring: Ring | None = None
        self._child: subprocess.Popen[bytes] | int | None = None
        self._stop_fd = -1
        self._closed = False
        self._lock = threading.Lock()  # flush and close from other threads
        self._put_lock = threading.Lock()  # one writer of the ring at a time

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- counters ---------------------------------------------------------------------------
    def _word(self, slot: int) -> int:
        return 0 if self._ring is None else int(self._ring.words[slot])

    @property
    def written(self) -> int:
        """Rows in landed segment files."""
        return self._word(WRITTEN)

    @property
    def dropped(self) -> int:
        """Rows dropped: the ring was full here, or the child's writer lost them."""
        return self._dropped_here + self._word(DROPPED)

    @property
    def segments(self) -> int:
        return self._word(SEGMENTS)

    @property
    def queued_bytes(self) -> int:
        """Bytes in the ring that the child has not taken yet."""
        return 0 if self._ring is None else self._ring.used

    @property
    def running(self) -> bool:
        """True while the child process runs."""
        child = self._child
        if child is None:
            return False
        if isinstance(child, int):
            with contextlib.suppress(ChildProcessError):
                pid, _ = os.waitpid(child, os.WNOHANG)
                return pid == 0
            return False
        return child.poll() is None

    # -- lifecycle --------------------------------------------------------------------------
    def open(self) -> Self:
        """Make the ring: rows are accepted from now on and wait there for the child.

        A server opens its log at start-up and starts the child once its models are loaded,
        so that the child shares the loaded process (see :meth:`start`).
        """
        with self._lock:
            self._open()
        return self

    def _open(self) -> Ring:
        if self._closed:
            raise ConflictError("the prediction log writer is closed; make a new one")
        if self._ring is None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UnavailableError(
                    f"cannot create the prediction log folder {str(self.directory)!r}: "
                    f"{exc.strerror or exc}"
                ) from exc
            self._ring = Ring.create(self.max_queue * _BYTES_PER_ROW)
        return self._ring

    def start(self) -> Self:
        """Open the ring if needed and start the child (a no-op if it runs).

        ``start_method`` ``"auto"`` forks when the process has one thread and starts a
        fresh interpreter otherwise; ``"fork"`` forks whatever other threads there are: the
        caller vouches that they are idle at this moment (a server's pool workers waiting
        for work), since a lock one of them holds would stay held in the child. The forked
        child runs only the ring loop and the writer, on modules imported before the fork.
        """
        with self._lock:
            ring = self._open()
            if self._child is not None:
                return self
            read_end, self._stop_fd = os.pipe()
            os.set_blocking(self._stop_fd, False)  # a flush's wake-up never waits
            settings = (str(self.directory), self.segment_rows, self.segment_seconds)
            fork = self.start_method == "fork" or (
                self.start_method == "auto" and threading.active_count() == 1
            )
            try:
                if fork:
                    self._child = _fork(ring, read_end, settings)
                else:
                    self._child = _spawn(ring, read_end, settings)
            finally:
                os.close(read_end)
            os.close(ring.fd)  # the map stays; the child has its own
            ring.fd = -1
        return self

    def submit(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Queue row dicts (see :meth:`PredictionLogWriter.submit`); return how many."""
        if self._threshold is not None:
            kept = sample_rows(rows, self._threshold)
            self.sampled_out += len(rows) - len(kept)
            rows = kept
        if not rows:
            return 0
        parts, kind = rows_frame(rows)
        return self._put(parts, kind, len(rows))

    def submit_batch(self, batch: PredictionBatch) -> int:
        """Queue one batch of rows without blocking; return how many were accepted."""
        if self._threshold is not None and len(batch):
            batch, skipped = sample_chunk(batch, self._threshold)
            self.sampled_out += skipped
        n = len(batch)
        if not n:
            return 0
        parts, kind = batch_frame(batch)
        return self._put(parts, kind, n)

    def _put(self, parts: list[Any], kind: int, n: int) -> int:
        ring = self._ring
        with self._put_lock:
            if ring is not None and not self._closed and ring.put(parts, kind):
                self.accepted += n
                return n
            self._dropped_here += n
        if self.on_drop is not None:
            self.on_drop(n)
        return 0

    def flush(self) -> None:
        """Wait until the child has written every row submitted so far and closed its files."""
        with self._lock:
            ring = self._ring
            if ring is None or self._child is None:
                return
            submitted = self.accepted
            if submitted == self._flushed:
                return  # nothing since the last flush (nor a child to wait for at start-up)
            ticket = int(ring.words[FLUSH_ASKED]) + 1
            ring.words[FLUSH_ASKED] = ticket
            with contextlib.suppress(OSError):  # full pipe or a dead child: the loop tells
                os.write(self._stop_fd, b"f")  # wake the child now
            deadline = time.monotonic() + _FLUSH_TIMEOUT_S
            while int(ring.words[FLUSH_DONE]) < ticket:
                if not self.running:
                    self._count_lost()
                    self.last_error = "the prediction log's writer process has stopped"
                    raise UnavailableError(f"{self.last_error}; rows since are dropped")
                if time.monotonic() > deadline:
                    raise UnavailableError(
                        f"the prediction log's writer process did not flush in "
                        f"{_FLUSH_TIMEOUT_S:.0f} s"
                    )
                time.sleep(0.002)
            self._flushed = submitted

    def close(self) -> None:
        """Let the child write everything queued, wait for it, and refuse rows from now on."""
        with self._lock:
            if self._closed:
                return
            with self._put_lock:  # no frame lands after the child was told to stop
                self._closed = True
            child, self._child = self._child, None
            if self._stop_fd >= 0:
                os.close(self._stop_fd)  # the child sees end-of-file: drain and exit
                self._stop_fd = -1
            if child is None:  # opened, never started: what waits in the ring is lost
                if self._ring is not None and self._ring.fd >= 0:
                    os.close(self._ring.fd)
                    self._ring.fd = -1
                self._count_lost()
                return
            code = _wait(child, _CLOSE_TIMEOUT_S)
            if code is None:  # stuck: a server must still be able to stop
                _wait(child, None, kill=True)
                self.last_error = (
                    f"the writer process did not finish in {_CLOSE_TIMEOUT_S:.0f} s and was killed"
                )
            elif code:
                self.last_error = f"the writer process ended with exit code {code}"
            self._count_lost()

    def _count_lost(self) -> None:
        """Rows accepted but neither written nor counted as dropped by a child that ended."""
        lost = self.accepted - self.written - self._word(DROPPED) - self._lost
        if lost > 0:
            self._lost += lost
            with self._put_lock:
                self._dropped_here += lost
            if self.on_drop is not None:
                self.on_drop(lost)


def _wait(
    child: subprocess.Popen[bytes] | int, timeout: float | None, *, kill: bool = False
) -> int | None:
    """The child's exit code once it ends within ``timeout`` (None: it still runs)."""
    if isinstance(child, subprocess.Popen):
        if kill:
            child.kill()
        try:
            return child.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            pid, status = os.waitpid(child, 0 if deadline is None else os.WNOHANG)
        except ChildProcessError:
            return 0  # reaped elsewhere
        if pid:
            return os.waitstatus_to_exitcode(status)
        if deadline is not None and time.monotonic() > deadline:
            return None
        time.sleep(0.01)


# -- the child ----------------------------------------------------------------------------
def _fork(ring: Ring, stop_fd: int, settings: tuple[Any, ...]) -> int:
    gc.collect()
    gc.freeze()  # the child shares what is already here; collections would copy it
    with warnings.catch_warnings():  # 3.12+ warns on any threaded fork; start() says why
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        _settle_child()
        # Arrow's default pool (mimalloc) has no fork handlers: a lock a server thread held
        # in it at the fork would stay held here. glibc's malloc takes its locks across fork.
        pa.set_memory_pool(pa.system_memory_pool())
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(-1)
        keep = sorted({stop_fd, 0, 1, 2})
        limit = max(os.sysconf("SC_OPEN_MAX"), stop_fd + 1)
        for low, high in zip(keep, [*keep[1:], limit], strict=True):
            os.closerange(low + 1, high)  # the server's sockets are not ours to hold open
        code = serve_ring(ring, stop_fd, *settings)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            sys.stderr.write(f"driftline prediction log writer failed: {exc!r}\n")
    finally:
        os._exit(code)


def _settle_child() -> None:
    """Yield to the server and leave stopping to it (forked or spawned child alike).

    Nice 5: a response waits for its CPU, a log row can wait in the ring; the child still
    gets ~a third of a core's share against three busy threads, about twice what the log
    needs at the server's top 100-row rate. Ctrl-C or a SIGTERM to the group stops the
    server, which then closes the child's pipe: the child stops at end-of-file, after
    writing what the ring holds; a signal of its own would lose those rows.
    """
    with contextlib.suppress(OSError):
        os.nice(_NICE)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _spawn(ring: Ring, stop_fd: int, settings: tuple[Any, ...]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",  # not -m: the package has imported this module already
            "import sys; from driftline.predlog._process_writer import main; "
            "sys.exit(main(sys.argv[1:]))",
            str(ring.fd),
            str(ring.capacity),
            *map(str, settings),
        ],
        stdin=stop_fd,
        pass_fds=(ring.fd,),
        start_new_session=True,  # signals to the server's group stop the server, not us
    )


def serve_ring(
    ring: Ring, stop_fd: int, directory: str, segment_rows: int, segment_seconds: float
) -> int:
    """The child's loop: frames to the writer until ``stop_fd`` reads end-of-file.

    The server sampled already; the child writes every row it gets. Between looks at the
    ring it waits on ``stop_fd``: a byte there (a flush) wakes it early, end-of-file stops it.
    """
    from driftline.predlog._writers import PredictionLogWriter

    writer = PredictionLogWriter(
        directory,
        max_queue=10**9,  # the ring bounds what waits
        segment_rows=segment_rows,
        segment_seconds=segment_seconds,
    )
    words = ring.words
    last_drain = time.monotonic()
    stopping = False
    while True:
        asked = int(words[FLUSH_ASKED])  # before the frames: all rows sent before the ask
        taken = 0
        for kind, body in ring.frames():
            try:
                item = read_frame(kind, body)
            except Exception as exc:  # a frame we cannot read loses its rows, not the log
                writer.last_error = repr(exc)
                continue
            if isinstance(item, list):
                writer.submit(item)
            else:
                writer.submit_batch(item)
            taken += 1
        now = time.monotonic()
        if stopping:
            break
        if asked > int(words[FLUSH_DONE]):
            writer.flush()
            words[FLUSH_DONE] = asked
            last_drain = now
        elif writer.queued >= 8192 or now - last_drain >= 1.0:
            writer.drain()
            last_drain = now
        _report(writer, words)
        if not taken:
            stopping = _wait_for_work(stop_fd, _POLL_S)
    writer.close()
    _report(writer, words)
    words[FLUSH_DONE] = int(words[FLUSH_ASKED])
    return 0


def _wait_for_work(stop_fd: int, timeout: float) -> bool:
    """Sleep up to ``timeout`` or until the server writes to ``stop_fd``; True: stop."""
    try:
        ready, _, _ = select.select([stop_fd], [], [], timeout)
        return bool(ready) and not os.read(stop_fd, 4096)  # end-of-file: the server closed
    except InterruptedError:
        return False
    except OSError:
        return True


def _report(writer: Any, words: np.ndarray) -> None:
    words[WRITTEN] = writer.written
    words[DROPPED] = writer.dropped
    words[SEGMENTS] = writer.segments


def main(argv: list[str]) -> int:
    """The spawned child: ``main([FD, CAPACITY, DIR, ROWS, SECONDS])``."""
    _settle_child()
    ring = Ring(int(argv[0]), int(argv[1]))
    return serve_ring(ring, 0, argv[2], int(argv[3]), float(argv[4]))
