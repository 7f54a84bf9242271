"""Reading tabular data from files and in-memory frames into an Arrow table."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from driftline.exceptions import NotFoundError, UnavailableError, ValidationError

__all__ = ["DataSource", "read_table"]

DataSource = Any  # path, pandas/polars DataFrame, pyarrow Table/RecordBatch, or dict of arrays

_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".tsv", ".tsv.gz")
_PARQUET = (".parquet", ".pq", ".parq")
# A text column whose values are numbers except for a few is a data error more often than
# not (a stray "n/a", a unit typed into a cell); it is reported instead of stored as text.
_MOSTLY_NUMERIC = 0.98


def read_table(
    source: DataSource, *, null_values: Iterable[str] = (), allow_mixed: bool = False
) -> tuple[pa.Table, str | None]:
    """Read ``source`` into an Arrow table; also return its URI when it is a file."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        table = _read_file(path, list(null_values))
        if not allow_mixed:
            _refuse_mixed_columns(table, path)
        return table, path.resolve().as_uri()
    return _from_memory(source), None


def _read_file(path: Path, null_values: list[str]) -> pa.Table:
    if not path.exists():
        raise NotFoundError(f"data file {str(path)!r} does not exist")
    if not path.is_file():
        raise ValidationError(f"data path {str(path)!r} is not a file")
    if not os.access(path, os.R_OK):
        raise UnavailableError(f"data file {str(path)!r} is not readable")
    name = path.name.lower()
    if name.endswith(_PARQUET):
        return _read_parquet(path)
    if name.endswith(_CSV):
        return _read_csv(path, null_values, delimiter="\t" if ".tsv" in name else ",")
    raise ValidationError(
        f"data file {str(path)!r}: unknown format; use .csv, .csv.gz, .tsv or .parquet"
    )


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValidationError(
            f"data file {str(path)!r} is not a readable Parquet file: {exc}"
        ) from None


def _read_csv(path: Path, null_values: list[str], *, delimiter: str) -> pa.Table:
    convert = pcsv.ConvertOptions(
        null_values=[*pcsv.ConvertOptions().null_values, *null_values],
        strings_can_be_null=True,
    )
    parse = pcsv.ParseOptions(delimiter=delimiter)
    try:
        table = pcsv.read_csv(path, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise ValidationError(_csv_problem(path, parse, convert, exc)) from None
    if table.num_rows == 0:
        raise ValidationError(f"data file {str(path)!r} has a header but no rows")
    return table


def _csv_problem(
    path: Path, parse: pcsv.ParseOptions, convert: pcsv.ConvertOptions, exc: Exception
) -> str:
    message = str(exc)
    if "Empty CSV file" in message:
        return f"data file {str(path)!r} is empty"
    # Parse again on one thread, which makes Arrow report the row number.
    try:
        pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(use_threads=False),
            parse_options=parse,
            convert_options=convert,
        )
    except pa.ArrowInvalid as detailed:
        message = str(detailed)
    message = message.replace("CSV parse error: Row #", "line ")
    return f"data file {str(path)!r}: {message}"


def _refuse_mixed_columns(table: pa.Table, path: Path) -> None:
    for name in table.column_names:
        column = table.column(name)
        if not pa.types.is_string(column.type) or column.null_count == len(column):
            continue
        values = column.drop_null()
        numeric = _is_number(values)
        share = float(np.mean(numeric)) if len(numeric) else 0.0
        if _MOSTLY_NUMERIC <= share < 1.0:
            first_bad = int(np.argmin(numeric))
            row = _row_of_nth_non_null(column, first_bad)
            raise ValidationError(
                f"data file {str(path)!r}, line {row + 2}, column {name!r}: value "
                f"{values[first_bad].as_py()!r} is not a number, and only "
                f"{len(numeric) - int(numeric.sum())} of the column's {len(numeric)} values "
                "are not; if it marks a missing value pass it as a null value "
                "(--null-values), or allow mixed columns (--allow-mixed)"
            )


def _is_number(values: pa.ChunkedArray) -> np.ndarray:
    trimmed = pc.utf8_trim_whitespace(values)
    pattern = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
    return pc.match_substring_regex(trimmed, pattern).to_numpy(zero_copy_only=False)


def _row_of_nth_non_null(column: pa.ChunkedArray, n: int) -> int:
    valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
    return int(np.flatnonzero(valid)[n])


def _from_memory(source: DataSource) -> pa.Table:
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    module = type(source).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(source, preserve_index=False)
    if module == "polars":
        return source.to_arrow()
    if isinstance(source, Mapping):
        try:
            return pa.table({str(k): _as_array(v) for k, v in source.items()})
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValidationError(f"cannot build a table from the given columns: {exc}") from None
    raise ValidationError(
        f"cannot read data of type {type(source).__name__}; pass a file path, a pandas or "
        "polars DataFrame, a pyarrow Table or a dict of arrays"
    )


def _as_array(values: Any) -> Any:
    return values if isinstance(values, pa.Array | pa.ChunkedArray) else np.asarray(values)
