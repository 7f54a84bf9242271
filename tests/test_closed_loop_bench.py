"""The closed-loop benchmark's core, on one short stream with one abrupt change of concept."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("river")

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "closed_loop.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("closed_loop_bench", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_retraining_policies_recover_from_an_abrupt_drift() -> None:
    bench = _bench()
    # Agrawal function 0 then 1 (a model of the first is right about half the time on the
    # second), 1000 rows to train v1, 8 windows of 500 replayed, the change at replay row 1000.
    stream = bench.synthetic_stream(
        "agrawal",
        width=50,
        seed=0,
        train_rows=1000,
        window_rows=500,
        drifts_at=(1000,),
        tail=3000,
    )
    assert stream.replay_rows == 4000 and stream.drifts == ((1000, 50),)

    results = bench.evaluate_stream(stream, periodic_every=(1,))

    static, periodic, driftline, oracle = (
        results[p] for p in ("static", "periodic-1w", "driftline", "oracle")
    )
    assert static.retrains == 0
    assert periodic.retrains == 7  # after every window but the first (no labels yet)
    assert 1 <= driftline.retrains < periodic.retrains and driftline.promotions >= 1
    assert 1 <= oracle.retrains < periodic.retrains
    assert oracle.accuracy > static.accuracy + 0.1
    assert driftline.accuracy > static.accuracy + 0.05
