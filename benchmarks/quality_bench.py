"""Time a 10-check driftline quality suite on generated data, side by side with pandera and GX.

    python benchmarks/quality_bench.py --rows 1000000 --repeats 7
    python benchmarks/quality_bench.py --pandera-python .bench/pandera/bin/python \\
        --gx-python .bench/gx/bin/python

The data (20 columns: an id, 10 floats, 3 ints, 3 categories, a code, a timestamp, a flag) is
generated from a fixed seed. driftline runs in this process; pandera and Great Expectations
(neither is a driftline dependency) each run in a worker process started with the interpreter of
their own virtualenv, on the same generated data (each worker sends back a digest of its frame,
which must equal ours) and the equivalent checks. All are timed on pandas with pandas 3's
Arrow-backed strings and with the same strings held as Python objects (the pandas < 3 layout,
where string checks run element by element); driftline also on polars, and with one thread.
Runs are interleaved so that every tool sees the same machine load, each tool gets one untimed
warm-up run per input, and each reports its median. Timed: ``suite.run(frame)`` /
``schema.validate(frame, lazy=True)`` / ``batch_definition.get_batch(...)`` plus
``batch.validate(suite)``, input conversion included, data generation excluded.

The 10 checks and their equivalents (pandera: dtype checks and ``strict=True`` stand for the
schema check; GX 1.x: an ephemeral context, a pandas datasource, a whole-dataframe batch and
``result_format="BASIC"``, which like driftline reports a few failing values per expectation):

==========================  =========================================  ==========================
driftline                   Great Expectations                         how close
==========================  =========================================  ==========================
Schema(20 types, forbid)    expect_table_columns_to_match_set(exact)   names only: GX has no
                                                                       logical-type check (GX
                                                                       does less work here)
RowCount(1e3, 1e7)          expect_table_row_count_to_be_between       same
Completeness(f0, 0.05)      expect_column_values_to_not_be_null        same (mostly=0.95; NaN
Completeness(f1, 0.05)        (mostly=0.95)                              is null in both)
ValueRange(f2, +-10, 0.01)  expect_column_values_to_be_between         same (mostly=0.99; nulls
ValueRange(i0, 0..100)        (mostly=0.99 / 1.0)                        are not judged in both)
AllowedValues(cat0, 0.02)   expect_column_values_to_be_in_set(0.98)    same
Uniqueness(id)              expect_column_values_to_be_unique          same
Regex(code, full match)     expect_column_values_to_match_regex(^..$)  same
Freshness(7d, ts)           expect_column_max_to_be_between(now - 7d)  same verdict; GX has no
                                                                       freshness check and does
                                                                       not count stale rows
==========================  =========================================  ==========================

So GX runs all 10 (with the two weaker equivalents above) and is compared with the full
driftline suite. Before timing, the benchmark checks that every GX expectation has the verdict
of its driftline check and, for the 7 row-level checks, the same number of failing rows, and
that pandera's overall verdict is driftline's.

This file is also the worker (``--worker pandera|gx``): that mode imports only numpy, pandas
and the peer library, so it runs in a virtualenv without driftline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
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
LAYOUTS = {"arrow": "pandas, Arrow strings", "object": "pandas, object strings"}


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


def digest(frame: pd.DataFrame) -> str:
    """A digest of the values, independent of the string layout, to prove the data is shared."""
    h = hashlib.sha256()
    for name in frame.columns:
        col = frame[name]
        if name in CATS or name == "code":
            h.update("\x1f".join(col.astype(object).tolist()).encode())
        elif name == "ts":
            h.update(col.to_numpy(dtype="datetime64[us]").view(np.int64).tobytes())
        else:
            h.update(col.to_numpy().tobytes())
    return h.hexdigest()[:16]


# -- the suites -----------------------------------------------------------------------------


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


def gx_expectations(columns: list[str]) -> list[Any]:
    """The GX equivalents of the 10 checks, in driftline's order (see the module docstring)."""
    import great_expectations.expectations as gxe

    cutoff = pd.Timestamp(NOW) - pd.Timedelta(days=7)
    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True),
        gxe.ExpectTableRowCountToBeBetween(min_value=1_000, max_value=10_000_000),
        gxe.ExpectColumnValuesToNotBeNull(column="f0", mostly=0.95),
        gxe.ExpectColumnValuesToNotBeNull(column="f1", mostly=0.95),
        gxe.ExpectColumnValuesToBeBetween(column="f2", min_value=-10, max_value=10, mostly=0.99),
        gxe.ExpectColumnValuesToBeBetween(column="i0", min_value=0, max_value=100),
        gxe.ExpectColumnValuesToBeInSet(column="cat0", value_set=ALLOWED, mostly=0.98),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        gxe.ExpectColumnValuesToMatchRegex(column="code", regex=f"^{CODE_PATTERN}$"),
        gxe.ExpectColumnMaxToBeBetween(column="ts", min_value=cutoff),
    ]


