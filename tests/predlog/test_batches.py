"""PredictionBatch: whole requests as columns, encoded by the writer without per-row work."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pytest

from driftline.exceptions import ValidationError
from driftline.predlog import (
    PredictionBatch,
    PredictionLogWriter,
    _segments,
    features_frame,
    read_predictions,
)

from .conftest import T0, FakeClock, segment_rows, segment_schema

NAMES = ("amount", "age", "score")


def batch(n: int, start: int = 0, **changes: Any) -> PredictionBatch:
    """``n`` rows with float features, int classes and two-class probabilities."""
    rng = np.random.default_rng(start)
    proba = rng.uniform(size=(n, 2))
    fields: dict[str, Any] = {
        "model": "fraud",
        "version": 3,
        "prediction_ids": [f"id-{start + i:05d}" for i in range(n)],
        "predictions": (proba[:, 1] > proba[:, 0]).astype(np.int64),
        "features": rng.normal(size=(n, len(NAMES))),
        "feature_names": NAMES,
        "probabilities": proba,
        "route": "primary",
        "latency_ms": 1.25,
        "time": T0 + timedelta(seconds=start),
    }
    fields.update(changes)
    return PredictionBatch(**fields)


def files(root: Path) -> list[Path]:
    return sorted(root.rglob("part-*.arrow"))


def test_batches_read_back_exactly_like_the_same_rows(tmp_path: Path, clock: FakeClock) -> None:
    batches = [batch(7, 0), batch(5, 100, route="canary"), batch(1, 200)]
    with PredictionLogWriter(tmp_path / "b", clock=clock) as log:
        assert [log.submit_batch(b) for b in batches] == [7, 5, 1]
    with PredictionLogWriter(tmp_path / "r", clock=clock) as log:
        assert log.submit([row for b in batches for row in b.rows()]) == 13
    from_batches = read_predictions(tmp_path / "b")
    from_rows = read_predictions(tmp_path / "r")
    pd.testing.assert_frame_equal(from_batches, from_rows)
    assert from_batches["route"].tolist() == ["primary"] * 7 + ["canary"] * 5 + ["primary"]
    expected = np.vstack([b.features for b in batches])
    np.testing.assert_array_equal(features_frame(from_batches).to_numpy(), expected)
    probabilities = np.vstack([list(p) for p in from_batches["probabilities"]])
    np.testing.assert_array_equal(probabilities, np.vstack([b.probabilities for b in batches]))
    assert (
        from_batches["prediction"].tolist()
        == np.concatenate([b.predictions for b in batches]).tolist()
    )


def test_typed_segments_keep_no_json_copy_and_readers_rebuild_it(tmp_path: Path) -> None:
    one = batch(
        4, features=np.array([[1.5, 30, -2.0], [0.0, 41, 1e-7], [2.0, 5, 3.25], [1.0, 7, 0.5]])
    )
    with PredictionLogWriter(tmp_path, clock=FakeClock()) as log:
        log.submit_batch(one)
    (path,) = files(tmp_path)
    names = segment_schema(path).names
    assert "features" not in names
    assert [n for n in names if n.startswith("f_")] == ["f_amount", "f_age", "f_score"]
    frame = read_predictions(tmp_path)
    as_json = [orjson.loads(text) for text in frame["features"]]
    assert as_json == one.feature_rows()
    picked = read_predictions(tmp_path, columns=["prediction_id", "features"])
    assert list(picked.columns) == ["prediction_id", "features"]
    assert [orjson.loads(t) for t in picked["features"]] == one.feature_rows()


def test_a_full_queue_takes_the_head_of_a_batch_and_counts_the_rest(tmp_path: Path) -> None:
    gate, drops = threading.Event(), []
    log = PredictionLogWriter(tmp_path, max_queue=150, gate=gate, on_drop=drops.append).start()
    assert log.submit_batch(batch(100, 0)) == 100
    assert log.submit_batch(batch(100, 1000)) == 50
    assert log.submit_batch(batch(3, 2000)) == 0
    assert (log.queued, log.accepted, log.dropped, drops) == (150, 150, 53, [50, 3])
    log.close()
    ids = read_predictions(tmp_path)["prediction_id"].tolist()
    assert sorted(ids) == [f"id-{i:05d}" for i in range(100)] + [
        f"id-{i:05d}" for i in range(1000, 1050)
    ]
    assert (log.written, log.failed) == (150, 0)


def test_sampling_keeps_the_same_ids_for_batches_and_rows(tmp_path: Path) -> None:
    big = batch(400)
    with PredictionLogWriter(tmp_path / "b", sample_rate=0.25) as log:
        kept = log.submit_batch(big)
    with PredictionLogWriter(tmp_path / "r", sample_rate=0.25) as rows:
        assert rows.submit(big.rows()) == kept
    assert 50 < kept < 150 and log.sampled_out == 400 - kept
    by_batch = read_predictions(tmp_path / "b")["prediction_id"].tolist()
    assert by_batch == read_predictions(tmp_path / "r")["prediction_id"].tolist()


def test_a_batch_larger_than_a_segment_is_cut_across_files(tmp_path: Path) -> None:
    log = PredictionLogWriter(tmp_path, segment_rows=70, clock=FakeClock())
    log.submit_batch(batch(100))
    log.submit_batch(batch(30, 500))
    log.drain()
    assert [segment_rows(p) for p in files(tmp_path)] == [70]
    log.close()
    assert sorted(segment_rows(p) for p in files(tmp_path)) == [60, 70]
    assert (log.written, log.segments) == (130, 2)


def test_frames_of_mixed_types_become_typed_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"city": ["Lyon", "Oslo"], "n": [3, 4], "vip": [True, False], "spend": [1.5, None]}
    )
    labels = np.array(["UP", "DOWN"], dtype=object)
    one = batch(2, features=frame, feature_names=tuple(frame.columns), predictions=labels)
    with PredictionLogWriter(tmp_path, clock=FakeClock()) as log:
        log.submit_batch(one)
    read = read_predictions(tmp_path)
    assert read["prediction"].tolist() == ["UP", "DOWN"]
    features = features_frame(read)
    assert features["city"].tolist() == ["Lyon", "Oslo"]
    assert features["n"].dtype == np.int64 and features["vip"].dtype == np.bool_
    assert features["spend"].iloc[0] == 1.5 and pd.isna(features["spend"].iloc[1])
    assert orjson.loads(read["features"].iloc[1]) == {
        "city": "Oslo",
        "n": 4,
        "vip": False,
        "spend": None,
    }


def test_predictions_that_are_not_scalars_are_stored_as_json(tmp_path: Path) -> None:
    multi = np.array([[1, 2], [3, 4]])
    with PredictionLogWriter(tmp_path, clock=FakeClock()) as log:
        log.submit_batch(batch(2, predictions=multi, probabilities=None))
    read = read_predictions(tmp_path)
    assert read["prediction"].tolist() == [[1, 2], [3, 4]]
    assert read["probabilities"].isna().all()


def test_a_batch_that_cannot_be_encoded_falls_back_to_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = PredictionLogWriter(tmp_path, clock=FakeClock())

    def broken(chunks: Any, times: Any) -> Any:
        raise ValueError("simulated encoder failure")

    monkeypatch.setattr(log._codec, "encode_chunks", broken)
    log.submit_batch(batch(6))
    log.close()
    assert (log.written, log.failed) == (6, 0)
    assert len(read_predictions(tmp_path)) == 6


def test_bad_batches_are_refused_or_counted_with_the_field_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="probabilities has 2"):
        batch(3, probabilities=np.ones((2, 2)))
    with pytest.raises(ValidationError, match="3 columns"):
        batch(3, features=np.ones((3, 2)))
    log = PredictionLogWriter(tmp_path, clock=FakeClock())
    log.submit_batch(batch(4, version="3"))
    log.submit_batch(batch(2, 10))
    log.close()
    assert (log.accepted, log.written, log.failed, log.dropped) == (6, 2, 4, 4)
    assert log.last_error is not None and "'version'" in log.last_error


def test_rows_and_batches_share_one_segment(tmp_path: Path, make_row: Any) -> None:
    rows = [
        make_row(i, features=dict(zip(NAMES, (float(i), 2.0 * i, -1.0), strict=True)))
        for i in range(3)
    ]
    log = PredictionLogWriter(tmp_path, clock=FakeClock())
    log.submit(rows)
    log.submit_batch(batch(2, 50))
    log.close()
    assert len(files(tmp_path)) == 1 and log.written == 5
    features = features_frame(read_predictions(tmp_path))
    assert list(features.columns) == list(NAMES)
    assert features["age"].tolist()[:3] == [0.0, 2.0, 4.0]


def test_per_row_latencies_of_a_merged_batch_are_kept(tmp_path: Path) -> None:
    merged = batch(3, latency_ms=np.array([1.5, 2.5, 4.0]))
    with PredictionLogWriter(tmp_path, clock=FakeClock()) as log:
        log.submit_batch(merged)
        log.submit_batch(batch(2, start=3))  # one latency for both rows
    frame = read_predictions(tmp_path)
    assert frame["latency_ms"].tolist() == [1.5, 2.5, 4.0, 1.25, 1.25]
    assert [r["latency_ms"] for r in merged.rows()] == [1.5, 2.5, 4.0]
    assert merged.take(slice(1, 3)).latency_ms.tolist() == [2.5, 4.0]
    with pytest.raises(ValidationError, match="latency_ms has 2"):
        batch(3, latency_ms=np.array([1.0, 2.0]))


def hidden(root: Path) -> list[Path]:
    return sorted(root.rglob(".part-*.tmp"))


def test_a_segment_streams_to_a_hidden_file_and_appears_whole(tmp_path: Path) -> None:
    # 12 batches of 1,500 rows: the writer encodes and writes every ~8k rows as they come,
    # so a long segment never sits whole in memory; readers see it only once it closes.
    log = PredictionLogWriter(tmp_path, clock=FakeClock(), segment_rows=100_000)
    batches = [batch(1_500, 1_500 * i, time=T0) for i in range(12)]
    for b in batches:
        log.submit_batch(b)
        log.drain()
    assert files(tmp_path) == [] and len(hidden(tmp_path)) == 1
    assert hidden(tmp_path)[0].stat().st_size > 8_000 * 8 * len(NAMES)  # pieces already out
    assert read_predictions(tmp_path).empty
    log.close()
    (segment,) = files(tmp_path)
    assert hidden(tmp_path) == [] and log.written == 18_000 and log.segments == 1
    with pa.memory_map(str(segment)) as source:
        assert pa.ipc.open_file(source).num_record_batches >= 2
    frame = read_predictions(tmp_path)
    assert frame["prediction_id"].tolist() == [pid for b in batches for pid in b.prediction_ids]
    np.testing.assert_array_equal(
        features_frame(frame).to_numpy(), np.vstack([b.features for b in batches])
    )


def test_rows_that_change_the_columns_mid_segment_start_a_new_file(tmp_path: Path) -> None:
    # A version whose inputs change shape (a new feature) within one segment: the rows so
    # far land as they are and the rest go to a second file, none lost.
    log = PredictionLogWriter(tmp_path, clock=FakeClock(), segment_rows=100_000)
    wider = ("amount", "age", "score", "tenure")
    first = [batch(3_000, 3_000 * i, time=T0) for i in range(3)]
    second = [
        batch(3_000, 9_000 + 3_000 * i, time=T0, features=np.ones((3_000, 4)), feature_names=wider)
        for i in range(3)
    ]
    for b in first + second:
        log.submit_batch(b)
        log.drain()
    log.close()
    assert (log.written, log.failed, log.segments) == (18_000, 0, 2)
    schemas = sorted(len(segment_schema(p).names) for p in files(tmp_path))
    assert schemas[1] == schemas[0] + 1
    frame = read_predictions(tmp_path)
    assert len(frame) == 18_000 and frame["prediction_id"].is_unique
    assert features_frame(frame)["tenure"].notna().sum() == 9_000


def test_a_failed_piece_loses_its_whole_file_and_the_log_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = _segments.SegmentFile.write

    def second_write_fails(segment: Any, table: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("No space left on device")
        real(segment, table)

    monkeypatch.setattr(_segments.SegmentFile, "write", second_write_fails)
    drops: list[int] = []
    log = PredictionLogWriter(
        tmp_path, clock=FakeClock(), segment_rows=100_000, on_drop=drops.append
    )
    for i in range(4):  # 4 x 4,500 rows: pieces of 9,000, the second one fails
        log.submit_batch(batch(4_500, 4_500 * i, time=T0))
        log.drain()
    assert hidden(tmp_path) == [] and files(tmp_path) == []
    log.submit_batch(batch(10, 100_000, time=T0))
    log.close()
    # The failed file held both pieces: all or nothing. The next rows start a new file.
    assert (log.failed, sum(drops), log.written) == (18_000, 18_000, 10)
    assert "No space left" in (log.last_error or "")
    assert len(read_predictions(tmp_path)) == 10 and hidden(tmp_path) == []


@pytest.mark.parametrize(
    "ids",
    [
        ["ab", "cd", "ef"],  # one length: the joined fast path
        ["a", "bcd", "ef"],  # lengths that add up like the fast path's but differ
        ["ab\ncd", "", "xy"],  # newlines inside ids
        ["é1", "ü2", "ab"],  # not ASCII
        ["", "", ""],
    ],
)
def test_ids_of_any_length_or_text_read_back_exactly(tmp_path: Path, ids: list[str]) -> None:
    with PredictionLogWriter(tmp_path, clock=FakeClock()) as log:
        log.submit_batch(batch(3, prediction_ids=ids))
    assert sorted(read_predictions(tmp_path)["prediction_id"]) == sorted(ids)


def test_a_piece_that_cannot_be_joined_loses_only_its_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = PredictionLogWriter(tmp_path, clock=FakeClock(), segment_rows=100_000)
    real, calls = log._codec.finish, {"n": 0}

    def second_finish_fails(batches: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("simulated join failure")
        return real(batches)

    monkeypatch.setattr(log._codec, "finish", second_finish_fails)
    for i in range(3):  # pieces of 9,000 rows: the first lands, the second is lost
        log.submit_batch(batch(9_000, 9_000 * i, time=T0))
        log.drain()
    log.close()
    assert (log.written, log.failed, log.segments) == (18_000, 9_000, 1)
    ids = set(read_predictions(tmp_path)["prediction_id"])
    assert "id-00000" in ids and "id-09000" not in ids and "id-18000" in ids
