"""The prediction log written by a child process through a shared-memory ring."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.exceptions import UnavailableError, ValidationError
from driftline.predlog import (
    PredictionBatch,
    PredictionLogWriter,
    ProcessLogWriter,
    features_frame,
    read_predictions,
)
from driftline.predlog._ring import Ring, batch_frame, read_frame
from driftline.serving import ServingOptions

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="needs memfd_create")

NAMES = ("amount", "age", "score")
T0 = datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=UTC)


def numeric_batch(start: int, n: int, *, route: str | None = "champion") -> PredictionBatch:
    rng = np.random.default_rng(start)
    return PredictionBatch(
        model="fraud",
        version=3,
        prediction_ids=[f"id-{i:06d}" for i in range(start, start + n)],
        predictions=rng.integers(0, 2, n),
        features=rng.random((n, len(NAMES))),
        feature_names=NAMES,
        probabilities=rng.random((n, 2)),
        route=route,
        latency_ms=rng.random(n),
        time=T0,
    )


def frame_batch(start: int, n: int) -> PredictionBatch:
    """Features as a DataFrame with text: the frame travels pickled."""
    return PredictionBatch(
        model="fraud",
        version=3,
        prediction_ids=[f"id-{i:06d}" for i in range(start, start + n)],
        predictions=np.array(["yes", "no"] * (n // 2) + ["yes"] * (n % 2), dtype=object),
        features=pd.DataFrame({"country": ["FR"] * n, "amount": np.arange(n, dtype=float)}),
        feature_names=("country", "amount"),
        latency_ms=2.5,
        time=T0,
    )


def sorted_rows(folder: Path) -> pd.DataFrame:
    frame = read_predictions(folder)
    return frame.sort_values("prediction_id").reset_index(drop=True)


@pytest.fixture(params=["fork", "spawn"])
def start_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways the child starts: forked (one thread here) or a fresh interpreter."""
    count = 1 if request.param == "fork" else 2
    monkeypatch.setattr(threading, "active_count", lambda: count)
    return str(request.param)


def test_rows_read_back_like_the_thread_writer(tmp_path: Path, start_mode: str) -> None:
    batches = [numeric_batch(0, 50), numeric_batch(50, 7, route=None), numeric_batch(57, 1)]
    rows = [{"model": "fraud", "version": 3, "prediction_id": "id-900000", "prediction": 1,
             "features": {"amount": 1.0, "age": 2.0, "score": 3.0}, "time": T0}]  # fmt: skip
    with ProcessLogWriter(tmp_path / "process") as log:
        assert isinstance(log._child, int) is (start_mode == "fork")
        accepted = sum(log.submit_batch(b) for b in batches) + log.submit(rows)
        log.flush()
        assert log.written == accepted == 59  # visible once flush returns
    with PredictionLogWriter(tmp_path / "thread") as reference:
        for b in batches:
            reference.submit_batch(b)
        reference.submit(rows)
    ours, theirs = sorted_rows(tmp_path / "process"), sorted_rows(tmp_path / "thread")
    pd.testing.assert_frame_equal(ours, theirs)
    pd.testing.assert_frame_equal(features_frame(ours), features_frame(theirs))
    assert ours["time"].iloc[0] == pd.Timestamp(T0)  # microseconds survive the trip


def test_batches_that_are_not_plain_arrays_travel_pickled(tmp_path: Path) -> None:
    with ProcessLogWriter(tmp_path) as log:
        assert log.submit_batch(frame_batch(0, 5)) == 5
        assert log.submit_batch(numeric_batch(5, 3)) == 3
    frame = sorted_rows(tmp_path)
    assert len(frame) == 8
    assert frame["prediction"].iloc[:5].tolist() == ["yes", "no", "yes", "no", "yes"]
    assert features_frame(frame.iloc[:5])["country"].tolist() == ["FR"] * 5