# -- the workers (run in the peer's virtualenv) ---------------------------------------------


def pandera_validator() -> Callable[[pd.DataFrame], Any]:
    """A function validating a frame with pandera: its overall verdict and failure cases."""
    import pandera.errors

    schema = pandera_schema()

    def validate(frame: pd.DataFrame) -> Any:
        try:
            schema.validate(frame, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            return {"passed": False, "failure_cases": len(exc.failure_cases)}
        return {"passed": True, "failure_cases": 0}

    return validate


def gx_validator(columns: list[str]) -> Callable[[pd.DataFrame], Any]:
    """A function validating a frame with GX: per expectation, [success, unexpected count]."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset("frame")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name="bench"))
    for expectation in gx_expectations(columns):
        suite.add_expectation(expectation)

    def validate(frame: pd.DataFrame) -> Any:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format="BASIC")
        return [[r.success, r.result.get("unexpected_count")] for r in result.results]

    return validate


def serve(tool: str, rows: int, seed: int) -> None:
    """Worker: warm up, say ``ready``, then answer each ``run LAYOUT`` line with the seconds."""
    frame = make_frame(rows, seed)
    frames = {"arrow": frame, "object": with_object_strings(frame)}
    validate = pandera_validator() if tool == "pandera" else gx_validator(list(frame.columns))
    verdict = {layout: validate(f) for layout, f in frames.items()}  # also the warm-up
    # Without pyarrow in the peer's virtualenv pandas holds "str" columns as Python strings.
    arrow = isinstance(frame["code"].array, pd.arrays.ArrowStringArray)
    hello = {"digest": digest(frame), "verdict": verdict["arrow"], "arrow_strings": arrow}
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        command, _, layout = line.strip().partition(" ")
        if command != "run":
            break
        start = time.perf_counter()
        validate(frames[layout])
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


class Peer:
    """A worker process for ``tool`` in another interpreter."""

    def __init__(self, tool: str, python: str, rows: int, seed: int) -> None:
        self.tool = tool
        self.proc = subprocess.Popen(
            [python, __file__, "--worker", tool, "--rows", str(rows), "--seed", str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},  # no network calls while timed
        )
        if self.proc.stdin is None or self.proc.stdout is None:
            raise RuntimeError(f"the {tool} worker has no pipes")
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        line = self.stdout.readline()
        if not line:
            raise RuntimeError(f"the {tool} worker did not start (is {tool} in {python}?)")
        hello = json.loads(line)
        self.digest: str = hello["digest"]
        self.verdict: Any = hello["verdict"]
        self.layouts = list(LAYOUTS) if hello["arrow_strings"] else ["object"]

    def run(self, layout: str) -> float:
        self.stdin.write(f"run {layout}\n")
        self.stdin.flush()
        return float(json.loads(self.stdout.readline())["seconds"])

    def close(self) -> None:
        self.stdin.write("stop\n")
        self.stdin.close()
        self.proc.wait(timeout=60)


# -- the comparison -------------------------------------------------------------------------


def check_equivalence(result: Any, peers: dict[str, Peer], data_digest: str) -> list[str]:
    """Raise unless every peer saw our data and reached our verdicts; say what was compared."""
    notes = []
    ours = [(c.passed, c.failed_rows) for c in result.checks]
    for name, peer in peers.items():
        if peer.digest != data_digest:
            raise RuntimeError(f"{name} generated other data (digest {peer.digest})")
        if name == "pandera":
            if peer.verdict["passed"] != result.passed:
                raise RuntimeError(f"pandera says passed={peer.verdict['passed']}, we do not")
            notes.append(f"pandera: same overall verdict (passed={result.passed})")
            continue
        counted = 0
        for (passed, failed), (success, unexpected), check in zip(
            ours, peer.verdict, result.checks, strict=True
        ):
            if passed != success:
                raise RuntimeError(f"GX and driftline disagree on {check.name}:{check.column}")
            if unexpected is not None and failed is not None:
                if unexpected != failed:
                    raise RuntimeError(
                        f"{check.name}:{check.column}: GX counts {unexpected} failing rows, "
                        f"driftline {failed}"
                    )
                counted += 1
        notes.append(
            f"GX: same verdict on all {len(ours)} checks, same failing-row count on {counted}"
        )
    return notes


def side_by_side(frame: pd.DataFrame, repeats: int, peers: dict[str, Peer]) -> dict[str, Any]:
    """Interleaved timings of every (tool, input) pair, ``repeats`` rounds."""
    import polars as pl

    inputs = {
        "arrow": frame,
        "object": with_object_strings(frame),
        "polars": pl.from_pandas(frame),
    }
    suite = driftline_suite()
    runs = {f"driftline|{layout}": (layout, None) for layout in inputs}
    runs["driftline, 1 thread|arrow"] = ("arrow", 1)
    first = suite.run(frame, clock=lambda: NOW)
    for data in inputs.values():  # warm-up: imports, first-call costs
        suite.run(data, clock=lambda: NOW)
    notes = check_equivalence(first, peers, digest(frame))
    times: dict[str, list[float]] = {}
    for _ in range(repeats):
        for key, (layout, workers) in runs.items():
            start = time.perf_counter()
            result = suite.run(inputs[layout], clock=lambda: NOW, workers=workers)
            times.setdefault(key, []).append(time.perf_counter() - start)
            if result.to_dict()["checks"] != first.to_dict()["checks"]:
                raise RuntimeError(f"driftline gave a different result on {key}")
            if workers is None and layout in LAYOUTS:
                for name, peer in peers.items():
                    if layout in peer.layouts:
                        times.setdefault(f"{name}|{layout}", []).append(peer.run(layout))
    failed = [f"{c.name}:{c.column}" for c in first.failed]
    return {"times": times, "failed": failed, "checks": len(suite), "notes": notes}


TOOLS = {
    "driftline": "driftline",
    "driftline, 1 thread": "driftline, 1 thread",
    "pandera": "pandera",
    "gx": "Great Expectations",
}


def print_tables(times: dict[str, list[float]]) -> None:
    """One table per input: tool, median seconds, how many times the driftline median."""
    medians = {key: statistics.median(values) for key, values in times.items()}
    for layout, title in [*LAYOUTS.items(), ("polars", "polars")]:
        ours = medians[f"driftline|{layout}"]
        print(f"\n{title}\n  {'tool':<22} {'median s':>9} {'vs driftline':>13}")
        for tool, label in TOOLS.items():
            median = medians.get(f"{tool}|{layout}")
            if median is not None:
                print(f"  {label:<22} {median:>9.3f} {median / ours:>12.1f}x")
    print("\nruns (s):")
    for key, values in times.items():
        print(f"  {key:<30} {', '.join(f'{v:.3f}' for v in values)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    for tool, default in [("pandera", ".bench/pandera/bin/python"), ("gx", ".bench/gx/bin/python")]:
        parser.add_argument(
            f"--{tool}-python",
            default=default if Path(default).exists() else None,
            help=f"interpreter of a virtualenv with {tool} (skipped when absent)",
        )
    parser.add_argument("--worker", choices=["pandera", "gx"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        serve(args.worker, args.rows, args.seed)
        return

    frame = make_frame(args.rows, args.seed)
    load_before = os.getloadavg()[0]
    peers: dict[str, Peer] = {}
    try:
        for tool in ("pandera", "gx"):
            python = getattr(args, f"{tool}_python")
            if python:
                peers[tool] = Peer(tool, python, args.rows, args.seed)
        report = side_by_side(frame, args.repeats, peers)
    finally:
        for peer in peers.values():
            peer.close()
    print(
        f"rows={args.rows:,} columns={frame.shape[1]} checks={report['checks']} "
        f"repeats={args.repeats} cores={os.cpu_count()} "
        f"load average before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f}"
    )
    print(f"driftline failed checks: {report['failed'] or 'none'}")
    for note in report["notes"]:
        print(note)
    for tool in ("pandera", "gx"):
        if tool not in peers:
            print(f"{tool}: not timed (pass --{tool}-python)")
        elif "arrow" not in peers[tool].layouts:
            print(f"{tool}: no pyarrow in its virtualenv, so timed on object strings only")
    print_tables(report["times"])


if __name__ == "__main__":
    main()
