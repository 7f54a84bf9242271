"""Prediction-log throughput: how cheap is ``submit`` on the request path (issue 6).

Four threads (``--threads``) submit single-row batches as fast as they can for
``--seconds``, like server workers logging every request; the writer's one background thread
drains the queue into Parquet segments at the same time. Reports rows/s accepted and
written, rows dropped because the queue was full, and the cost of one ``submit`` call in
microseconds: alone in one thread (the pure cost); under contention, as each thread's CPU time
per call and as its wall time per call (which includes waiting while the other threads and the
writer hold the GIL); and the aggregate wall time per call over all threads.
Run: ``.venv/bin/python benchmarks/predlog_throughput.py --seconds 5``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from driftline.ids import uuid7
from driftline.predlog import PredictionLogWriter, read_predictions

CHUNK = 1_000


def make_rows(count: int, features: int) -> list[dict[str, Any]]:
    """Realistic rows: a 20-feature input, a class, two probabilities."""
    return [
        {
            "prediction_id": str(uuid7()),
            "model": "fraud",
            "version": 3,
            "route": "primary",
            "latency_ms": 0.8,
            "prediction": i % 2,
            "probabilities": [0.3, 0.7],
            "features": {f"x{j}": float(i * j % 97) for j in range(features)},
        }
        for i in range(count)
    ]


def pure_cost(rows: list[dict[str, Any]], calls: int) -> float:
    """Microseconds per submit with one thread and a queue that never fills."""
    with tempfile.TemporaryDirectory() as folder:
        writer = PredictionLogWriter(folder, max_queue=calls + 1)
        batches = [[rows[i % len(rows)]] for i in range(calls)]
        submit = writer.submit
        start = time.perf_counter()
        for batch in batches:
            submit(batch)
        elapsed = time.perf_counter() - start
        writer.close()
    return elapsed / calls * 1e6


def hammer(
    writer: PredictionLogWriter, rows: list[dict[str, Any]], until: float, out: dict
) -> None:
    batches = [[row] for row in rows]
    submit, calls, accepted, busy, cpu = writer.submit, 0, 0, 0.0, 0.0
    while time.perf_counter() < until:
        start, start_cpu = time.perf_counter(), time.thread_time()
        for batch in batches[:CHUNK]:
            accepted += submit(batch)
        cpu += time.thread_time() - start_cpu
        busy += time.perf_counter() - start
        calls += CHUNK
        batches.append(batches.pop(0))  # rotate so rows differ between chunks
    out.update(calls=calls, accepted=accepted, busy=busy, cpu=cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--max-queue", type=int, default=10_000)
    args = parser.parse_args()
    rows = make_rows(4 * CHUNK, args.features)
    print(f"pure submit cost (1 thread, no contention): {pure_cost(rows, 200_000):.3f} us/call")
    with tempfile.TemporaryDirectory() as folder:
        writer = PredictionLogWriter(folder, max_queue=args.max_queue).start()
        results: list[dict] = [{} for _ in range(args.threads)]
        start = time.perf_counter()
        until = start + args.seconds
        threads = [
            threading.Thread(target=hammer, args=(writer, rows, until, results[i]))
            for i in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        submitted_for = time.perf_counter() - start
        writer.close()
        total = time.perf_counter() - start
        on_disk = len(read_predictions(Path(folder), columns=["prediction_id"]))
    calls = sum(r["calls"] for r in results)
    per_thread = [r["busy"] / r["calls"] * 1e6 for r in results]
    cpu_per_call = [r["cpu"] / r["calls"] * 1e6 for r in results]
    print(
        f"{args.threads} threads x {args.seconds:g}s, single-row batches, {args.features} features"
    )
    print(f"submit calls:      {calls:,} ({calls / submitted_for:,.0f} calls/s)")
    accepted_rate = writer.accepted / submitted_for
    print(f"accepted:          {writer.accepted:,} rows ({accepted_rate:,.0f} rows/s)")
    print(f"dropped:           {writer.dropped:,} rows (queue of {args.max_queue:,} full)")
    print(
        f"written:           {writer.written:,} rows in {writer.segments} segments "
        f"({writer.written / total:,.0f} rows/s incl. final drain); read back {on_disk:,}"
    )
    print(
        f"submit under contention: median {statistics.median(per_thread):.3f} us/call per thread "
        f"(wall time, GIL shared by {args.threads} submitters + the writer)"
    )
    print(
        f"submit CPU time:   median {statistics.median(cpu_per_call):.3f} us/call per thread "
        "(thread CPU time: the cost without the waits for the GIL)"
    )
    print(f"aggregate cost:    {submitted_for / calls * 1e6:.3f} us of wall time per call")


if __name__ == "__main__":
    main()