def test_the_ring_wraps_many_times_without_losing_or_mixing_rows(tmp_path: Path) -> None:
    # 200 rows of queue is the smallest ring (64 KiB); ~150 KB of frames go through it.
    with ProcessLogWriter(tmp_path, max_queue=200) as log:
        sent = 0
        for i in range(100):
            batch = numeric_batch(sent, 1 + i % 13)
            while not log.submit_batch(batch):  # full: let the child catch up
                time.sleep(0.005)
            sent += len(batch)
        log.flush()
    frame = sorted_rows(tmp_path)
    assert frame["prediction_id"].tolist() == [f"id-{i:06d}" for i in range(sent)]
    first = numeric_batch(0, 1)
    assert features_frame(frame.iloc[:1]).to_numpy().tolist() == first.features.tolist()


def test_a_full_ring_drops_and_counts_without_waiting(tmp_path: Path) -> None:
    ring = Ring.create(1 << 16)
    try:
        parts, kind = batch_frame(numeric_batch(0, 100))
        fits = 0
        while ring.put(parts, kind):
            fits += 1
        assert fits >= 2 and ring.used <= ring.capacity
        frames = list(ring.frames())
        assert len(frames) == fits and ring.used == 0
        again = read_frame(*frames[-1])
        assert isinstance(again, PredictionBatch)
        assert list(again.prediction_ids) == [f"id-{i:06d}" for i in range(100)]
        assert ring.put(parts, kind)  # the space came back
    finally:
        ring.close()


def test_a_dead_writer_process_is_reported_and_rows_are_dropped(tmp_path: Path) -> None:
    drops: list[int] = []
    log = ProcessLogWriter(tmp_path, max_queue=200, on_drop=drops.append).start()
    try:
        child = log._child
        pid = child if isinstance(child, int) else child.pid
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while log.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not log.running
        accepted = [log.submit_batch(numeric_batch(i * 50, 50)) for i in range(40)]
        assert 0 in accepted  # nobody empties the ring any more
        assert log.dropped == sum(drops) > 0
        with pytest.raises(UnavailableError, match="writer process has stopped"):
            log.flush()
        # The rows the ring held are lost too, and counted: none is unaccounted for.
        assert log.written == 0 and log.dropped == sum(drops) == 40 * 50
    finally:
        log.close()


def test_close_writes_everything_and_then_refuses_rows(tmp_path: Path) -> None:
    log = ProcessLogWriter(tmp_path).start()
    assert log.submit_batch(numeric_batch(0, 40)) == 40
    log.close()  # no flush first
    assert log.written == 40 and not log.running
    assert log.submit_batch(numeric_batch(40, 5)) == 0
    assert log.dropped == 5
    assert len(read_predictions(tmp_path)) == 40


