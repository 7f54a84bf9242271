"""Time a 10-check driftline quality suite on generated data, side by side with pandera.

    python benchmarks/quality_bench.py --rows 1000000 --repeats 5
    python benchmarks/quality_bench.py --pandera-python .bench/pandera/bin/python

The data (20 columns: an id, 10 floats, 3 ints, 3 categories, a code, a timestamp, a flag) is
generated from a fixed seed. driftline runs in this process; pandera (which is not a driftline
dependency) runs in a worker process started with another interpreter, on the same generated
data and the equivalent checks. Both are timed on pandas with pandas 3's Arrow-backed strings
and with the same strings held as Python objects (the pandas < 3 layout, where pandera's string
checks run element by element); driftline also on polars. Runs are interleaved so every pair
sees the same machine load, and each reports its median. Only ``suite.run(frame)`` /
``schema.validate(frame, lazy=True)`` is timed, input conversion included, generation excluded.

This file is also the pandera worker (``--pandera-worker``): that mode imports only numpy,
pandas and pandera, so it runs in a virtualenv without driftline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

NOW = datetime(2024, 5, 1, tzinfo=UTC)
CATEGORIES = ["alpha", "beta", "gamma", "delta", "epsilon"]
ALLOWED = CATEGORIES[:4]  # "epsilon" rows fail the allowed-values check
CODE_PATTERN = r"[A-Z]{2}-\d{4}"
FLOATS = [f"f{i}" for i in range(10)]
INTS = ["i0", "i1", "i2"]
CATS = ["cat0", "cat1", "cat2"]


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """20 columns of generated data with a few percent of missing and invalid values."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {"id": rng.permutation(rows).astype(np.int64)}
    for name in FLOATS:
        values = rng.normal(0.0, 3.0, rows)
        values[rng.random(rows) < 0.02] = np.nan
        data[name] = values
    for name in INTS:
        data[name] = rng.integers(0, 101, rows)
    for name in CATS:
        data[name] = pd.Series(
            np.array(CATEGORIES)[rng.choice(5, rows, p=[0.3, 0.3, 0.2, 0.19, 0.01])], dtype="str"
        )
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    codes = np.char.add(
        np.char.add(letters[rng.integers(0, 26, rows)], letters[rng.integers(0, 26, rows)]),
        np.char.add("-", np.char.zfill(rng.integers(0, 10_000, rows).astype(str), 4)),
    )
    data["code"] = pd.Series(codes, dtype="str")
    seconds = rng.integers(0, 30 * 86_400, rows)
    data["ts"] = pd.Timestamp(NOW) - pd.to_timedelta(seconds, unit="s")
    data["flag"] = rng.random(rows) < 0.5
    return pd.DataFrame(data)


def with_object_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """The same values with text held as Python objects (pandas < 3 default, still common)."""
    return frame.assign(**{c: frame[c].astype(object) for c in [*CATS, "code"]})


def driftline_suite() -> Any:
    """The 10 checks: schema, row count, 2 completeness, 2 ranges, categories, id, regex, age."""
    from driftline.quality import (
        AllowedValues,
        Completeness,
        Freshness,
        Regex,
        RowCount,
        Schema,
        Suite,
        Uniqueness,
        ValueRange,
    )

    types = {"id": "numeric", **{c: "numeric" for c in FLOATS + INTS}}
    types |= {**{c: "categorical" for c in CATS}, "code": "text", "ts": "datetime"}
    types["flag"] = "boolean"
    return Suite(
        [
            Schema(types, unexpected="forbid"),
            RowCount(min=1_000, max=10_000_000),
            Completeness("f0", max_missing=0.05),
            Completeness("f1", max_missing=0.05),
            ValueRange("f2", min=-10, max=10, max_invalid=0.01),
            ValueRange("i0", min=0, max=100),
            AllowedValues("cat0", values=set(ALLOWED), max_invalid=0.02),
            Uniqueness("id"),
            Regex("code", CODE_PATTERN),
            Freshness("7d", column="ts"),
        ]
    )


def pandera_schema() -> Any:
    """The same 10 checks in pandera (dtype checks and ``strict`` stand for the schema check)."""
    import pandera.pandas as pa

    cutoff = pd.Timestamp(NOW) - pd.Timedelta(days=7)

    def completeness(limit: float) -> Any:
        return pa.Check(lambda s: s.isna().mean() <= limit, element_wise=False)

    def at_most_invalid(check: Any, share: float) -> Any:
        return pa.Check(lambda s: (~check(s.dropna())).mean() <= share, element_wise=False)

    columns: dict[str, Any] = {"id": pa.Column("int64", unique=True)}
    for name in FLOATS:
        columns[name] = pa.Column("float64", nullable=True)
    for name in INTS:
        columns[name] = pa.Column("int64")
    for name in CATS:
        columns[name] = pa.Column(str, nullable=True)
    columns["f0"] = pa.Column("float64", completeness(0.05), nullable=True)
    columns["f1"] = pa.Column("float64", completeness(0.05), nullable=True)
    columns["f2"] = pa.Column(
        "float64", at_most_invalid(lambda s: s.between(-10, 10), 0.01), nullable=True
    )
    columns["i0"] = pa.Column("int64", pa.Check.in_range(0, 100))
    columns["cat0"] = pa.Column(
        str, at_most_invalid(lambda s: s.isin(ALLOWED), 0.02), nullable=True
    )
    columns["code"] = pa.Column(str, pa.Check.str_matches(f"^{CODE_PATTERN}$"))
    columns["ts"] = pa.Column(
        "datetime64[us, UTC]", pa.Check(lambda s: s.max() >= cutoff, element_wise=False)
    )
    columns["flag"] = pa.Column(bool)
    row_count = pa.Check(lambda df: 1_000 <= len(df) <= 10_000_000, element_wise=False)
    return pa.DataFrameSchema(columns, checks=[row_count], strict=True)


