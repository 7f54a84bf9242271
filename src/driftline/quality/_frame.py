"""Turn pandas, polars, pyarrow or a dict of arrays into one columnar form for the checks.

Every input goes through Arrow once, column by column and only for the columns a suite reads,
so the missing-value rule below is written once and holds for every source:

- null (``None``, ``pd.NA``, a polars or Arrow null) is missing in every column;
- NaN is missing in float columns, whether the source stores it as NaN (polars, numpy) or turns
  it into null (pandas);
- NaT is missing in datetime columns;
- the empty string ``""`` is missing in text columns when ``empty_is_missing`` is true (the
  default: a CSV reader gives ``""`` for an empty field in one library and NaN in another);
- any value listed in ``missing_markers`` for that column (``"?"``, ``"unknown"``, ``-1``) is
  missing: text markers apply to text columns, numeric markers to numeric columns.

Logical kinds: ``numeric`` (integers, floats, decimals), ``boolean``, ``datetime`` (dates and
timestamps, held as int64 microseconds since the epoch in UTC; naive timestamps are read as UTC),
``text`` (strings and string categoricals), ``null`` (no values at all, so no type) and ``other``
(binary, nested, durations: only completeness can check those).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftline.exceptions import ValidationError
from driftline.quality._parallel import use_key

__all__ = ["KINDS", "Column", "Table", "kind_of_type", "to_table"]

KINDS = ("numeric", "boolean", "datetime", "text", "null", "other")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Markers = Mapping[str, Sequence[Any]]


def kind_of_type(arrow_type: pa.DataType) -> str:
    """The logical kind of an Arrow type."""
    t = arrow_type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "text"
    if pa.types.is_null(t):
        return "null"
    return "other"


def us_to_datetime(value: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=int(value))


class Column:
    """One column: values, a missing mask and its kind.

    ``values`` is a numpy array for numeric, boolean, datetime (int64 microseconds) and null
    columns. Text stays an Arrow ``large_string`` array: building numpy object arrays costs
    ~40 ms per million strings and the text checks run in Arrow's kernels anyway.
    """

    __slots__ = (
        "_codes",
        "_lock",
        "_n_missing",
        "_stats",
        "categorical",
        "distinct",
        "kind",
        "missing",
        "name",
        "values",
    )

    def __init__(
        self, name: str, kind: str, values: Any, missing: np.ndarray, *, categorical: bool = False
    ) -> None:
        self.name = name
        self.kind = kind
        self.values = values
        self.missing = missing
        self.categorical = categorical
        self._codes: tuple[np.ndarray, int] | None = None
        self._lock = threading.Lock()  # checks on other threads may ask for the same stats
        self._n_missing: int | None = None
        self._stats: tuple[Any, Any, Any] | None = None
        self.distinct: int | None = None  # set by whatever computes it first

    def __len__(self) -> int:
        return len(self.missing)

    @property
    def n_missing(self) -> int:
        if self._n_missing is None:
            self._n_missing = int(np.count_nonzero(self.missing))
        return self._n_missing

    def stats(self) -> tuple[Any, Any, Any] | None:
        """(min, max, sum) of the present values of a numeric or datetime column, else None.

        Computed once and shared by the range and freshness checks and the column metrics.
        """
        if self.kind not in ("numeric", "datetime") or self.n_missing == len(self):
            return None
        with self._lock:
            if self._stats is None:
                present = self.present_values()
                total = present.sum().item() if self.kind == "numeric" else None
                self._stats = (present.min().item(), present.max().item(), total)
        return self._stats

    def present_values(self) -> Any:
        """The values of the rows that are not missing."""
        if self.kind == "text":
            return self.values.filter(pa.array(~self.missing))
        return self.values[~self.missing] if self.n_missing else self.values

    def codes(self) -> tuple[np.ndarray, int]:
        """Dense integer codes per row (equal values share a code) and the number of codes.

        Missing rows get the extra code ``k``, so a lookup table of size ``k + 1`` can be
        indexed by the codes directly.
        """
        with self._lock:
            if self._codes is None:
                self._codes = self._compute_codes()
                self.distinct = self._codes[1]
        return self._codes

    def _compute_codes(self) -> tuple[np.ndarray, int]:
        """Codes and their number, computed (under the lock) by :meth:`codes`."""
        if self.kind == "text":
            encoded = pc.dictionary_encode(self.values)
            k = len(encoded.dictionary)
            codes = encoded.indices.fill_null(k).to_numpy().astype(np.int64)
        else:
            import pandas as pd  # hash-based factorize: O(n), unlike np.unique's sort

            codes, uniques = pd.factorize(self.values)
            codes = codes.astype(np.int64)
            k = len(uniques)
        codes[self.missing] = k
        # Compact again: a code whose every row is missing must not count as a value.
        used = np.bincount(codes, minlength=k + 1)[:k] > 0
        if not used.all():
            remap = np.cumsum(used) - 1
            k = int(used.sum())
            remap = np.append(np.where(used, remap, k), k)
            codes = remap[codes]
        return codes, k

    def known_distinct(self) -> int | None:
        """The distinct count if codes were already computed, else None (never computes)."""
        return self.distinct

    def to_python(self) -> list[Any]:
        """Plain Python values, None where missing, datetimes as aware UTC datetimes."""
        if self.kind == "text" or self.kind == "other":
            raw = self.values.to_pylist()
        elif self.kind == "datetime":
            raw = [us_to_datetime(v) for v in self.values.tolist()]
        elif self.kind == "null":
            raw = [None] * len(self)
        else:
            raw = self.values.tolist()
        return [None if m else v for v, m in zip(raw, self.missing.tolist(), strict=True)]


def _split_markers(markers: Sequence[Any]) -> tuple[list[str], list[float]]:
    text = [m for m in markers if isinstance(m, str)]
    numbers = [m for m in markers if isinstance(m, int | float) and not isinstance(m, bool)]
    return text, numbers


def _empty_strings(arr: pa.Array) -> np.ndarray:
    """Rows holding ``""``, read from the offsets buffer (no string comparison needed)."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    return offsets[1:] == offsets[:-1]