def test_sampling_keeps_the_same_ids_as_the_thread_writer(tmp_path: Path) -> None:
    batch = numeric_batch(0, 400)
    with ProcessLogWriter(tmp_path / "p", sample_rate=0.3) as log:
        kept = log.submit_batch(batch)
        assert kept + log.sampled_out == 400
    with PredictionLogWriter(tmp_path / "t", sample_rate=0.3) as reference:
        reference.submit_batch(batch)
    ours = set(read_predictions(tmp_path / "p")["prediction_id"])
    assert ours == set(read_predictions(tmp_path / "t")["prediction_id"])
    assert 60 < len(ours) == kept < 180


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_rate": 0}, "sample_rate"),
        ({"max_queue": 0}, "max_queue"),
        ({"start_method": "forkserver"}, "start_method must be one of auto, fork, spawn"),
    ],
)
def test_bad_settings_name_the_field(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProcessLogWriter(tmp_path, **kwargs)


def test_serving_option_log_writer_is_checked() -> None:
    with pytest.raises(ValidationError, match="log_writer must be one of process, thread"):
        ServingOptions(log_writer="disk").check()
    assert ServingOptions(log_writer="thread").check().log_writer == "thread"


def test_flush_with_nothing_new_does_not_wait_for_the_child(tmp_path: Path) -> None:
    from driftline.predlog._ring import FLUSH_ASKED

    with ProcessLogWriter(tmp_path) as log:
        assert log._ring is not None
        log.flush()  # at start-up: nothing to wait for (a fresh child may still be importing)
        assert int(log._ring.words[FLUSH_ASKED]) == 0
        log.submit_batch(numeric_batch(0, 3))
        log.flush()
        log.flush()  # the second has nothing new either
        assert int(log._ring.words[FLUSH_ASKED]) == 1 and log.written == 3


def test_rows_queued_before_start_are_written_by_a_child_forked_among_threads(
    tmp_path: Path,
) -> None:
    idle = threading.Event()
    other = threading.Thread(target=idle.wait, daemon=True)  # a pool thread waiting for work
    other.start()
    log = ProcessLogWriter(tmp_path, start_method="fork").open()
    try:
        assert log.submit_batch(numeric_batch(0, 30)) == 30  # no child yet: it waits in the ring
        assert not log.running and log.written == 0
        log.flush()  # nobody to wait for yet
        log.start()
        assert isinstance(log._child, int)  # forked, although two threads run here
        assert log.submit_batch(numeric_batch(30, 20)) == 20
        log.flush()
        assert log.written == 50
    finally:
        log.close()
        idle.set()
    assert sorted_rows(tmp_path)["prediction_id"].tolist() == [f"id-{i:06d}" for i in range(50)]


def test_auto_starts_a_fresh_interpreter_when_other_threads_run(tmp_path: Path) -> None:
    idle = threading.Event()
    other = threading.Thread(target=idle.wait, daemon=True)
    other.start()
    try:
        with ProcessLogWriter(tmp_path) as log:
            assert not isinstance(log._child, int) and log.running
    finally:
        idle.set()


def test_rows_of_a_log_opened_but_never_started_are_counted_as_dropped(tmp_path: Path) -> None:
    drops: list[int] = []
    log = ProcessLogWriter(tmp_path, on_drop=drops.append).open()
    assert log.submit_batch(numeric_batch(0, 12)) == 12
    log.close()
    assert log.dropped == sum(drops) == 12 and log.written == 0
    assert log._ring is not None and log._ring.fd == -1  # nothing left open


def test_close_kills_a_child_that_does_not_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftline.predlog._process_writer as module

    monkeypatch.setattr(module, "_CLOSE_TIMEOUT_S", 0.5)
    drops: list[int] = []
    log = ProcessLogWriter(tmp_path, on_drop=drops.append).start()
    child = log._child
    os.kill(child if isinstance(child, int) else child.pid, signal.SIGSTOP)  # hangs
    assert log.submit_batch(numeric_batch(0, 8)) == 8
    started = time.monotonic()
    log.close()
    assert time.monotonic() - started < 10
    assert log.last_error is not None and "was killed" in log.last_error
    assert not log.running and log.dropped == sum(drops) == 8


def test_ids_travel_as_text_and_odd_ids_survive(tmp_path: Path) -> None:
    from driftline.predlog._batches import JoinedIds

    parts, kind = batch_frame(numeric_batch(0, 4))
    body = b"".join(bytes(memoryview(p).cast("B")) for p in parts)
    again = read_frame(kind, body)
    assert isinstance(again, PredictionBatch) and isinstance(again.prediction_ids, JoinedIds)
    assert list(again.prediction_ids) == [f"id-{i:06d}" for i in range(4)]
    assert again.take(slice(1, 3)).prediction_ids == ["id-000001", "id-000002"]

    uneven = dataclasses.replace(numeric_batch(10, 3), prediction_ids=["a", "bb", "ccc"])
    newline = dataclasses.replace(numeric_batch(20, 2), prediction_ids=["x\ny", "z"])
    assert batch_frame(newline)[1] != batch_frame(uneven)[1]  # the newline one goes pickled
    with ProcessLogWriter(tmp_path) as log:
        for batch in (numeric_batch(0, 4), uneven, newline):
            log.submit_batch(batch)
    got = sorted(read_predictions(tmp_path)["prediction_id"])
    assert got == sorted([f"id-{i:06d}" for i in range(4)] + ["a", "bb", "ccc", "x\ny", "z"])


def test_the_child_runs_at_a_lower_priority_than_the_server(
    tmp_path: Path, start_mode: str
) -> None:
    with ProcessLogWriter(tmp_path) as log:
        child = log._child
        pid = child if isinstance(child, int) else child.pid
        assert isinstance(child, int) == (start_mode == "fork")
        log.submit_batch(numeric_batch(0, 2))
        log.flush()  # the child is past its start-up
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(ours + 5, 19)
