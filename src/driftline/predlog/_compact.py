"""Compaction: closed Arrow IPC segments rewritten as zstd Parquet, off the request path.

The server writes its prediction log as uncompressed Arrow IPC files because that costs the
serving machine a quarter of Parquet's CPU per row; the files are larger (262 against 178
bytes a row for 20 random float features, and more so for features that compress).
:func:`compact_log` turns them into Parquet segments of the same name (``part-<id>.arrow``
becomes ``part-<id>.parquet``). Every step keeps the log readable and whole:

1. the Parquet copy is written under a hidden temporary name, fsynced and renamed;
2. only then is the Arrow file removed (readers seeing both read the Parquet one);
3. a crash between the two leaves both, and the next run removes the Arrow file.

One compaction runs at a time per log folder (an advisory lock on ``.compact.lock``); a
second caller returns at once with ``locked=True``. ``driftline serve`` runs it in a child
process at the lowest CPU priority (``python -m driftline.predlog compact``), and
``driftline predlog compact`` runs it by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from driftline.exceptions import NotFoundError, UnavailableError
from driftline.predlog._segments import (
    ARROW,
    PARQUET,
    PREFIX,
    fsync_path,
    write_segment,
)

__all__ = ["CompactResult", "compact_in_child", "compact_log"]

_LOCK = ".compact.lock"


@dataclass
class CompactResult:
    """What one compaction did."""

    #: Arrow segments rewritten as Parquet, and the rows they held.
    segments: int = 0
    rows: int = 0
    #: Bytes on disk before (Arrow) and after (Parquet) for those segments.
    bytes_before: int = 0
    bytes_after: int = 0
    #: Arrow files removed because their Parquet copy already existed (an earlier crash).
    leftovers: int = 0
    #: Segments younger than ``min_age_s``, left for the next run.
    skipped: int = 0
    #: Segments that could not be read or written, with the reason (they stay as they are).
    failed: list[str] | None = None
    #: True when another compaction held the folder's lock; nothing was done.
    locked: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["failed"] = list(self.failed or [])
        return out


def compact_log(directory: str | Path, *, min_age_s: float = 0.0) -> CompactResult:
    """Rewrite every Arrow segment under ``directory`` older than ``min_age_s`` as Parquet.

    >>> import tempfile
    >>> from driftline.predlog import PredictionLogWriter, read_predictions
    >>> folder = tempfile.mkdtemp()
    >>> with PredictionLogWriter(folder) as log:
    ...     log.submit([{"model": "fraud", "version": 1, "prediction": 0}])
    1
    >>> result = compact_log(folder)
    >>> result.segments, result.rows, len(read_predictions(folder))
    (1, 1, 1)
    """
    root = Path(directory)
    if not root.is_dir():
        raise NotFoundError(f"log directory {str(root)!r} does not exist")
    result = CompactResult(failed=[])
    with _locked(root) as held:
        if not held:
            result.locked = True
            return result
        now = time.time()
        for arrow in sorted(root.rglob(f"{PREFIX}*{ARROW}")):
            _compact_one(arrow, now - min_age_s, result)
    return result


def compact_in_child(
    directory: str | Path, *, min_age_s: float = 0.0, timeout_s: float = 3600.0
) -> CompactResult:
    """:func:`compact_log` in a child process at the lowest CPU priority (``nice`` 19).

    The serving process only waits for it (in a thread): the reading, encoding and
    compressing run in the child, which yields the CPU whenever the server wants it.
    """
    argv = [sys.executable, "-m", "driftline.predlog", "compact", str(directory)]
    argv += ["--min-age", repr(float(min_age_s))]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise UnavailableError(
            f"compacting {str(directory)!r} took longer than {timeout_s:g} s; stopped"
        ) from exc
    lines = done.stdout.strip().splitlines()
    if done.returncode not in (0, 1) or not lines:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        raise UnavailableError(f"compacting {str(directory)!r} failed: {reason[0]}")
    return CompactResult(**orjson.loads(lines[-1]))


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[bool]:
    try:
        fd = os.open(root / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UnavailableError(
            f"cannot compact {str(root)!r}: its lock file {_LOCK} cannot be opened "
            f"({exc.strerror or exc})"
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _compact_one(arrow: Path, cutoff: float, result: CompactResult) -> None:
    parquet = arrow.with_suffix(PARQUET)
    try:
        stat = arrow.stat()
    except FileNotFoundError:
        return  # removed since the listing
    assert result.failed is not None
    if parquet.exists():  # an earlier run died between its rename and this removal
        try:
            arrow.unlink(missing_ok=True)
            fsync_path(arrow.parent)
        except OSError as exc:
            result.failed.append(f"{arrow}: {exc}")
            return
        result.leftovers += 1
        return
    if stat.st_mtime > cutoff:
        result.skipped += 1
        return
    try:
        with pa.memory_map(str(arrow)) as source:
            table = pa.ipc.open_file(source).read_all()
        written = write_segment(table, arrow.parent, stem=arrow.stem)
        # Readers prefer the Parquet copy from here on; a failed removal is only a leftover.
        arrow.unlink()
        fsync_path(arrow.parent)
    except (OSError, pa.ArrowException) as exc:
        result.failed.append(f"{arrow}: {exc}")
        return
    result.segments += 1
    result.rows += table.num_rows
    result.bytes_before += stat.st_size
    result.bytes_after += written.stat().st_size
