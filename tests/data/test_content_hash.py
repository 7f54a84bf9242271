from __future__ import annotations

import io

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.data import canonicalize, content_hash
from driftline.exceptions import ValidationError


def digest(table: pa.Table) -> str:
    return content_hash(canonicalize(table))


def frame(n: int = 25_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 100, size=n),
            "c": rng.choice(["a", "b", "c"], size=n),
            "flag": rng.random(n) > 0.5,
        }
    )


def test_mlflow_blind_spot_rows_after_10000_count() -> None:
    # MLflow's digest reads the first 10,000 rows only; these three frames share them.
    base = frame()
    changed = base.copy()
    changed.loc[15_000, "x"] = 123.0
    appended = pd.concat([base, base.iloc[:10]], ignore_index=True)
    hashes = {
        digest(pa.Table.from_pandas(f, preserve_index=False)) for f in (base, changed, appended)
    }
    assert len(hashes) == 3


def test_same_data_any_format_and_layout(tmp_path) -> None:
    df = frame(5_000)
    expected = digest(pa.Table.from_pandas(df, preserve_index=False))
    csv = tmp_path / "d.csv"
    df.to_csv(csv, index=False)
    sources = {
        "csv": pcsv.read_csv(csv),
        "polars": pl.from_pandas(df).to_arrow(),
        "chunked": pa.Table.from_batches(
            pa.Table.from_pandas(df, preserve_index=False).to_batches(max_chunksize=333)
        ),
    }
    for row_group in (100, 4_999, 100_000):
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(df), sink, row_group_size=row_group)
        sources[f"parquet-{row_group}"] = pq.read_table(io.BytesIO(sink.getvalue()))
    assert {name: digest(t) for name, t in sources.items()} == dict.fromkeys(sources, expected)


def test_nan_and_null_are_one_missing_value_and_negative_zero_is_zero() -> None:
    a = pa.table({"x": pa.array([1.0, np.nan, -0.0])})
    b = pa.table({"x": pa.array([1.0, None, 0.0])})
    assert digest(a) == digest(b)


def test_types_collapse_to_canonical_ones() -> None:
    narrow = pa.table(
        {"i": pa.array([1, 2], pa.int8()), "s": pa.array(["a", "b"]).dictionary_encode()}
    )
    wide = pa.table(
        {"i": pa.array([1, 2], pa.int64()), "s": pa.array(["a", "b"], pa.large_string())}
    )
    assert digest(narrow) == digest(wide)
    naive = pa.table({"t": pa.array([0, 1_000], pa.timestamp("ms"))})
    utc = pa.table({"t": pa.array([0, 1_000_000], pa.timestamp("us", tz="UTC"))})
    assert digest(naive) == digest(utc)


def test_null_and_empty_string_differ_and_names_matter() -> None:
    assert digest(pa.table({"s": ["", "a"]})) != digest(pa.table({"s": [None, "a"]}))
    assert digest(pa.table({"a": [1]})) != digest(pa.table({"b": [1]}))
    assert digest(pa.table({"s": ["ab", "c"]})) != digest(pa.table({"s": ["a", "bc"]}))


def test_duplicate_columns_are_refused() -> None:
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])
    with pytest.raises(ValidationError, match="duplicate column names: a"):
        canonicalize(table)


cells = st.one_of(st.none(), st.floats(allow_nan=True, width=64), st.integers(-10, 10))
rows = st.lists(st.tuples(cells, st.text(max_size=5) | st.none()), min_size=2, max_size=40)


def _table(data: list[tuple]) -> pa.Table:
    xs = [None if v is None else float(v) for v, _ in data]
    return pa.table({"x": pa.array(xs, pa.float64()), "s": pa.array([s for _, s in data])})


@settings(max_examples=60, deadline=None)
@given(rows, st.integers(1, 7))
def test_chunking_never_changes_the_hash(data: list[tuple], chunk: int) -> None:
    table = _table(data)
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=chunk))
    assert digest(rechunked) == digest(table)
    sliced = pa.concat_tables([table.slice(0, 1), table.slice(1)])
    assert digest(sliced) == digest(table)


@settings(max_examples=60, deadline=None)
@given(rows, st.data())
def test_one_changed_cell_or_moved_row_changes_the_hash(data: list[tuple], draw) -> None:
    table = _table(data)
    i = draw.draw(st.integers(0, len(data) - 1))
    x, s = data[i]
    changed = list(data)
    changed[i] = (x, (s or "") + "!")
    assert digest(_table(changed)) != digest(table)
    moved = data[1:] + data[:1]
    canon = canonicalize(table)
    if canonicalize(_table(moved)).to_pylist() != canon.to_pylist():
        assert digest(_table(moved)) != digest(table)
