"""Turn pandas, polars, pyarrow, numpy or a dict of arrays into columns the engine reads.

One rule for every source, written once here:

- a column is ``numeric`` when its type is integer, float or decimal (or an object column whose
  values are all numbers); its values become float64 with NaN for null;
- a column is ``categorical`` when its type is boolean, string, categorical/dictionary, or an
  object column holding anything that is not a number; its values become integer codes
  (``-1`` for missing) into string labels;
- a column with no value at all is ``empty`` and takes the kind of the other side;
- anything else (dates, durations, nested values) is ``unsupported`` and reported as not testable;
- a label listed in ``missing_values`` (``"?"``, ``"unknown"``) counts as missing.

Columns are converted lazily, one at a time, inside the worker that tests them, so a wide frame
never exists twice in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from driftline.exceptions import ValidationError

__all__ = ["ColumnData", "Table", "as_table", "column_from_array"]

Kind = Literal["numeric", "categorical", "empty", "unsupported"]
_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal"}


@dataclass(frozen=True, eq=False)
class ColumnData:
    """One column in engine form: float values, or codes into labels."""

    name: str
    kind: Kind
    n_rows: int
    dtype: str
    values: np.ndarray | None = None  # numeric: float64, NaN for missing, may hold +-inf
    codes: np.ndarray | None = None  # categorical: int64, -1 for missing
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Table:
    """Column names, a row count, and a loader per column."""

    role: str
    names: tuple[str, ...]
    n_rows: int
    loaders: Mapping[str, Callable[[], ColumnData]]

    def load(self, name: str) -> ColumnData:
        """Convert one column (the conversion happens here, not before)."""
        return self.loaders[name]()


def as_table(
    data: Any,
    *,
    role: str,
    feature_names: Sequence[str] | None = None,
    missing_values: Sequence[str] = (),
) -> Table:
    """Wrap ``data`` as a :class:`Table`; ``role`` ("reference", "current") names it in errors."""
    tokens = frozenset(str(v) for v in missing_values)
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "columns"):
        table = _pandas_table(data, role, tokens)
    elif module == "polars" and hasattr(data, "columns"):
        table = _polars_table(data, role, tokens)
    elif module == "pyarrow" and hasattr(data, "column_names"):
        table = _arrow_table(data, role, tokens)
    elif isinstance(data, np.ndarray):
        table = _numpy_table(data, role, tokens, feature_names)
    elif isinstance(data, Mapping):
        table = _mapping_table(data, role, tokens)
    else:
        raise ValidationError(
            f"{role}: cannot read a {type(data).__name__}; pass a pandas, polars or pyarrow "
            "table, a 2-D numpy array (with feature_names=) or a dict of 1-D arrays"
        )
    if table.n_rows == 0:
        raise ValidationError(f"{role} has no rows; drift needs at least one row on each side")
    if not table.names:
        raise ValidationError(f"{role} has no columns")
    return table


def _check_names(names: Sequence[Any], role: str) -> tuple[str, ...]:
    as_str = tuple(str(n) for n in names)
    if len(set(as_str)) != len(as_str):
        dupes = sorted({n for n in as_str if as_str.count(n) > 1})
        raise ValidationError(f"{role} has duplicate column names: {dupes}")
    return as_str


def _pandas_table(df: Any, role: str, tokens: frozenset[str]) -> Table:
    names = _check_names(list(df.columns), role)
    loaders = {
        name: _bind(_from_pandas, df.iloc[:, i], name, tokens) for i, name in enumerate(names)
    }
    return Table(role, names, len(df), loaders)


def _polars_table(df: Any, role: str, tokens: frozenset[str]) -> Table:
    names = _check_names(df.columns, role)
    loaders = {name: _bind(_from_polars, df.get_column(name), name, tokens) for name in names}
    return Table(role, names, df.height, loaders)


def _arrow_table(table: Any, role: str, tokens: frozenset[str]) -> Table:
    names = _check_names(table.column_names, role)
    loaders = {
        name: _bind(_from_arrow, table.column(i), name, tokens) for i, name in enumerate(names)
    }
    return Table(role, names, table.num_rows, loaders)


def _numpy_table(
    array: np.ndarray, role: str, tokens: frozenset[str], feature_names: Sequence[str] | None
) -> Table:
    if array.dtype.names is not None:
        names = _check_names(array.dtype.names, role)
        loaders = {n: _bind(_from_numpy, array[n], n, tokens) for n in names}
        return Table(role, names, len(array), loaders)
    if array.ndim != 2:
        raise ValidationError(
            f"{role}: a numpy input must be 2-D (rows x features) or a structured array, "
            f"got {array.ndim}-D"
        )
    if feature_names is None:
        feature_names = [f"x{i}" for i in range(array.shape[1])]
    if len(feature_names) != array.shape[1]:
        raise ValidationError(
            f"{role}: feature_names has {len(feature_names)} names for {array.shape[1]} columns"
        )
    names = _check_names(feature_names, role)
    loaders = {n: _bind(_from_numpy, array[:, i], n, tokens) for i, n in enumerate(names)}
    return Table(role, names, array.shape[0], loaders)


def _mapping_table(data: Mapping[Any, Any], role: str, tokens: frozenset[str]) -> Table:
    names = _check_names(list(data.keys()), role)
    lengths = {}
    for key, name in zip(data.keys(), names, strict=True):
        value = data[key]
        if not hasattr(value, "__len__"):
            raise ValidationError(f"{role}: column {name!r} is not an array")
        lengths[name] = len(value)
    if len(set(lengths.values())) > 1:
        raise ValidationError(f"{role}: columns have different lengths: {lengths}")
    loaders = {
        name: _bind(column_from_array, data[key], name, tokens)
        for key, name in zip(data.keys(), names, strict=True)
    }
    return Table(role, names, next(iter(lengths.values()), 0), loaders)


def _bind(fn: Callable[..., ColumnData], *args: Any) -> Callable[[], ColumnData]:
    return lambda: fn(*args)


def column_from_array(values: Any, name: str, tokens: frozenset[str] = frozenset()) -> ColumnData:
    """One 1-D array-like (numpy, list, pandas/polars Series, Arrow array) in engine form."""
    module = type(values).__module__.split(".")[0]
    if module == "pandas":
        return _from_pandas(values, name, tokens)
    if module == "polars":
        return _from_polars(values, name, tokens)
    if module == "pyarrow":
        return _from_arrow(values, name, tokens)
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValidationError(f"column {name!r} must be 1-D, got shape {array.shape}")
    return _from_numpy(array, name, tokens)


def _from_numpy(array: np.ndarray, name: str, tokens: frozenset[str]) -> ColumnData:
    kind = array.dtype.kind
    if kind in "iuf":
        values = np.asarray(array, dtype=np.float64)
        return _numeric(name, values, str(array.dtype))
    if kind in "mMcV":
        return ColumnData(name, "unsupported", len(array), str(array.dtype))
    import pandas as pd

    return _from_pandas(pd.Series(array, copy=False), name, tokens)


def _from_pandas(series: Any, name: str, tokens: frozenset[str]) -> ColumnData:
    import pandas as pd

    dtype = series.dtype
    n = len(series)
    if isinstance(dtype, pd.CategoricalDtype):
        labels = tuple(str(c) for c in dtype.categories)
        codes = series.cat.codes.to_numpy(dtype=np.int64)
        return _categorical(name, codes, labels, str(dtype), tokens)
    if pd.api.types.is_bool_dtype(dtype):
        return _factorized(name, series, str(dtype), tokens)
    if pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return _numeric(name, values, str(dtype))
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return ColumnData(name, "unsupported", n, str(dtype))
    if tokens:
        series = series.mask(series.astype(str).isin(tokens))
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "empty":
        return ColumnData(name, "empty", n, str(dtype))
    if inferred in _NUMERIC_INFERRED:
        values = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
        return _numeric(name, values, str(dtype))
    if inferred in {"datetime", "datetime64", "date", "timedelta", "time", "period"}:
        return ColumnData(name, "unsupported", n, inferred)
    return _factorized(name, series, str(dtype), tokens)


def _factorized(name: str, series: Any, dtype: str, tokens: frozenset[str]) -> ColumnData:
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels = tuple(str(u) for u in uniques)
    return _categorical(name, codes.astype(np.int64, copy=False), labels, dtype, tokens)


def _from_polars(series: Any, name: str, tokens: frozenset[str]) -> ColumnData:
    import polars as pl

    dtype = series.dtype
    if dtype.is_numeric():
        return _numeric(name, series.cast(pl.Float64).to_numpy(), str(dtype))
    if dtype == pl.Null or series.null_count() == len(series):
        return ColumnData(name, "empty", len(series), str(dtype))
    if dtype == pl.Boolean or dtype in (pl.String, pl.Categorical, pl.Enum):
        return _from_arrow(series.to_arrow(), name, tokens, dtype_name=str(dtype))
    return ColumnData(name, "unsupported", len(series), str(dtype))


def _from_arrow(
    column: Any, name: str, tokens: frozenset[str], dtype_name: str | None = None
) -> ColumnData:
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = column.type
    label = dtype_name or str(typ)
    n = len(column)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        return _numeric(name, np.asarray(values, dtype=np.float64), label)
    if pa.types.is_null(typ) or column.null_count == n:
        return ColumnData(name, "empty", n, label)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(typ):
        column = column.cast(typ.value_type)
        typ = typ.value_type
    if not (pa.types.is_boolean(typ) or pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        return ColumnData(name, "unsupported", n, label)
    encoded = column.dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    labels = tuple(str(v) for v in encoded.dictionary.to_pylist())
    return _categorical(name, codes, labels, label, tokens)


def _numeric(name: str, values: np.ndarray, dtype: str) -> ColumnData:
    return ColumnData(name, "numeric", len(values), dtype, values=values)


def _categorical(
    name: str, codes: np.ndarray, labels: tuple[str, ...], dtype: str, tokens: frozenset[str]
) -> ColumnData:
    # str() can map two source values to one label (1 and "1"); missing tokens map to -1.
    unique: dict[str, int] = {}
    remap = np.empty(len(labels) + 1, dtype=np.int64)
    remap[-1] = -1
    for i, label in enumerate(labels):
        remap[i] = -1 if label in tokens else unique.setdefault(label, len(unique))
    if len(unique) != len(labels):
        codes = remap[codes]
    n_rows = len(codes)
    if not unique or not np.any(codes >= 0):
        return ColumnData(name, "empty", n_rows, dtype)
    return ColumnData(name, "categorical", n_rows, dtype, codes=codes, labels=tuple(unique))