def pandera_worker(rows: int, seed: int) -> None:
    """Answer each ``run arrow|object`` line on stdin with the seconds one validation took."""
    import pandera.errors

    frame = make_frame(rows, seed)
    frames = {"arrow": frame, "object": with_object_strings(frame)}
    schema = pandera_schema()
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, strings = line.strip().partition(" ")
        if command != "run":
            break
        start = time.perf_counter()
        try:
            schema.validate(frames[strings], lazy=True)
            failures = 0
        except pandera.errors.SchemaErrors as exc:
            failures = len(exc.failure_cases)
        print(
            json.dumps({"seconds": time.perf_counter() - start, "failures": failures}), flush=True
        )


class PanderaWorker:
    """A pandera worker process in another interpreter."""

    def __init__(self, python: str, rows: int, seed: int) -> None:
        self.proc = subprocess.Popen(
            [python, __file__, "--pandera-worker", "--rows", str(rows), "--seed", str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.proc.stdin is None or self.proc.stdout is None:
            raise RuntimeError("the pandera worker has no pipes")
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.failures = 0
        if self.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the pandera worker did not start (is pandera in {python}?)")

    def run(self, strings: str) -> float:
        self.stdin.write(f"run {strings}\n")
        self.stdin.flush()
        answer = json.loads(self.stdout.readline())
        self.failures = answer["failures"]
        return float(answer["seconds"])

    def close(self) -> None:
        self.stdin.write("stop\n")
        self.stdin.close()
        self.proc.wait(timeout=60)


def side_by_side(frame: pd.DataFrame, repeats: int, peer: PanderaWorker | None) -> dict:
    """Interleaved timings of every (library, input) pair, ``repeats`` rounds."""
    import polars as pl

    inputs = {
        "pandas, Arrow strings": ("arrow", frame),
        "pandas, object strings": ("object", with_object_strings(frame)),
        "polars": (None, pl.from_pandas(frame)),
    }
    suite = driftline_suite()
    times: dict[str, list[float]] = {}
    first = suite.run(frame, clock=lambda: NOW)  # warm-up: imports, first-call costs
    for _ in range(repeats):
        for label, (strings, data) in inputs.items():
            start = time.perf_counter()
            result = suite.run(data, clock=lambda: NOW)
            times.setdefault(f"driftline   {label}", []).append(time.perf_counter() - start)
            if result.to_dict()["checks"] != first.to_dict()["checks"]:
                raise RuntimeError(f"driftline gave a different result on {label}")
            if peer is not None and strings is not None:
                times.setdefault(f"pandera     {label}", []).append(peer.run(strings))
    failed = [f"{c.name}:{c.column}" for c in first.failed]
    return {"times": times, "failed": failed, "checks": len(suite)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    default_peer = ".bench/pandera/bin/python"
    parser.add_argument(
        "--pandera-python",
        default=default_peer if Path(default_peer).exists() else None,
        help="interpreter of a virtualenv with pandera (skipped when absent)",
    )
    parser.add_argument("--pandera-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pandera_worker:
        pandera_worker(args.rows, args.seed)
        return

    frame = make_frame(args.rows, args.seed)
    peer = PanderaWorker(args.pandera_python, args.rows, args.seed) if args.pandera_python else None
    try:
        report = side_by_side(frame, args.repeats, peer)
    finally:
        if peer is not None:
            peer.close()
    print(
        f"rows={args.rows:,} columns={frame.shape[1]} checks={report['checks']} "
        f"repeats={args.repeats}"
    )
    print(
        f"driftline failed checks: {report['failed']}; "
        f"pandera failure cases: {peer.failures if peer else 'n/a'}"
    )
    medians = {label: statistics.median(times) for label, times in report["times"].items()}
    for label, times in report["times"].items():
        runs = ", ".join(f"{t:.3f}" for t in times)
        print(f"{label:<36} median {medians[label]:.3f} s  (runs: {runs})")
    for strings in ("Arrow strings", "object strings"):
        ours, theirs = (
            medians.get(f"{lib}pandas, {strings}") for lib in ("driftline   ", "pandera     ")
        )
        if ours and theirs:
            print(f"speed-up vs pandera, pandas with {strings}: {theirs / ours:.1f}x")
    if peer is None:
        print("pandera: not timed (pass --pandera-python)")


if __name__ == "__main__":
    main()
