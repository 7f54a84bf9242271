"""Canonical form and content hash of a table: every row, every cell, any source format.

The canonical form fixes one Arrow type per logical kind, so the same data read from CSV,
Parquet, pandas, polars or Arrow hashes the same, whatever its chunking or row groups:

========================  ==========================================
source types              canonical type
========================  ==========================================
any signed/unsigned int   int64 (uint64 above 2**63-1 is refused)
float16/32/64             float64; NaN is a null, -0.0 is 0.0
string, large_string,     large_string (dictionary values decoded)
dictionary
bool                      bool
timestamp (any unit, tz)  timestamp[us, UTC]; naive times are taken as UTC
date32/date64             date32
binary, large_binary      large_binary
========================  ==========================================

The hash is ``sha256`` over a header (format tag, column names and canonical types, row
count) and one ``sha256`` per column of its validity bits and its values, with null slots
zeroed so that whatever bytes a writer left under a null do not matter. Column order and
row order are part of the content.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftline._canonical import canonical_json
from driftline.exceptions import ValidationError

__all__ = ["FORMAT_TAG", "canonicalize", "content_hash"]

FORMAT_TAG = b"driftline-dataset-v1\n"
_TS = pa.timestamp("us", tz="UTC")


def canonicalize(table: pa.Table) -> pa.Table:
    """``table`` with each column cast to its canonical type (see the module docstring)."""
    names = table.column_names
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValidationError(f"duplicate column names: {', '.join(dupes)}")
    columns = [_canonical_column(name, table.column(name)) for name in names]
    return pa.table(columns, names=[str(n) for n in names])


def _canonical_column(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_integer(kind):
        return _to_int64(name, column)
    if pa.types.is_floating(kind):
        floats = column.cast(pa.float64())
        floats = pc.if_else(pc.is_nan(floats), pa.scalar(None, pa.float64()), floats)
        return pc.add(floats, pa.scalar(0.0))  # -0.0 + 0.0 == +0.0
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.cast(pa.large_string())
    if pa.types.is_boolean(kind):
        return column
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            column = pc.assume_timezone(column.cast(pa.timestamp(kind.unit)), "UTC")
        return column.cast(_TS)
    if pa.types.is_date(kind):
        return column.cast(pa.date32())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return column.cast(pa.large_binary())
    if pa.types.is_null(kind):
        return column.cast(pa.large_string())
    raise ValidationError(
        f"column {name!r} has type {kind}, which datasets do not support; "
        "convert it to numbers, strings, booleans or timestamps first"
    )


def _to_int64(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    if column.type == pa.uint64() and len(column) and (pc.max(column).as_py() or 0) > 2**63 - 1:
        raise ValidationError(f"column {name!r} holds unsigned values above 2**63-1")
    return column.cast(pa.int64())


def content_hash(table: pa.Table) -> str:
    """The sha256 content hash of an already canonical ``table``."""
    digest = hashlib.sha256(FORMAT_TAG)
    header = {
        "columns": [[name, str(table.schema.field(name).type)] for name in table.column_names],
        "rows": table.num_rows,
    }
    digest.update(canonical_json(header))
    for column in table.columns:
        digest.update(_column_digest(column.combine_chunks()))
    return digest.hexdigest()


def _column_digest(array: pa.Array) -> bytes:
    digest = hashlib.sha256()
    if array.null_count:
        digest.update(np.packbits(pc.is_valid(array).to_numpy(zero_copy_only=False)).tobytes())
        # A fresh array with an empty value in each null slot, so no stale bytes count.
        array = (
            array.fill_null(_EMPTY[array.type.id])
            if array.type.id in _EMPTY
            else (array.fill_null(pa.scalar(0).cast(array.type)))
        )
    else:
        digest.update(np.packbits(np.ones(len(array), dtype=bool)).tobytes())
    kind = array.type
    if pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)
        offsets = offsets[array.offset : array.offset + len(array) + 1]
        digest.update(np.diff(offsets).tobytes())
        data = array.buffers()[2]
        if data is not None and len(array):
            digest.update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
    else:
        digest.update(_fixed_values(array).tobytes())
    return digest.digest()


_EMPTY = {
    pa.large_string().id: pa.scalar("", pa.large_string()),
    pa.large_binary().id: pa.scalar(b"", pa.large_binary()),
    pa.bool_().id: pa.scalar(False),
}


def _fixed_values(array: pa.Array) -> np.ndarray:
    kind = array.type
    if pa.types.is_boolean(kind):
        return array.to_numpy(zero_copy_only=False).astype(np.uint8)
    if pa.types.is_timestamp(kind):
        array = array.view(pa.int64())
    elif pa.types.is_date32(kind):
        array = array.view(pa.int32())
    return np.ascontiguousarray(array.to_numpy(zero_copy_only=False))