def _numeric(
    name: str, values: np.ndarray, nulls: np.ndarray | None, markers: Sequence[Any]
) -> Column:
    missing = np.isnan(values) if values.dtype.kind == "f" else nulls
    if missing is None:
        missing = np.zeros(len(values), dtype=bool)
    numbers = _split_markers(markers)[1]
    if numbers:
        missing = missing | np.isin(values, numbers)
    return Column(name, "numeric", values, missing)


def _text(
    arr: pa.Array, nulls: np.ndarray, empty_is_missing: bool, markers: Sequence[Any]
) -> np.ndarray:
    missing = nulls
    if empty_is_missing:
        missing = missing | _empty_strings(arr)
    text = _split_markers(markers)[0]
    if text:
        hit = pc.is_in(arr, value_set=pa.array(text, pa.large_string()))
        missing = missing | hit.to_numpy(zero_copy_only=False)
    return missing


def _datetimes(arr: pa.Array) -> np.ndarray:
    tz = arr.type.tz if pa.types.is_timestamp(arr.type) else None
    micro = arr.cast(pa.timestamp("us", tz=tz), safe=False).cast(pa.int64())
    return (micro.fill_null(0) if micro.null_count else micro).to_numpy()


def _from_numpy(name: str, data: np.ndarray, markers: Sequence[Any]) -> Column:
    if data.dtype.kind == "b":
        return Column(name, "boolean", data, np.zeros(len(data), dtype=bool))
    if data.dtype.kind == "M":  # datetime64[us], UTC: already the form used here
        missing = np.isnat(data)
        values = data.view(np.int64)
        if missing.any():
            values = np.where(missing, 0, values)
        return Column(name, "datetime", values, missing)
    return _numeric(name, data, None, markers)


def column_from_arrow(
    name: str,
    data: pa.Array | pa.ChunkedArray | np.ndarray,
    *,
    empty_is_missing: bool,
    markers: Sequence[Any],
) -> Column:
    """Normalise one column (see the module docstring for the missing-value rule).

    A plain numpy numeric, boolean or ``datetime64[us]`` array (what pandas holds for float64,
    int64, bool and microsecond timestamps) is used as is, without a round trip through Arrow.
    """
    if isinstance(data, np.ndarray):
        return _from_numpy(name, data, markers)
    arr = data.combine_chunks() if isinstance(data, pa.ChunkedArray) else data
    categorical = pa.types.is_dictionary(arr.type)
    if categorical:
        arr = arr.cast(arr.type.value_type)
    kind = kind_of_type(arr.type)
    n = len(arr)
    nulls = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else np.zeros(n, bool)
    if kind == "numeric":
        if pa.types.is_decimal(arr.type):
            arr = arr.cast(pa.float64())
        if pa.types.is_floating(arr.type):
            return _numeric(name, arr.to_numpy(zero_copy_only=False), nulls, markers)
        values = (arr.fill_null(0) if arr.null_count else arr).to_numpy()
        return _numeric(name, values, nulls, markers)
    if kind == "text":
        arr = arr.cast(pa.large_string())
        missing = _text(arr, nulls, empty_is_missing, markers)
        return Column(name, kind, arr, missing, categorical=categorical)
    if kind == "datetime":
        return Column(name, kind, _datetimes(arr), nulls)
    if kind == "boolean":
        return Column(name, kind, arr.fill_null(False).to_numpy(zero_copy_only=False), nulls)
    if kind == "null":
        return Column(name, kind, np.zeros(n), np.ones(n, bool))
    return Column(name, kind, arr, nulls)


