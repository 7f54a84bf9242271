"""driftline.drift against a plain per-column scipy loop doing the same tests.

Data: ``--rows`` reference rows and as many current rows, 20 numeric columns (normal,
lognormal, uniform, integer counts, 1% missing in some) and 5 categorical string columns
(3 to 40 labels; the current side shifts some of them and adds a new label). Both sides
compute, for every numeric column, KS, Wasserstein (normed by the reference std), PSI and
Jensen-Shannon on 10 reference-quantile bins; for every categorical column chi-square and
Jensen-Shannon; and per column the missing shares and the share of unseen labels.

Three timings, interleaved over ``--repeats`` rounds, medians printed:

- ``scipy loop``: ``ks_2samp``, ``wasserstein_distance``, ``np.histogram`` (once, shared by
  PSI and JS), ``pandas.value_counts`` and ``chisquare``, column after column;
- ``driftline fit+report``: ``compare(reference_frame, current_frame)`` (profiles the
  reference and tests everything exactly);
- ``driftline vs profile``: ``compare(stored_profile, current_frame)`` with the reference
  profile fitted beforehand (loaded from its JSON outside the timing).

Then one more run of each driftline path for its peak extra memory: growth of the resident
set (sampled every 2 ms) and the tracemalloc peak, against the size of the two input frames.

Run: ``python benchmarks/drift_vs_scipy.py --rows 1000000 --repeats 3``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from driftline.drift import Profile, compare

N_NUMERIC = 20
N_CATEGORICAL = 5
# auto mode decides with Wasserstein (numeric) and Jensen-Shannon (categorical) at this size;
# these add the rest of the loop's statistics to every feature
FULL_REPORT = ("ks", "wasserstein", "psi", "jensenshannon", "chisquare")


def make_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames with a few drifted columns."""
    rng = np.random.default_rng(seed)
    return _frame(rng, rows, shift=False), _frame(rng, rows, shift=True)


def _frame(rng: np.random.Generator, rows: int, *, shift: bool) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for i in range(N_NUMERIC):
        delta = 0.05 * (i % 4) if shift else 0.0
        if i % 4 == 0:
            col = rng.normal(delta, 1.0, rows)
        elif i % 4 == 1:
            col = rng.lognormal(delta, 0.8, rows)
        elif i % 4 == 2:
            col = rng.uniform(delta, 1.0 + delta, rows)
        else:
            col = rng.poisson(3.0 + delta * 10, rows).astype(np.float64)
        if i % 5 == 0:
            col[rng.random(rows) < (0.03 if shift else 0.01)] = np.nan
        data[f"num{i}"] = col
    for j in range(N_CATEGORICAL):
        k = 3 + 9 * j
        labels = np.array([f"label_{j}_{v}" for v in range(k + 1)], dtype=object)
        weights = np.linspace(1.0, 2.0, k + 1)
        weights[-1] = 0.02 if shift else 0.0  # a new label appears in the current window
        if shift and j % 2:
            weights[: k // 2] *= 1.2
        data[f"cat{j}"] = pd.Series(labels[rng.choice(k + 1, rows, p=weights / weights.sum())])
    return pd.DataFrame(data)


def scipy_loop(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The plain loop: one column after the other, scipy and numpy calls."""
    out: dict[str, dict[str, float]] = {}
    for name in reference.columns:
        ref, cur = reference[name], current[name]
        res = {"missing_ref": float(ref.isna().mean()), "missing_cur": float(cur.isna().mean())}
        if pd.api.types.is_numeric_dtype(ref.dtype):
            r, c = ref.dropna().to_numpy(), cur.dropna().to_numpy()
            res["ks_p"] = float(stats.ks_2samp(r, c).pvalue)
            res["wasserstein"] = float(stats.wasserstein_distance(r, c) / np.std(r))
            edges = np.unique(np.quantile(r, np.linspace(0, 1, 11)))
            edges[0], edges[-1] = -np.inf, np.inf
            p = np.histogram(r, edges)[0] / len(r)
            q = np.histogram(c, edges)[0] / len(c)
            pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
            res["psi"] = float(np.sum((qf - pf) * np.log(qf / pf)))
            res["js"] = float(jensenshannon(p, q, base=2))
        else:
            rc, cc = ref.value_counts(), cur.value_counts()
            seen = cc.index.isin(rc.index)
            res["unseen"] = float(cc[~seen].sum() / cc.sum())
            aligned = cc.reindex(rc.index, fill_value=0).to_numpy(dtype=np.float64)
            expected = rc.to_numpy(dtype=np.float64) / rc.sum() * aligned.sum()
            res["chi2_p"] = float(stats.chisquare(aligned, expected).pvalue)
            res["js"] = float(
                jensenshannon(rc.to_numpy() / rc.sum(), aligned / aligned.sum(), base=2)
            )
        out[name] = res
    return out


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _peak_extra_bytes(fn: Callable[[], Any]) -> int:
    """Peak of the allocations numpy and Python make during ``fn`` (tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peak_rss_growth(fn: Callable[[], Any]) -> int:
    """Peak resident-set growth during ``fn``, sampled every 2 ms (catches Arrow buffers too)."""
    import psutil

    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return max(0, peak - baseline)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per side")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--jobs", type=int, default=None, help="driftline threads (default: cores)")
    args = parser.parse_args(argv)

    reference, current = make_frames(args.rows)
    input_bytes = int(
        reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
    )
    stored = Profile.from_json(Profile(n_jobs=args.jobs).fit(reference).to_json())

    runs: dict[str, Callable[[], Any]] = {
        "scipy loop": lambda: scipy_loop(reference, current),
        "driftline fit+report": lambda: compare(
            reference, current, extra_methods=FULL_REPORT, n_jobs=args.jobs
        ),
        "driftline vs profile": lambda: compare(
            stored, current, extra_methods=FULL_REPORT, n_jobs=args.jobs
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            times[name].append(_timed(fn))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    base = med["scipy loop"]
    print(
        f"rows per side: {args.rows:,}; columns: {N_NUMERIC} numeric + {N_CATEGORICAL} categorical"
    )
    print(f"input size (both frames): {input_bytes / 2**20:,.0f} MiB; repeats: {args.repeats}")
    for name, value in med.items():
        ratio = (
            "" if name == "scipy loop" else f"   {base / value:5.1f}x faster than the scipy loop"
        )
        print(f"{name:<22} median {value:8.3f} s{ratio}")
    for name in ("driftline fit+report", "driftline vs profile"):
        gc.collect()
        rss = _peak_rss_growth(runs[name])
        traced = _peak_extra_bytes(runs[name])
        print(
            f"{name:<22} peak extra memory: RSS +{rss / 2**20:,.0f} MiB "
            f"({rss / input_bytes:.2f}x input), traced {traced / 2**20:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
