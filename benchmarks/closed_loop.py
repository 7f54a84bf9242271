"""Closed loop: prequential accuracy and retrains of four retraining policies on drifting streams.

Every row is predicted by the model serving at that moment, and its label counts for the
accuracy. Labels arrive one window late, as in the demo: after window k is served, the labels
of window k-1 come in and each policy may retrain; the new model serves from window k+1.

Policies (one model family, one training-window rule; only *when* to retrain differs):

- ``static``: v1, trained on the rows before the replay, never retrained.
- ``periodic``: retrains every N replayed rows (``--periodic`` lists N in windows).
- ``driftline``: the real closed loop of ``driftline demo`` (``DemoLoop``) run in process
  (``InProcessTransport``: no HTTP server, the alias moves at once through a
  ``DirectPromoter``) in a temporary SQLite workspace: the drift monitor stores an event per
  window, the controller evaluates ``DriftTrigger(n=2, m=3, min_share=0.5)``,
  ``PerformanceTrigger(min_labels=window, max_relative_drop=0.08)`` and
  ``FollowUpTrigger(every_rows=window, count=3)`` (after a change that hurt, one retrain per
  window of new labels until the training window is past the change), the arbiter applies
  ``ArbiterPolicy(cooldown=0, budget=20, breaker_after=4)``, and the executor trains a
  challenger and promotes it when the statistical comparison with the champion says it is
  not worse (``min_improvement=-0.01``: the lower bound of the 95% interval of the
  improvement above -1 point).
  Its retrains count every challenger trained, promoted or not.
- ``oracle`` (synthetic streams): knows where each drift is. It retrains at every cycle from the
  first whose training rows include rows from after the drift began, until the first whose
  training rows all come from after it ended.

The training rows of every retrain, whatever the policy, are the ones driftline's executor
uses (its ``RetrainPolicy`` is read from the loop): the newest ``3 x window`` labelled rows,
of which the oldest 70% are trained on (driftline holds the newest 30% out to compare the
challenger with the champion; the other policies do not use them). The model is the demo's
``train_model`` (one-hot text columns, a 40-tree random forest, seed 0), as the executor runs it.

Streams: Elec2 and Bank Marketing as the demo ships them (the demo's first rows and windows,
replayed to the end of the file; their order is fixed and the executor always trains with seed
0, so they run once), and river's SEA (variants 0, 1, 2, 3, 10% label noise) and Agrawal
(functions 0, 1, 2, 3): the MOA SEA/AGR four-concept convention, joined with
``ConceptDriftStream`` at known positions, abrupt (width 200, a fifth of a window: river's
sigmoid overflows ``math.exp`` when position / width passes ~177) or gradual (width 2000), one
run per seed: v1 trains on 3,000 rows, then 32,000 are replayed in windows of 1,000 with the
changes centred on replay rows 8,000, 16,000 and 24,000 (each concept lasts 8 windows, twice
the ~4 a policy needs before its training rows all come from the new concept: one window of
label delay plus a 3-window training window). Numbers are means over seeds.

    python benchmarks/closed_loop.py                  # the README table (~5 min on 2 cores)
    python benchmarks/closed_loop.py --quick          # smoke run, under a minute
    python benchmarks/closed_loop.py --streams sea-abrupt elec2 --seeds 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftline.config import Settings
from driftline.demo import SCENARIOS, DemoLoop, InProcessTransport, Scenario
from driftline.retraining import RetrainPolicy
from driftline.workspace import Workspace

POLICIES = ("static", "periodic", "driftline", "oracle")
SYNTHETIC = {
    "sea-abrupt": ("sea", 200),
    "sea-gradual": ("sea", 2000),
    "agrawal-abrupt": ("agrawal", 200),
    "agrawal-gradual": ("agrawal", 2000),
}
STREAMS = ("elec2", "bank", *SYNTHETIC)
MIN_GAP = 0.005  # below half a point of accuracy, "share of the gap recovered" is noise


@dataclass(frozen=True)
class Stream:
    """A time-ordered labelled frame, how the loop cuts it, and where its drifts are.

    ``drifts`` are (centre, width) in rows of the replay (0 = first replayed row).
    """

    name: str
    frame: pd.DataFrame = field(repr=False)
    target: str
    train_rows: int
    window_rows: int
    drifts: tuple[tuple[int, int], ...] = ()

    @property
    def replay_rows(self) -> int:
        """Whole windows after the first rows."""
        return (len(self.frame) - self.train_rows) // self.window_rows * self.window_rows


@dataclass(frozen=True, eq=False)
class _FrameScenario(Scenario):
    """A demo scenario whose data is a frame in memory."""

    frame: pd.DataFrame | None = field(default=None, repr=False)

    def load(self) -> pd.DataFrame:
        if self.frame is None:
            raise ValueError("a frame scenario needs its frame")
        return self.frame


@dataclass(frozen=True)
class Result:
    """One policy on one stream and seed."""

    accuracy: float
    retrains: int
    promotions: int | None = None


# -- streams -------------------------------------------------------------------------------
def real_stream(name: str, *, windows: int | None = None) -> Stream:
    """A demo scenario's data, replayed to the end (or for ``windows`` windows)."""
    scenario = SCENARIOS[name]
    frame = scenario.load()
    if windows is not None:
        frame = frame.iloc[: scenario.train_rows + windows * scenario.window_rows]
    return Stream(name, frame, scenario.target, scenario.train_rows, scenario.window_rows)