class Table:
    """Lazily normalised columns of one frame; each column is converted once, on first use."""

    def __init__(
        self,
        names: Sequence[str],
        n_rows: int,
        fetch: Callable[[str], pa.Array | pa.ChunkedArray | np.ndarray],
        kind_hint: Callable[[str], str | None],
        take: Callable[[Sequence[int]], Any],
        *,
        empty_is_missing: bool,
        markers: Markers,
        what: str,
    ) -> None:
        self.names = tuple(names)
        self.n_rows = n_rows
        self.what = what
        self._fetch = fetch
        self._kind_hint = kind_hint
        self._take = take
        self._empty_is_missing = empty_is_missing
        self._markers = markers
        self._columns: dict[str, Column] = {}
        # Checks may run on several threads: one lock per column so that each is converted
        # once, and the first-use order a sequential run would have seen (see converted()).
        self._guard = threading.Lock()
        self._fetching = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._first_use: dict[str, tuple[int, int]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def column(self, name: str) -> Column:
        """The normalised column ``name`` (cached)."""
        key = use_key()
        with self._guard:
            if name not in self._first_use or key < self._first_use[name]:
                self._first_use[name] = key
            lock = self._locks.setdefault(name, threading.Lock())
        col = self._columns.get(name)
        if col is not None:
            return col
        with lock:
            col = self._columns.get(name)
            if col is None:
                with self._fetching:  # reading a frame's columns is not thread-safe everywhere
                    raw = self._fetch(name)
                col = column_from_arrow(
                    name,
                    raw,
                    empty_is_missing=self._empty_is_missing,
                    markers=self._markers.get(name, ()),
                )
                with self._guard:
                    self._columns[name] = col
        return col

    def kind(self, name: str) -> str:
        """The logical kind of ``name``, from the dtype alone when the dtype says it."""
        with self._fetching:
            hint = self._kind_hint(name)
        return hint if hint is not None else self.column(name).kind

    def converted(self) -> Mapping[str, Column]:
        """The columns converted so far, in the order of their first use in a sequential run."""
        with self._guard:
            order = sorted(self._columns, key=lambda name: self._first_use[name])
            return {name: self._columns[name] for name in order}

    def rows(self, positions: Sequence[int]) -> list[dict[str, Any]]:
        """Rows at ``positions`` as ``{"row": position, "values": {column: value}}``."""
        if len(positions) == 0:
            return []
        small = to_table(
            self._take(list(positions)),
            empty_is_missing=self._empty_is_missing,
            missing_markers=self._markers,
            what=self.what,
        )
        columns = {name: small.column(name).to_python() for name in small.names}
        return [
            {"row": int(pos), "values": {name: columns[name][i] for name in small.names}}
            for i, pos in enumerate(positions)
        ]


def _as_arrow(name: str, values: Any, what: str) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    if _module_type(values, "polars", "Series"):
        try:
            return values.to_arrow()
        except Exception as exc:
            raise ValidationError(f"{what}: column {name!r} cannot be read: {exc}") from exc
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        raise ValidationError(
            f"{what}: column {name!r} mixes value types or holds unsupported values ({exc}); "
            "give it one type per column"
        ) from exc


def _check_names(names: Sequence[Any], what: str) -> list[str]:
    out = [str(n) for n in names]
    seen: set[str] = set()
    for name in out:
        if name in seen:
            raise ValidationError(f"{what}: column name {name!r} appears more than once")
        seen.add(name)
    return out


_INFERRED_KINDS = {
    "string": "text",
    "floating": "numeric",
    "integer": "numeric",
    "mixed-integer-float": "numeric",
    "decimal": "numeric",
    "boolean": "boolean",
    "datetime64": "datetime",
    "datetime": "datetime",
    "date": "datetime",
}


def _datetime_unit(dtype: Any) -> str | None:
    """The unit of a pandas datetime dtype (numpy or tz-aware), else None."""
    if isinstance(dtype, np.dtype):
        return np.datetime_data(dtype)[0] if dtype.kind == "M" else None
    return getattr(dtype, "unit", None) if getattr(dtype, "kind", None) == "M" else None


def _from_pandas(df: Any, empty: bool, markers: Markers, what: str) -> Table:
    names = _check_names(list(df.columns), what)
    by_name = dict(zip(names, df.columns, strict=True))
    dtypes = dict(zip(names, df.dtypes, strict=True))

    def fetch(name: str) -> pa.Array | pa.ChunkedArray | np.ndarray:
        series = df[by_name[name]]
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiub":
            return series.to_numpy()  # zero-copy; Arrow would only rebuild the same array
        if _datetime_unit(series.dtype) == "us":
            # Naive or tz-aware microseconds: numpy gives the UTC values without a copy.
            return series.to_numpy(dtype="datetime64[us]")
        return _as_arrow(name, series, what)

    def hint(name: str) -> str | None:
        dtype = dtypes[name]
        if isinstance(dtype, np.dtype) and dtype.kind == "O":
            # Only the values say what an object column holds; pandas' C scan is ~4x cheaper
            # than converting the column, and anything unclear is converted to find out.
            from pandas.api.types import infer_dtype

            return _INFERRED_KINDS.get(infer_dtype(df[by_name[name]], skipna=True))
        if isinstance(dtype, np.dtype) and dtype.kind in "fiubM":
            return kind_of_type(pa.from_numpy_dtype(dtype))
        return kind_of_type(_as_arrow(name, df[by_name[name]].iloc[:0], what).type)

    def take(positions: Sequence[int]) -> Any:
        return df.iloc[positions]

    return Table(
        names, len(df), fetch, hint, take, empty_is_missing=empty, markers=markers, what=what
    )


def _from_polars(df: Any, empty: bool, markers: Markers, what: str) -> Table:
    names = list(df.columns)
    empty_frame = df.head(0)

    def fetch(name: str) -> pa.Array | pa.ChunkedArray:
        return _as_arrow(name, df.get_column(name), what)

    def hint(name: str) -> str | None:
        try:
            return kind_of_type(empty_frame.get_column(name).to_arrow().type)
        except Exception:
            return "other"

    def take(positions: Sequence[int]) -> Any:
        return df[list(positions)]

    return Table(
        names, df.height, fetch, hint, take, empty_is_missing=empty, markers=markers, what=what
    )


def _from_arrow(table: pa.Table, empty: bool, markers: Markers, what: str) -> Table:
    names = _check_names(table.column_names, what)

    def hint(name: str) -> str | None:
        return kind_of_type(table.schema.field(name).type)

    def take(positions: Sequence[int]) -> Any:
        return table.take(pa.array(positions, pa.int64()))

    return Table(
        names,
        table.num_rows,
        table.column,
        hint,
        take,
        empty_is_missing=empty,
        markers=markers,
        what=what,
    )


def _from_mapping(data: Mapping[Any, Any], what: str) -> pa.Table:
    names = _check_names(list(data), what)
    arrays = [_as_arrow(name, data[key], what) for name, key in zip(names, data, strict=True)]
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        sizes = ", ".join(f"{n}={len(a)}" for n, a in zip(names, arrays, strict=True))
        raise ValidationError(f"{what}: columns have different lengths ({sizes})")
    return pa.table(dict(zip(names, arrays, strict=True)))


def _module_type(data: Any, module: str, name: str) -> bool:
    # Only a module that is already imported can have made ``data``: never import it here.
    mod = sys.modules.get(module)
    return mod is not None and isinstance(data, getattr(mod, name))


def to_table(
    data: Any,
    *,
    empty_is_missing: bool = True,
    missing_markers: Markers | None = None,
    what: str = "data",
) -> Table:
    """Wrap a pandas/polars DataFrame, pyarrow Table/RecordBatch or dict of arrays."""
    markers = missing_markers or {}
    if _module_type(data, "pandas", "DataFrame"):
        return _from_pandas(data, empty_is_missing, markers, what)
    if _module_type(data, "polars", "DataFrame"):
        return _from_polars(data, empty_is_missing, markers, what)
    if _module_type(data, "polars", "LazyFrame"):
        raise ValidationError(f"{what}: a polars LazyFrame must be collected first (.collect())")
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        return _from_arrow(data, empty_is_missing, markers, what)
    if isinstance(data, Mapping):
        return _from_arrow(_from_mapping(data, what), empty_is_missing, markers, what)
    raise ValidationError(
        f"{what}: expected a pandas or polars DataFrame, a pyarrow Table or a dict of arrays, "
        f"got {type(data).__name__}"
    )
