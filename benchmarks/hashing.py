"""Content-hash throughput of dataset versions (issue 3: at least 200 MB/s on one core).

Hashes a generated table (numeric, integer and string columns) in canonical form and reports
the median throughput in MB of Arrow data per second, on one core (Arrow's thread pool is
set to one thread). Run: ``.venv/bin/python benchmarks/hashing.py --rows 1000000``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pyarrow as pa

from driftline.data import canonicalize, content_hash


def make_table(rows: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for i in range(12):
        columns[f"x{i}"] = pa.array(rng.normal(size=rows))
    for i in range(4):
        columns[f"k{i}"] = pa.array(rng.integers(0, 1_000, size=rows))
    vocabulary = np.array([f"category-{i:04d}" for i in range(500)])
    for i in range(4):
        columns[f"s{i}"] = pa.array(vocabulary[rng.integers(0, 500, size=rows)])
    return pa.table(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pa.set_cpu_count(1)
    table = make_table(args.rows)
    megabytes = table.nbytes / 1e6
    full, hash_only = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        canonical = canonicalize(table)
        middle = time.perf_counter()
        content_hash(canonical)
        end = time.perf_counter()
        full.append(end - start)
        hash_only.append(end - middle)
    print(f"table: {args.rows:,} rows x {table.num_columns} columns, {megabytes:.0f} MB in Arrow")
    print(
        f"canonicalize + hash: median {statistics.median(full):.3f} s "
        f"= {megabytes / statistics.median(full):.0f} MB/s"
    )
    print(
        f"hash of canonical table: median {statistics.median(hash_only):.3f} s "
        f"= {megabytes / statistics.median(hash_only):.0f} MB/s"
    )


if __name__ == "__main__":
    main()
