"""driftline.drift against Evidently, NannyML and a plain scipy loop, side by side.

    python benchmarks/drift_vs_peers.py --rows 1000000 --repeats 3      # the README table
    python benchmarks/drift_vs_peers.py --rows 100000 --repeats 1       # a quick run

Data: the generator of ``benchmarks/drift_vs_scipy.py`` (20 numeric + 5 categorical columns,
``--rows`` reference rows and as many current rows, a few drifted columns, missing values and a
new label), written once to Parquet in ``--data-dir``. Every run is a fresh child process with
its tool's own interpreter (the peers live in ``.bench/<peer>`` venvs, see
``benchmarks/peers/*.txt``); the child reads both files into pandas (not timed), then times:

- ``driftline``: ``compare(reference, current, extra_methods=FULL_REPORT)``: the reference
  profile is fitted and every feature gets KS, Wasserstein (normed), PSI and Jensen-Shannon
  (numeric) or chi-square and Jensen-Shannon (categorical), plus missing-share and unseen-label
  signals and the Bonferroni decision;
- ``evidently``: ``Report([DataDriftPreset()]).run(current, reference)`` with a
  ``DataDefinition`` naming the numeric and categorical columns (its default methods);
- ``nannyml``: ``UnivariateDriftCalculator`` with KS, Wasserstein and Jensen-Shannon (numeric)
  and chi-square and Jensen-Shannon (categorical), ``chunk_number=1`` (one window against the
  reference: the same work as the others; NannyML's default of 10 chunks is slower),
  ``fit(reference).calculate(current)``;
- ``scipy``: the per-column loop of ``drift_vs_scipy.scipy_loop`` (``ks_2samp``,
  ``wasserstein_distance``, PSI and JS on reference-quantile bins, ``chisquare``, missing and
  unseen shares);
- ``driftline-profile``: ``compare(stored_profile, current, extra_methods=FULL_REPORT)``: a new
  window against a reference profile saved as JSON (loaded outside the timing; the child never
  reads the reference rows). Its ratio is against the scipy loop, which has no stored form and
  must read the reference.

Runs are interleaved (the order rotates every round) and the table shows medians. A tool whose
first run takes longer than ``--slow-limit`` seconds runs once. Peak memory: the child resets
its peak-RSS mark after loading the data (``/proc/self/clear_refs``), then reads
``resource.getrusage`` after the timed call; "extra" is that peak minus the RSS before the
call, also shown as a multiple of the in-memory size of the frames the child loaded.

This file is also the worker (``--worker TOOL``): that mode imports only pandas and the tool,
so it runs in the peers' virtualenvs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = {
    "evidently": ROOT / ".bench" / "evidently" / "bin" / "python",
    "nannyml": ROOT / ".bench" / "nannyml" / "bin" / "python",
}
TOOLS = ("driftline", "evidently", "nannyml", "scipy", "driftline-profile")
LABELS = {
    "driftline": "driftline `compare` (fit + full report)",
    "evidently": "Evidently `DataDriftPreset`",
    "nannyml": "NannyML `UnivariateDriftCalculator`",
    "scipy": "per-column scipy loop",
    "driftline-profile": "driftline `compare` vs stored profile",
}


# -- the worker: one timed run in its own process -------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # 5: reset the peak resident set size to the current one
        return True
    except OSError:
        return False


def _columns(frame: Any) -> tuple[list[str], list[str]]:
    numeric = [c for c in frame.columns if str(c).startswith("num")]
    return numeric, [c for c in frame.columns if str(c).startswith("cat")]


def _run_driftline(data: Path) -> tuple[Any, Any, str]:
    import pandas as pd

    import driftline
    from driftline.drift import compare

    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    full = ("ks", "wasserstein", "psi", "jensenshannon", "chisquare")

    def call() -> Any:
        report = compare(reference, current, extra_methods=full)
        return len(report.drifted_features)

    return (reference, current), call, driftline.__version__


def _run_driftline_profile(data: Path) -> tuple[Any, Any, str]:
    import pandas as pd

    import driftline
    from driftline.drift import Profile, compare

    stored = Profile.from_json((data / "reference_profile.json").read_text())
    current = pd.read_parquet(data / "current.parquet")
    full = ("ks", "wasserstein", "psi", "jensenshannon", "chisquare")

    def call() -> Any:
        return len(compare(stored, current, extra_methods=full).drifted_features)

    return (current,), call, driftline.__version__


def _run_scipy(data: Path) -> tuple[Any, Any, str]:
    import pandas as pd
    import scipy
    from drift_vs_scipy import scipy_loop  # this folder is on sys.path when run as a script

    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    return (reference, current), lambda: len(scipy_loop(reference, current)), scipy.__version__


def _run_evidently(data: Path) -> tuple[Any, Any, str]:
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    numeric, categorical = _columns(reference)

    def call() -> Any:
        definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        return snapshot.dict()["metrics"][0]["value"]["count"]

    return (reference, current), call, evidently.__version__


def _run_nannyml(data: Path) -> tuple[Any, Any, str]:
    import warnings

    import nannyml
    import pandas as pd

    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    numeric, categorical = _columns(reference)

    def call() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "number of chunks is too low": one window asked
            calculator = nannyml.UnivariateDriftCalculator(
                column_names=numeric + categorical,
                continuous_methods=["kolmogorov_smirnov", "wasserstein", "jensen_shannon"],
                categorical_methods=["chi2", "jensen_shannon"],
                chunk_number=1,
            )
            result = calculator.fit(reference).calculate(current)
            return len(result.filter(period="analysis").to_df())

    return (reference, current), call, nannyml.__version__


RUNNERS = {
    "driftline": _run_driftline,
    "driftline-profile": _run_driftline_profile,
    "scipy": _run_scipy,
    "evidently": _run_evidently,
    "nannyml": _run_nannyml,
}


def worker(tool: str, data: Path) -> None:
    """Load the data, time one call, print one JSON line."""
    frames, call, version = RUNNERS[tool](data)
    input_bytes = int(sum(f.memory_usage(deep=True).sum() for f in frames))
    gc.collect()
    before = _rss_bytes()
    reset = _reset_peak()
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes
    out = {
        "tool": tool,
        "version": version,
        "seconds": seconds,
        "rss_before": before,
        "peak_rss": peak,
        "peak_reset": reset,
        "input_bytes": input_bytes,
        "result": result,
    }
    print(json.dumps(out))


# -- the parent: data once, interleaved runs, the table ---------------------------------------


def prepare(rows: int, data: Path) -> None:
    """Write the two Parquet files and the stored reference profile, unless already there."""
    marker = data / f"rows-{rows}.done"
    if marker.exists():
        return
    from drift_vs_scipy import make_frames

    from driftline.drift import Profile

    data.mkdir(parents=True, exist_ok=True)
    reference, current = make_frames(rows)
    reference.to_parquet(data / "reference.parquet", index=False)
    current.to_parquet(data / "current.parquet", index=False)
    (data / "reference_profile.json").write_text(Profile().fit(reference).to_json())
    for old in data.glob("rows-*.done"):
        old.unlink()
    marker.touch()


def python_for(tool: str) -> Path | None:
    if tool not in PEER_PYTHON:
        return Path(sys.executable)
    path = PEER_PYTHON[tool]
    return path if path.exists() else None


def run_child(tool: str, python: Path, data: Path, timeout: float) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    command = [str(python), script, "--worker", tool, "--data-dir", str(data)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_all(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    tools = [t for t in TOOLS if t in args.only]
    pythons = {t: python_for(t) for t in tools}
    for tool, python in pythons.items():
        if python is None:
            print(f"skipping {tool}: {PEER_PYTHON[tool]} not found (make bench-peers)")
    tools = [t for t in tools if pythons[t] is not None]
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    for r in range(args.repeats):
        shift = r % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            if r > 0 and runs[tool] and runs[tool][0]["seconds"] > args.slow_limit:
                continue  # one run of a tool this slow is enough
            python = pythons[tool]
            assert python is not None
            result = run_child(tool, python, args.data_dir, args.timeout)
            runs[tool].append(result)
            print(f"  round {r + 1}: {tool:<18} {result['seconds']:9.2f} s", flush=True)
    return runs


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def table(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The Markdown table: medians, ratios, peak extra memory."""
    med = {t: statistics.median(r["seconds"] for r in rs) for t, rs in runs.items() if rs}
    lines = [
        "| tool | version | runs | median s | vs driftline | peak extra RSS MiB "
        "| x input | input MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for tool in TOOLS:
        if tool not in med:
            continue
        rs = runs[tool]
        base = "scipy" if tool == "driftline-profile" else "driftline"
        if tool in ("driftline", "driftline-profile") and base in med and base != tool:
            ratio = f"scipy loop {med[base] / med[tool]:.1f}x slower"
        elif tool == "driftline":
            ratio = "1.0x"
        else:
            ratio = f"{med[tool] / med['driftline']:.1f}x slower" if "driftline" in med else "-"
        extra = statistics.median(r["peak_rss"] - r["rss_before"] for r in rs)
        inp = statistics.median(r["input_bytes"] for r in rs)
        lines.append(
            f"| {LABELS[tool]} | {rs[0]['version']} | {len(rs)} | {med[tool]:.2f} | {ratio} "
            f"| {_mib(extra)} | {extra / inp:.2f} | {_mib(inp)} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per side")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--only", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--data-dir", type=Path, default=None, help="where the Parquet goes")
    parser.add_argument("--slow-limit", type=float, default=300.0, help="seconds: run once")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.data_dir is None:
        args.data_dir = Path("/tmp") / f"driftline-bench-drift-{args.rows}"
    if args.worker:
        worker(args.worker, args.data_dir)
        return
    prepare(args.rows, args.data_dir)
    print(f"rows per side: {args.rows:,}; 20 numeric + 5 categorical; {os.cpu_count()} cores")
    runs = run_all(args)
    print()
    print("\n".join(table(runs)))
    print()
    given = argv if argv is not None else sys.argv[1:]
    shown = ["python", "benchmarks/drift_vs_peers.py", *given]
    print(f"command: {shlex.join(shown)}")


if __name__ == "__main__":
    main()
