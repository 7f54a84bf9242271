"""PredictionLogWriter: queueing, dropping, sampling, segment closing, failures."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftline.exceptions import ConflictError, UnavailableError, ValidationError
from driftline.predlog import PredictionLogWriter, _segments, read_predictions

from .conftest import T0, FakeClock, segment_rows

Row = Callable[..., dict[str, Any]]


def files(root: Path, pattern: str = "part-*.arrow") -> list[Path]:
    return sorted(root.rglob(pattern))


def test_rows_land_once_and_counters_add_up(
    tmp_path: Path, make_row: Row, clock: FakeClock
) -> None:
    rows = [make_row(i, time=T0) for i in range(250)]
    writer = PredictionLogWriter(tmp_path, segment_rows=100, clock=clock)
    assert writer.submit(rows) == 250
    writer.drain()
    assert [segment_rows(p) for p in files(tmp_path)] == [100, 100]
    writer.close()
    assert sorted(segment_rows(p) for p in files(tmp_path)) == [50, 100, 100]
    assert (writer.accepted, writer.written, writer.segments, writer.dropped) == (250, 250, 3, 0)
    frame = read_predictions(tmp_path)
    assert sorted(frame["prediction_id"]) == sorted(r["prediction_id"] for r in rows)
    assert files(tmp_path, ".*") == [], "a temporary file was left behind"


def test_full_queue_drops_and_counts_while_the_writer_is_held(
    tmp_path: Path, make_row: Row
) -> None:
    gate, landed, drops = threading.Event(), threading.Event(), []
    writer = PredictionLogWriter(
        tmp_path,
        max_queue=10,
        segment_rows=10,
        gate=gate,
        poll_interval=0.005,
        on_drop=drops.append,
        on_segment=lambda path, n: landed.set(),
    ).start()
    accepted = [writer.submit([make_row(i)]) for i in range(25)]
    assert accepted == [1] * 10 + [0] * 15
    assert writer.submit([make_row(i) for i in range(5)]) == 0
    assert (writer.queued, writer.dropped, sum(drops)) == (10, 20, 20)
    assert files(tmp_path) == []
    gate.set()
    assert landed.wait(5.0), "the background thread did not drain after the gate opened"
    assert writer.written == 10
    assert writer.submit([make_row(99)]) == 1
    writer.close()
    assert (writer.accepted, writer.written, writer.dropped) == (11, 11, 20)
    assert not writer.running


def test_partial_batch_is_cut_at_the_queue_limit(tmp_path: Path, make_row: Row) -> None:
    drops: list[int] = []
    writer = PredictionLogWriter(tmp_path, max_queue=8, on_drop=drops.append)
    assert writer.submit([make_row(i) for i in range(5)]) == 5
    assert writer.submit([make_row(i) for i in range(5)]) == 3
    assert drops == [2]
    writer.close()
    assert len(read_predictions(tmp_path)) == 8


def test_many_threads_every_accepted_row_is_written_exactly_once(
    tmp_path: Path, make_row: Row
) -> None:
    writer = PredictionLogWriter(tmp_path, max_queue=2_000, segment_rows=300, poll_interval=0.002)
    writer.start()
    barrier = threading.Barrier(8)
    accepted: list[list[str]] = [[] for _ in range(8)]

    def produce(slot: int) -> None:
        barrier.wait()
        for i in range(1_500):
            row = make_row(i)
            if writer.submit([row]):
                accepted[slot].append(row["prediction_id"])

    threads = [threading.Thread(target=produce, args=(s,)) for s in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    ids = [pid for slot in accepted for pid in slot]
    on_disk = read_predictions(tmp_path, columns=["prediction_id"])["prediction_id"].tolist()
    assert len(on_disk) == len(set(on_disk)), "a row was written twice"
    assert set(on_disk) == set(ids)
    assert writer.written == writer.accepted == len(ids)
    assert writer.accepted + writer.dropped == 8 * 1_500


def test_a_reader_during_writing_sees_only_complete_segments(
    tmp_path: Path, make_row: Row, clock: FakeClock
) -> None:
    writer = PredictionLogWriter(tmp_path, segment_rows=100, clock=clock, poll_interval=0.002)
    writer.start()

    def produce() -> None:
        for batch in range(30):
            writer.submit([make_row(batch * 100 + i, time=T0) for i in range(100)])

    producer = threading.Thread(target=produce)
    producer.start()
    seen = set()
    give_up = time.monotonic() + 30  # a bound for a stuck writer, not a wait for time
    while not seen or max(seen) < 3_000:
        frame = read_predictions(tmp_path, columns=["prediction_id"])
        assert len(frame) % 100 == 0, f"read {len(frame)} rows: a partial segment was visible"
        assert frame["prediction_id"].is_unique
        seen.add(len(frame))
        assert time.monotonic() < give_up, f"the writer stalled at {max(seen)} rows"
    producer.join()
    writer.close()
    assert max(seen) == 3_000 and writer.segments == 30


def test_segment_closes_when_its_hour_ends(tmp_path: Path, make_row: Row) -> None:
    clock = FakeClock(T0.replace(minute=59, second=30))
    writer = PredictionLogWriter(tmp_path, clock=clock)
    # Rows without a time are stamped with the writer's clock.
    writer.submit([{k: v for k, v in make_row(i).items() if k != "time"} for i in range(5)])
    writer.drain()
    assert files(tmp_path) == []
    clock.advance(seconds=35)  # 11:00:05
    writer.submit([make_row(i) for i in range(3)])
    writer.drain()
    assert [p.parent.name for p in files(tmp_path)] == ["hour=2024050110"]
    writer.close()
    assert [p.parent.name for p in files(tmp_path)] == ["hour=2024050110", "hour=2024050111"]
    frame = read_predictions(tmp_path)
    assert frame["time"].dt.hour.tolist() == [10] * 5 + [11] * 3
    assert str(frame["time"].dt.tz) == "UTC"


def test_segment_closes_after_segment_seconds(
    tmp_path: Path, make_row: Row, clock: FakeClock
) -> None:
    writer = PredictionLogWriter(tmp_path, clock=clock, segment_seconds=60)
    writer.submit([make_row(i, time=T0) for i in range(4)])
    writer.drain()
    clock.advance(seconds=59)
    writer.drain()
    assert files(tmp_path) == []
    clock.advance(seconds=1)
    writer.drain()
    assert len(files(tmp_path)) == 1 and writer.written == 4


def test_partitions_by_model_and_version(tmp_path: Path, make_row: Row, clock: FakeClock) -> None:
    with PredictionLogWriter(tmp_path, clock=clock) as writer:
        writer.submit([make_row(0, time=T0), make_row(1, version=4, time=T0)])
        writer.submit([make_row(2, model="churn/eu", time=T0)])
    dirs = sorted(str(p.parent.relative_to(tmp_path)) for p in files(tmp_path))
    assert dirs == [
        "model=churn%2Feu/version=3/hour=2024050110",
        "model=fraud/version=3/hour=2024050110",
        "model=fraud/version=4/hour=2024050110",
    ]
    assert read_predictions(tmp_path, model="churn/eu")["model"].tolist() == ["churn/eu"]


def test_sampling_is_deterministic_by_prediction_id(tmp_path: Path, make_row: Row) -> None:
    rows = [make_row(i) for i in range(4_000)]
    kept = {}
    for rate in (0.3, 0.3, 0.6):
        folder = tmp_path / f"{rate}-{len(kept)}"
        with PredictionLogWriter(folder, sample_rate=rate) as writer:
            accepted = writer.submit(rows)
        assert accepted + writer.sampled_out == len(rows) and writer.dropped == 0
        ids = set(read_predictions(folder, columns=["prediction_id"])["prediction_id"])
        assert len(ids) == accepted
        kept[folder.name] = ids
        sigma = math.sqrt(rate * (1 - rate) / len(rows))
        assert abs(accepted / len(rows) - rate) < 5 * sigma
    first, again, wider = kept.values()
    assert first == again, "the same ids must be kept every time"
    assert first <= wider, "a lower rate keeps a subset of a higher rate's ids"


def test_rows_without_an_id_get_one_and_are_never_sampled_out(
    tmp_path: Path, make_row: Row
) -> None:
    rows = [{k: v for k, v in make_row(i).items() if k != "prediction_id"} for i in range(50)]
    with PredictionLogWriter(tmp_path, sample_rate=0.01) as writer:
        assert writer.submit(rows) == 50
    ids = read_predictions(tmp_path)["prediction_id"]
    assert ids.is_unique and len(ids) == 50 and all(len(i) == 36 for i in ids)


def test_invalid_rows_are_counted_and_named_and_do_not_sink_their_batch(
    tmp_path: Path, make_row: Row
) -> None:
    drops: list[int] = []
    bad_model = make_row(1, model=None)
    bad_probabilities = make_row(2, probabilities="not numbers")
    with PredictionLogWriter(tmp_path, on_drop=drops.append) as writer:
        writer.submit([make_row(0), bad_model, bad_probabilities, make_row(3)])
    assert (writer.accepted, writer.written, writer.failed, sum(drops)) == (4, 2, 2, 2)
    assert len(read_predictions(tmp_path)) == 2
    writer2 = PredictionLogWriter(tmp_path / "b")
    writer2.submit([make_row(0, version="3")])
    writer2.close()
    assert writer2.last_error is not None and "'version'" in writer2.last_error


def test_a_failed_write_leaves_no_visible_or_temporary_file(
    tmp_path: Path, make_row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_then_fail(segment: Any, table: Any) -> None:
        segment._buffer.write(b"ARROW1 half a file")
        raise OSError("No space left on device")

    drops: list[int] = []
    writer = PredictionLogWriter(tmp_path, on_drop=drops.append)
    writer.submit([make_row(i) for i in range(7)])
    with monkeypatch.context() as patch:
        patch.setattr(_segments.SegmentFile, "write", half_then_fail)
        writer.flush()
    assert files(tmp_path, "*") == [p for p in files(tmp_path, "*") if p.is_dir()]
    assert (writer.failed, writer.written, sum(drops)) == (7, 0, 7)
    assert "No space left" in (writer.last_error or "")
    writer.submit([make_row(i) for i in range(3)])
    writer.close()
    assert len(read_predictions(tmp_path)) == 3


def test_close_is_idempotent_and_a_closed_writer_refuses_rows(
    tmp_path: Path, make_row: Row
) -> None:
    writer = PredictionLogWriter(tmp_path).start()
    writer.submit([make_row(0)])
    writer.close()
    writer.close()
    assert writer.written == 1 and not writer.running
    assert writer.submit([make_row(1)]) == 0 and writer.dropped == 1
    with pytest.raises(ConflictError, match="closed"):
        writer.start()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_queue": 0}, "max_queue"),
        ({"segment_rows": 1.5}, "segment_rows"),
        ({"segment_seconds": 0}, "segment_seconds"),
        ({"sample_rate": 0}, "sample_rate"),
        ({"sample_rate": 1.2}, "sample_rate"),
    ],
    ids=["queue", "rows", "seconds", "rate-zero", "rate-above-one"],
)
def test_bad_parameters_are_named(tmp_path: Path, kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValidationError, match=name):
        PredictionLogWriter(tmp_path, **kwargs)


def test_start_creates_the_folder_so_an_empty_log_reads_as_empty(tmp_path: Path) -> None:
    folder = tmp_path / "home" / "predictions"
    with PredictionLogWriter(folder):
        assert read_predictions(folder).empty
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UnavailableError, match="cannot create the predictions log folder"):
        PredictionLogWriter(blocker / "predictions").start()