def synthetic_stream(
    kind: str,
    *,
    width: int,
    seed: int,
    train_rows: int = 3000,
    window_rows: int = 1000,
    drifts_at: Sequence[int] = (8000, 16000, 24000),
    tail: int = 8000,
    name: str | None = None,
) -> Stream:
    """SEA or Agrawal with a change of concept centred on each of ``drifts_at`` (replay rows)."""
    import itertools

    from river.datasets import synth

    concepts: list[Any]
    if kind == "sea":
        concepts = [synth.SEA(variant=v, noise=0.1, seed=seed * 10 + v) for v in range(4)]
    elif kind == "agrawal":
        concepts = [synth.Agrawal(classification_function=f, seed=seed * 10 + f) for f in range(4)]
    else:
        raise ValueError(f"unknown synthetic stream kind {kind!r}; use 'sea' or 'agrawal'")
    stream = concepts[0]
    for i, at in enumerate(drifts_at, start=1):
        stream = synth.ConceptDriftStream(
            stream, concepts[i], position=train_rows + at, width=width, seed=seed * 100 + i
        )
    n = train_rows + (drifts_at[-1] if drifts_at else 0) + tail
    rows = [
        {**{_column(k): v for k, v in x.items()}, "y": str(int(y))}
        for x, y in itertools.islice(stream, n)
    ]
    return Stream(
        name or f"{kind}-w{width}",
        pd.DataFrame(rows),
        "y",
        train_rows,
        window_rows,
        tuple((at, width) for at in drifts_at),
    )


def _column(key: Any) -> str:
    return f"x{key}" if isinstance(key, int) else str(key)


def make_stream(name: str, seed: int, *, quick: bool = False) -> Stream:
    """The named stream (``STREAMS``); ``quick`` makes it short."""
    if name in SCENARIOS:
        return real_stream(name, windows=8 if quick else None)
    kind, width = SYNTHETIC[name]
    if quick:
        return synthetic_stream(
            kind, width=min(width, 1000), seed=seed, drifts_at=(2000,), tail=6000, name=name
        )
    return synthetic_stream(kind, width=width, seed=seed, name=name)


# -- policies ------------------------------------------------------------------------------
def run_driftline(stream: Stream) -> tuple[Result, Any, RetrainPolicy]:
    """The demo's loop in process; returns its result, v1 and its retrain policy."""
    scenario = _FrameScenario(
        name="bench",
        file="",
        target=stream.target,
        train_rows=stream.train_rows,
        replay_rows=stream.replay_rows,
        window_rows=stream.window_rows,
        frame=stream.frame,
    )
    with tempfile.TemporaryDirectory(prefix="driftline-closed-loop-") as home:
        settings = Settings(home=Path(home)).model_copy(
            update={"db_url": None, "artifacts": None, "admin_token": None}
        )
        with Workspace.open(settings=settings) as ws:
            loop = DemoLoop(ws, scenario, transport=InProcessTransport(ws, scenario.name))
            summary = loop.run()
    result = Result(summary["accuracy_driftline"], summary["retrains"], summary["promotions"])
    return result, loop.v1, loop.controller.policy


