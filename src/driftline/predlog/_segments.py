"""Segments: rows buffered for one partition, and their atomic landing as a file."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from driftline.ids import uuid7

__all__ = [
    "ARROW",
    "FORMATS",
    "HOUR_US",
    "PARQUET",
    "PREFIX",
    "Segment",
    "SegmentFile",
    "datetime_to_us",
    "dictionary_columns",
    "ensure_dir",
    "fsync_path",
    "hour_label",
    "parse_hour_label",
    "write_segment",
]

HOUR_US = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
PREFIX, TEMP_SUFFIX = "part-", ".tmp"
# Segment formats by file suffix: Parquet (zstd) for keeping, Arrow IPC (uncompressed) for
# the server's hot log, which costs a quarter of Parquet's CPU to write and is compacted
# to Parquet later (see compact_log).
PARQUET, ARROW = ".parquet", ".arrow"
FORMATS = {PARQUET: "parquet", ARROW: "ipc"}
# Columns whose values are (nearly) all different: dictionary pages only cost time there.
_UNIQUE = frozenset({"prediction_id", "time", "features", "extra"})


def datetime_to_us(value: datetime) -> int:
    """Microseconds since the Unix epoch; a naive datetime is taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _ONE_US


def hour_label(hour: int) -> str:
    """``YYYYMMDDHH`` (UTC) for an hour counted since the epoch."""
    return (_EPOCH + timedelta(hours=hour)).strftime("%Y%m%d%H")


def parse_hour_label(label: str) -> int | None:
    """The hour since the epoch for a ``YYYYMMDDHH`` label, or None if it is not one."""
    try:
        moment = datetime.strptime(label, "%Y%m%d%H").replace(tzinfo=UTC)
    except ValueError:
        return None
    return datetime_to_us(moment) // HOUR_US


@dataclass
class Segment:
    """Rows waiting for one partition's next file, and when that file is due."""

    key: tuple[object, ...]
    hour: int
    opened_us: int
    deadline_us: int
    batches: list[Any] = field(default_factory=list)
    #: Columnar chunks not encoded yet, each one's time in microseconds, and their rows.
    chunks: list[Any] = field(default_factory=list)
    chunk_times: list[int] = field(default_factory=list)
    chunk_rows: int = 0
    rows: int = 0
    #: Rows in ``batches``, and the file that streams them (codecs with Arrow segments).
    batch_rows: int = 0
    file: SegmentFile | None = None


def fsync_path(path: Path) -> None:
    """Flush a file's bytes, or a directory's entries, to disk.

    Renames and new entries are durable only once the directory itself is synced.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(directory: Path) -> None:
    """Create ``directory`` and sync every parent that gained an entry."""
    if directory.is_dir():
        return
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    for created in sorted(missing, key=lambda p: len(p.parts)):
        fsync_path(created.parent)


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary-encoding: text, flags and integers that tend to repeat.

    Parquet writers try a dictionary for every column by default and give it up page by
    page; on unique ids, times and float features that attempt costs more than the rest of
    the write (3-4x for a 20-float-feature log).
    """
    return [
        f.name
        for f in schema
        if f.name not in _UNIQUE
        and (
            pa.types.is_string(f.type) or pa.types.is_boolean(f.type) or pa.types.is_integer(f.type)
        )
    ]


_WRITE_BUFFER = 1 << 20


def _segment_paths(directory: Path, suffix: str, stem: str | None) -> tuple[Path, Path]:
    """A new segment's final path and the hidden temporary path it is written under."""
    name = f"{stem or PREFIX + str(uuid7())}{suffix}"
    return directory / name, directory / f".{name}{TEMP_SUFFIX}"


def _land(temp: Path, final: Path) -> None:
    """Sync a finished temporary file, give it its final name and sync the folder."""
    fsync_path(temp)
    os.replace(temp, final)
    fsync_path(final.parent)


def write_segment(table: pa.Table, directory: Path, *, stem: str | None = None) -> Path:
    """Write ``table`` as a new zstd Parquet segment; the file appears whole or not at all.

    The bytes go to a hidden temporary name in the same directory through Arrow's own file
    (no Python call, so no GIL, per write), are fsynced, renamed to ``part-<uuid7>.parquet``
    (or ``<stem>.parquet``) and the directory is fsynced: readers list only ``part-*`` files
    with a known suffix, so they never open a file that is still being written, and a crash
    leaves at most a hidden ``.part-*.tmp`` behind. Arrow IPC segments are written the same
    way, a piece at a time, by :class:`SegmentFile`.
    """
    final, temp = _segment_paths(directory, PARQUET, stem)
    try:
        with pa.OSFile(str(temp), "wb") as sink:
            _write_parquet(table, sink)
        _land(temp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return final


class SegmentFile:
    """An Arrow IPC segment written a piece at a time; it appears whole at commit, or never.

    The prediction log hands each piece (a few thousand rows) over as soon as it is encoded,
    so the writer holds one piece in memory instead of a whole segment, and the next piece
    reuses the same memory: building every piece in fresh pages cost the writer ~130 ns a
    row in page faults, a fifth of its time. The pieces go through a 1 MiB buffer (a third
    less CPU than handing the kernel each column as it comes) to a hidden temporary file
    (see :func:`write_segment`), which :meth:`commit` syncs and renames.
    """

    def __init__(self, directory: Path, schema: pa.Schema, *, stem: str | None = None) -> None:
        self.schema = schema
        self.rows = 0
        self.final, self.temp = _segment_paths(directory, ARROW, stem)
        self._file = pa.OSFile(str(self.temp), "wb")
        try:
            self._buffer = pa.BufferedOutputStream(self._file, buffer_size=_WRITE_BUFFER)
            self._writer = pa.ipc.new_file(self._buffer, schema)
        except BaseException:
            self.abort()
            raise

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (its schema must be this file's)."""
        self._writer.write_table(table)
        self.rows += table.num_rows

    def commit(self) -> Path:
        """Finish the file and give it its ``part-*`` name.

        A failure before the rename removes the temporary file and raises.
        """
        try:
            self._writer.close()
            self._buffer.close()  # flushes, then closes the file under it
            _land(self.temp, self.final)
        except BaseException:
            self.abort()
            raise
        return self.final

    def abort(self) -> None:
        """Close and remove the temporary file, whatever state it is in."""
        for handle in ("_writer", "_buffer", "_file"):
            with contextlib.suppress(Exception):
                getattr(self, handle).close()
        with contextlib.suppress(OSError):
            self.temp.unlink()


def _write_parquet(table: pa.Table, sink: pa.NativeFile) -> None:
    pq.write_table(
        table,
        sink,
        # zstd's fastest level: CPU on the serving machine is worth more than the last 5%
        # of the file size.
        compression="zstd",
        compression_level=-1,
        use_dictionary=dictionary_columns(table.schema),
        # Readers prune by time; min/max of the other columns would cost 15% more.
        write_statistics=["time"],
    )
