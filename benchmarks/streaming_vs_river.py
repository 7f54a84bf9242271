"""Streaming drift detectors: driftline against river, per update and in bulk.

Per update, each detector reads the same stream one value at a time (``update(x)`` then a read
of ``drift_detected``, the documented usage) in driftline and in river; runs alternate between
the two libraries and the table shows medians. In bulk, driftline's ``update_many`` reads a
stream of ``--n-many`` values; river has no bulk call, so its column is its update loop rate.
Every row also checks that both libraries detected drift at the same positions. ADWIN has two
rows: the default (river's compiled window, called without river's Python layer, when river is
installed) and ``ADWIN-python`` (driftline's pure-Python implementation).

Detection quality: on river's synthetic streams (SEA, Agrawal, STAGGER, each with one change of
concept, function 0 to 2, centred on position 5000 of 10,000, abrupt (width 50) or gradual
(width 1000); several seeds) a Gaussian naive Bayes learner runs prequentially and its 0/1
errors feed every detector of both libraries. As in CapyMOA, a detection counts as true when it
falls within ``--max-delay`` values (plus the width) after the change starts; every other
detection is a false alarm.

    python benchmarks/streaming_vs_river.py            # the defaults used for the README
    python benchmarks/streaming_vs_river.py --n-update 50000 --repeats 3 --only ADWIN DDM
    python benchmarks/streaming_vs_river.py --only ADWIN ADWIN-python --no-quality --timer cpu
    python benchmarks/streaming_vs_river.py --no-speed --seeds 5      # quality table only
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from driftline.drift import streaming


@dataclass(frozen=True)
class Case:
    """One detector in both libraries, and the kind of stream it reads."""

    name: str
    ours: Callable[[], Any]
    theirs: Callable[[], Any] | None
    binary: bool
    scale: float = 1.0  # share of --n-update to use (river's KSWIN needs ~0.2 ms a value)


def _river_cases() -> dict[str, Callable[[], Any]]:
    try:
        from river import drift
    except ModuleNotFoundError:
        return {}
    return {
        "ADWIN": drift.ADWIN,
        "PageHinkley": drift.PageHinkley,
        "DDM": drift.binary.DDM,
        "EDDM": drift.binary.EDDM,
        "HDDM_A": drift.binary.HDDMA,
        "KSWIN": lambda: drift.KSWIN(seed=1),
    }


def cases() -> list[Case]:
    river = _river_cases()
    return [
        # the default uses river's compiled window when river is installed; -python is ours
        Case("ADWIN", streaming.ADWIN, river.get("ADWIN"), binary=False),
        Case(
            "ADWIN-python",
            lambda: streaming.ADWIN(backend="python"),
            river.get("ADWIN"),
            binary=False,
        ),
        Case("PageHinkley", streaming.PageHinkley, river.get("PageHinkley"), binary=False),
        Case("DDM", streaming.DDM, river.get("DDM"), binary=True),
        Case("EDDM", streaming.EDDM, river.get("EDDM"), binary=True),
        Case("HDDM_A", streaming.HDDM_A, river.get("HDDM_A"), binary=True),
        Case("KSWIN", lambda: streaming.KSWIN(seed=1), river.get("KSWIN"), False, scale=0.02),
        Case("CUSUM", streaming.CUSUM, None, binary=False),
    ]


def make_stream(n: int, *, binary: bool, seed: int) -> np.ndarray:
    """Segments of 20,000 values whose mean (or error rate) jumps at random."""
    rng = np.random.default_rng(seed)
    segments = -(-n // 20_000)
    if binary:
        rates = rng.uniform(0.05, 0.4, segments)
        return (rng.random(n) < np.repeat(rates, 20_000)[:n]).astype(float)
    means = rng.uniform(-2.0, 2.0, segments)
    return rng.normal(np.repeat(means, 20_000)[:n], 1.0)


Timer = Callable[[], float]


def time_loop(
    factory: Callable[[], Any], values: list[Any], timer: Timer = time.perf_counter
) -> tuple[float, list[int]]:
    """Seconds to feed ``values`` one by one, and the positions of the detections."""
    detector = factory()
    update = detector.update
    hits = []
    start = timer()
    for i, x in enumerate(values):
        update(x)
        if detector.drift_detected:
            hits.append(i)
    return timer() - start, hits


def time_bulk(
    factory: Callable[[], Any], values: np.ndarray, timer: Timer = time.perf_counter
) -> tuple[float, list[int]]:
    detector = factory()
    start = timer()
    hits = detector.update_many(values)
    return timer() - start, hits.tolist()


def per_update_row(case: Case, n: int, repeats: int, seed: int, timer: Timer) -> str:
    n = max(1000, int(n * case.scale))
    stream = make_stream(n, binary=case.binary, seed=seed)
    values = [int(v) for v in stream] if case.binary else stream.tolist()
    ours: list[float] = []
    theirs: list[float] = []
    same = "-"
    for r in range(repeats):
        # alternate which library goes first, so drifts in machine load hit both alike
        order = [("ours", case.ours), ("theirs", case.theirs)]
        for who, factory in order if r % 2 == 0 else order[::-1]:
            if factory is None:
                continue
            seconds, hits = time_loop(factory, values, timer)
            (ours if who == "ours" else theirs).append(seconds / n * 1e9)
            if who == "ours":
                our_hits = hits
            else:
                their_hits = hits
    if theirs:
        same = "yes" if our_hits == their_hits else "NO"
    ours_ns = statistics.median(ours)
    if not theirs:
        dash = "-"
        return (
            f"| {case.name:<12} | {n:>9,} | {ours_ns:>10.0f} | {dash:>10} | {dash:>7} | {same:>4} |"
        )
    theirs_ns = statistics.median(theirs)
    return (
        f"| {case.name:<12} | {n:>9,} | {ours_ns:>10.0f} | {theirs_ns:>10.0f} |"
        f" {theirs_ns / ours_ns:>6.2f}x | {same:>4} |"
    )


def bulk_row(case: Case, n: int, repeats: int, seed: int, timer: Timer) -> str:
    stream = make_stream(n, binary=case.binary, seed=seed)
    time_bulk(case.ours, stream[:1000])  # warm up: lazy imports (scipy.signal) happen here
    seconds = []
    for _ in range(repeats):
        elapsed, hits = time_bulk(case.ours, stream, timer)
        seconds.append(elapsed)
    rate = n / statistics.median(seconds)
    same = "-"
    river_rate = "-"
    if case.theirs is not None and case.scale == 1.0:
        values = [int(v) for v in stream] if case.binary else stream.tolist()
        river_seconds, river_hits = time_loop(case.theirs, values, timer)
        river_rate = f"{n / river_seconds / 1e6:.2f}"
        same = "yes" if river_hits == hits else "NO"
    return (
        f"| {case.name:<12} | {n:>9,} | {len(hits):>10,} | {rate / 1e6:>12.2f} |"
        f" {river_rate:>12} | {same:>4} |"
    )


QUALITY_STREAMS = {
    "SEA": lambda seed, variant: _synth().SEA(variant=variant, seed=seed),
    "Agrawal": lambda seed, variant: _synth().Agrawal(classification_function=variant, seed=seed),
    "STAGGER": lambda seed, variant: _synth().STAGGER(classification_function=variant, seed=seed),
}
CHANGE_AT = 5000


def _synth() -> Any:
    from river.datasets import synth

    return synth


def error_stream(name: str, seed: int, width: int, n: int = 2 * CHANGE_AT) -> list[int]:
    """Prequential 0/1 errors of Gaussian naive Bayes on a stream with one concept change."""
    from river import naive_bayes

    make = QUALITY_STREAMS[name]
    stream = _synth().ConceptDriftStream(
        stream=make(seed, 0),
        drift_stream=make(seed + 1, 2),
        position=CHANGE_AT,
        width=width,
        seed=seed,
    )
    model = naive_bayes.GaussianNB()
    errors = []
    for x, y in stream.take(n):
        errors.append(int(model.predict_one(x) != y))
        model.learn_one(x, y)
    return errors


def score(hits: list[int], start: int, max_delay: int) -> tuple[int, int, int | None]:
    """True detections (0/1), false alarms and delay for one change starting at ``start``."""
    true = [h for h in hits if start <= h <= start + max_delay]
    delay = true[0] - start if true else None
    return (1 if true else 0), len(hits) - (1 if true else 0), delay


def quality_rows(seeds: int, max_delay: int) -> list[str]:
    river = _river_cases()
    pairs = [c for c in cases() if c.name != "ADWIN-python"]  # same detections as ADWIN
    totals: dict[tuple[str, str], list[Any]] = {}
    for name in QUALITY_STREAMS:
        # width 50 is river's steepest change that does not overflow its sigmoid
        for width in (50, 1000):
            for seed in range(seeds):
                errors = error_stream(name, seed, width)
                start = CHANGE_AT - width // 2
                for case in pairs:
                    libs = [("driftline", case.ours)]
                    # river's KSWIN needs ~0.5 ms a value: it is left out of this table
                    if case.name in river and case.name != "KSWIN":
                        libs.append(("river", river[case.name]))
                    for lib, factory in libs:
                        _, hits = time_loop(factory, errors)
                        tally = totals.setdefault((case.name, lib), [0, 0, [], 0])
                        true, false, delay = score(hits, start, max_delay + width)
                        tally[0] += true
                        tally[1] += false
                        tally[3] += 1
                        if delay is not None:
                            tally[2].append(delay)
    rows = []
    for (name, lib), (true, false, delays, runs) in totals.items():
        mean_delay = f"{statistics.mean(delays):.0f}" if delays else "-"
        rows.append(
            f"| {name:<12} | {lib:<9} | {true:>3} / {runs:<3} | {false:>12} | {mean_delay:>10} |"
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-update", type=int, default=200_000, help="values per update run")
    parser.add_argument("--n-many", type=int, default=1_000_000, help="values per bulk run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per library (median)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--timer",
        choices=["wall", "cpu"],
        default="wall",
        help="speed: wall-clock time, or this process's CPU time (steadier on a busy machine)",
    )
    parser.add_argument("--only", nargs="*", help="detector names to run (default: all)")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed tables")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality table")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per quality stream")
    parser.add_argument("--max-delay", type=int, default=1000, help="quality: max delay")
    args = parser.parse_args(argv)
    selected = [c for c in cases() if not args.only or c.name in args.only]
    if not _river_cases():
        print("river is not installed: only driftline's speed is shown, and no quality table")
    if not args.no_speed:
        speed_tables(selected, args)
    if not args.no_quality and _river_cases():
        runs = len(QUALITY_STREAMS) * 2 * args.seeds
        print(
            f"\nDetection quality: {runs} streams (SEA, Agrawal, STAGGER x abrupt, gradual x"
            f" {args.seeds} seeds), one change each; max delay {args.max_delay} (+ width)\n"
        )
        print("| detector     | library   | true det. | false alarms | mean delay |")
        print("|--------------|-----------|-----------|--------------|------------|")
        for row in quality_rows(args.seeds, args.max_delay):
            print(row, flush=True)


def speed_tables(selected: list[Case], args: argparse.Namespace) -> None:
    timer = time.process_time if args.timer == "cpu" else time.perf_counter
    print("\nPer update (ns per value, median; ratio > 1 means driftline is faster)\n")
    print("| detector     |    values | driftline  | river      |  ratio  | same |")
    print("|--------------|-----------|------------|------------|---------|------|")
    for case in selected:
        print(per_update_row(case, args.n_update, args.repeats, args.seed, timer), flush=True)

    print("\nBulk: driftline update_many (million values/s, median) vs river's update loop\n")
    print("| detector     |    values | detections | driftline M/s| river M/s    | same |")
    print("|--------------|-----------|------------|--------------|--------------|------|")
    for case in selected:
        if case.scale == 1.0:
            print(bulk_row(case, args.n_many, args.repeats, args.seed, timer), flush=True)


if __name__ == "__main__":
    main()