def replay_schedule(
    stream: Stream, v1: Any, policy: RetrainPolicy, retrain: Callable[[int], bool]
) -> Result:
    """Replay with v1 first; after window k, retrain when ``retrain(k)`` says so (and enough
    labelled rows exist), on the rows driftline's executor would use."""
    rows = stream.frame.iloc[stream.train_rows : stream.train_rows + stream.replay_rows]
    rows = rows.reset_index(drop=True)
    features, labels = rows.drop(columns=[stream.target]), rows[stream.target].astype(str)
    w, model, correct, retrains = stream.window_rows, v1, 0, 0
    for k in range(stream.replay_rows // w):
        window = slice(k * w, (k + 1) * w)
        predicted = np.asarray(model.predict(features.iloc[window])).astype(str)
        correct += int((predicted == labels.iloc[window].to_numpy()).sum())
        labelled = k * w  # the labels of windows 0 .. k-1 are in
        if not retrain(k) or labelled < policy.min_rows:
            continue
        start, cut = _training_rows(labelled, policy)
        train = rows.iloc[start:cut].copy()
        train[stream.target] = labels.iloc[start:cut]
        random.seed(0)
        np.random.seed(0)  # as the executor's training run seeds them
        model = policy.train_fn(train.reset_index(drop=True), {**policy.params, "seed": 0})
        retrains += 1
    return Result(correct / stream.replay_rows, retrains)


def _training_rows(labelled: int, policy: RetrainPolicy) -> tuple[int, int]:
    """Replay rows [start, cut) a retrain with ``labelled`` labels trains on."""
    start = max(0, labelled - policy.window_rows)
    n = labelled - start
    return start, labelled - max(1, round(n * policy.holdout_share))


def periodic(every_windows: int) -> Callable[[int], bool]:
    """Retrain whenever another ``every_windows`` windows were replayed."""
    return lambda k: (k + 1) % every_windows == 0


def oracle(stream: Stream, policy: RetrainPolicy) -> Callable[[int], bool]:
    """Retrain while the training rows straddle a drift, and once they are all after it."""
    w = stream.window_rows

    def due(k: int) -> bool:
        cut = _training_rows(k * w, policy)[1]
        previous_start = _training_rows(max(0, (k - 1) * w), policy)[0]
        return any(
            cut > centre - width / 2 and previous_start < centre + width / 2
            for centre, width in stream.drifts
        )

    return due


def evaluate_stream(stream: Stream, *, periodic_every: Sequence[int] = (1, 3)) -> dict[str, Result]:
    """Every policy on one stream: ``periodic-<n>w`` for each n of ``periodic_every``."""
    results: dict[str, Result] = {}
    results["driftline"], v1, policy = run_driftline(stream)
    results["static"] = replay_schedule(stream, v1, policy, lambda _k: False)
    for n in periodic_every:
        results[f"periodic-{n}w"] = replay_schedule(stream, v1, policy, periodic(n))
    if stream.drifts:
        results["oracle"] = replay_schedule(stream, v1, policy, oracle(stream, policy))
    return results


# -- the account ---------------------------------------------------------------------------
def standard_error(accuracy: float, rows: int) -> float:
    """The standard error of an accuracy measured on ``rows`` rows: "matches" is within it."""
    return math.sqrt(accuracy * (1 - accuracy) / rows)


def summarise(name: str, runs: list[dict[str, Result]], stream: Stream) -> dict[str, Any]:
    """Means over seeds, and whether the issue's goal holds: driftline's accuracy matches
    (within one standard error over the replayed rows of all seeds) or beats periodic's with
    at most half its retrains; it recovers at least half the static-oracle gap."""
    policies = list(runs[0])
    rows = stream.replay_rows * len(runs)
    mean = {
        p: {
            "accuracy": statistics.fmean(r[p].accuracy for r in runs),
            "retrains": statistics.fmean(r[p].retrains for r in runs),
        }
        for p in policies
    }
    promotions = [r["driftline"].promotions or 0 for r in runs]
    mean["driftline"]["promotions"] = statistics.fmean(promotions)
    dl = mean["driftline"]
    goal: dict[str, Any] = {}
    for p in (p for p in policies if p.startswith("periodic")):
        goal[f"vs_{p}"] = (
            dl["accuracy"] >= mean[p]["accuracy"] - standard_error(mean[p]["accuracy"], rows)
            and dl["retrains"] <= mean[p]["retrains"] / 2
        )
    if "oracle" in mean:
        gap = mean["oracle"]["accuracy"] - mean["static"]["accuracy"]
        meaningful = gap >= MIN_GAP
        recovered = (dl["accuracy"] - mean["static"]["accuracy"]) / gap if meaningful else None
        goal.update(gap=gap, gap_recovered=recovered)
        goal["half_gap"] = recovered >= 0.5 if recovered is not None else None
    return {
        "stream": name,
        "rows": stream.replay_rows,
        "window_rows": stream.window_rows,
        "seeds": len(runs),
        "policies": mean,
        "goal": goal,
        "runs": [{p: r[p].__dict__ for p in r} for r in runs],
    }


def markdown(rows: list[dict[str, Any]], periodic_every: Sequence[int]) -> str:
    """The README table."""
    cols = ["static", *(f"periodic-{n}w" for n in periodic_every), "driftline", "oracle"]
    heads = ["static", *(f"periodic every {n} w" for n in periodic_every), "driftline", "oracle"]
    checks = [f"goal vs periodic {n} w" for n in periodic_every]
    lines = [
        "| stream | rows (window) | seeds | "
        + " | ".join(heads)
        + " | "
        + " | ".join(checks)
        + " | gap recovered |",
        "|" + "---|" * (3 + len(heads) + len(checks) + 1),
    ]
    for row in rows:
        cells = []
        for c in cols:
            m = row["policies"].get(c)
            if m is None:
                cells.append("-")
                continue
            extra = f", {m['promotions']:.3g} promoted" if c == "driftline" else ""
            cells.append(f"{m['accuracy']:.3f} ({m['retrains']:.3g} retrains{extra})")
        goal = row["goal"]
        verdicts = ["yes" if goal[f"vs_periodic-{n}w"] else "no" for n in periodic_every]
        gap = _gap_cell(goal)
        lines.append(
            f"| {row['stream']} | {row['rows']:,} ({row['window_rows']:,}) | {row['seeds']} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(verdicts)
            + f" | {gap} |"
        )
    return "\n".join(lines)


def _gap_cell(goal: dict[str, Any]) -> str:
    if "gap" not in goal:
        return "-"
    if goal["gap_recovered"] is None:
        return f"n/a (oracle - static = {goal['gap']:+.3f})"
    verdict = "yes" if goal["half_gap"] else "no"
    return f"{goal['gap_recovered']:.0%} of {goal['gap']:.3f} ({verdict})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", nargs="+", choices=STREAMS, default=list(STREAMS))
    parser.add_argument("--seeds", type=int, default=3, help="seeds per synthetic stream")
    parser.add_argument(
        "--periodic",
        type=int,
        nargs="+",
        default=[1, 3],
        help="periodic retraining every N windows (one column each)",
    )
    parser.add_argument("--quick", action="store_true", help="short streams, one seed")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.seeds < 1 or min(args.periodic) < 1:
        parser.error("--seeds and --periodic need whole numbers >= 1")
    logging.getLogger("driftline.alerts").disabled = True  # the loop's alert log channel
    seeds = 1 if args.quick else args.seeds
    started, table = time.perf_counter(), []
    for name in args.streams:
        runs = []
        for seed in range(1) if name in SCENARIOS else range(seeds):
            stream = make_stream(name, seed, quick=args.quick)
            tick = time.perf_counter()
            runs.append(evaluate_stream(stream, periodic_every=args.periodic))
            brief = ", ".join(f"{p} {r.accuracy:.3f}/{r.retrains}" for p, r in runs[-1].items())
            print(f"{name} seed {seed}: {brief} ({time.perf_counter() - tick:.0f} s)", flush=True)
        table.append(summarise(name, runs, stream))
    elapsed = time.perf_counter() - started
    print()
    print(markdown(table, args.periodic))
    print(
        "\nMeans over seeds (real streams run once: their order is fixed and retraining is "
        "seeded). Periodic every N w = every N windows of the stream's window size. "
        f"Wall time {elapsed:.0f} s."
    )
    if args.json:
        settings = {"periodic_every_windows": args.periodic, "seeds": seeds, "quick": args.quick}
        report = {"settings": settings, "streams": table, "wall_time_s": elapsed}
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
