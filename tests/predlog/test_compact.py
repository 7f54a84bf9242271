"""compact_log: Arrow IPC segments become Parquet without a row lost, doubled or half-written."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.exceptions import UnavailableError
from driftline.predlog import (
    PredictionBatch,
    PredictionLogWriter,
    _readers,
    compact_in_child,
    compact_log,
    read_predictions,
)

from .conftest import T0, FakeClock, segment_rows


def fill(folder: Path, segments: int = 3, rows: int = 40) -> None:
    """``segments`` Arrow segments: typed batches, plus JSON-feature rows in the last one."""
    rng = np.random.default_rng(7)
    with PredictionLogWriter(folder, segment_rows=rows, clock=FakeClock()) as log:
        for i in range(segments * rows - 5):
            log.submit_batch(
                PredictionBatch(
                    model="fraud",
                    version=2,
                    prediction_ids=[f"id-{i:05d}"],
                    predictions=np.array([i % 2]),
                    features=rng.random((1, 3)),
                    feature_names=("a", "b", "c"),
                    probabilities=rng.random((1, 2)),
                    time=T0,
                )
            )
        log.submit(
            [
                {
                    "model": "fraud",
                    "version": 2,
                    "prediction_id": f"row-{i}",
                    "time": T0,
                    "prediction": "yes",
                    "features": {"a": 1.0, "colour": "red"},
                }
                for i in range(5)
            ]
        )


def suffixes(folder: Path) -> list[str]:
    return sorted(p.suffix for p in folder.rglob("part-*"))


def test_compaction_keeps_every_row_and_shrinks_the_files(tmp_path: Path) -> None:
    fill(tmp_path)
    before = read_predictions(tmp_path)
    assert suffixes(tmp_path) == [".arrow"] * 3 and len(before) == 120
    result = compact_log(tmp_path)
    assert (result.segments, result.rows, result.failed, result.locked) == (3, 120, [], False)
    assert suffixes(tmp_path) == [".parquet"] * 3
    assert 0 < result.bytes_after < result.bytes_before
    after = read_predictions(tmp_path)
    pd.testing.assert_frame_equal(after, before)
    assert after["features"].str.contains("colour").sum() == 5  # the JSON-only rows
    assert list(tmp_path.rglob(".*.tmp")) == []
    again = compact_log(tmp_path)
    assert (again.segments, again.leftovers) == (0, 0)


def test_a_crash_between_rename_and_removal_doubles_nothing(tmp_path: Path) -> None:
    fill(tmp_path, segments=1)
    (arrow,) = tmp_path.rglob("part-*.arrow")
    kept = tmp_path / "kept.arrow"
    shutil.copy(arrow, kept)
    compact_log(tmp_path)
    shutil.copy(kept, arrow)  # as if the removal never happened
    kept.unlink()
    assert suffixes(tmp_path) == [".arrow", ".parquet"]
    assert read_predictions(tmp_path)["prediction_id"].is_unique
    assert len(read_predictions(tmp_path)) == 40
    result = compact_log(tmp_path)
    assert (result.segments, result.leftovers) == (0, 1)
    assert suffixes(tmp_path) == [".parquet"]


def test_a_reader_that_listed_a_segment_just_compacted_reads_its_parquet_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(tmp_path, segments=2)
    expected = read_predictions(tmp_path)
    real = _readers._segments
    stale = real([p.parent for p in tmp_path.rglob("part-*.arrow")])
    calls: list[int] = []

    def listing(folders: Any) -> list[Path]:
        calls.append(1)
        if len(calls) == 1:
            compact_log(tmp_path)  # moves the files after they were listed
            return stale
        return real(folders)

    monkeypatch.setattr(_readers, "_segments", listing)
    pd.testing.assert_frame_equal(read_predictions(tmp_path), expected)
    assert len(calls) == 2


def test_one_compaction_at_a_time_and_young_segments_wait(tmp_path: Path) -> None:
    fill(tmp_path, segments=1)
    fd = os.open(tmp_path / ".compact.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert compact_log(tmp_path).locked
    finally:
        os.close(fd)
    assert suffixes(tmp_path) == [".arrow"]
    result = compact_log(tmp_path, min_age_s=3600)
    assert (result.segments, result.skipped) == (0, 1)
    assert compact_log(tmp_path).segments == 1


def test_a_segment_that_cannot_be_read_is_reported_and_left_alone(tmp_path: Path) -> None:
    fill(tmp_path, segments=1)
    (good,) = tmp_path.rglob("part-*.arrow")
    bad = good.with_name("part-broken.arrow")
    bad.write_bytes(b"ARROW1 not really")
    result = compact_log(tmp_path)
    assert result.segments == 1 and len(result.failed or []) == 1
    assert "part-broken.arrow" in (result.failed or [""])[0]
    assert bad.exists() and segment_rows(good.with_suffix(".parquet")) == 40


def test_the_child_process_compacts_and_reports(tmp_path: Path) -> None:
    fill(tmp_path, segments=1)
    result = compact_in_child(tmp_path)
    assert (result.segments, result.rows) == (1, 40)
    assert suffixes(tmp_path) == [".parquet"]


def test_the_cli_compacts_and_names_a_missing_folder(tmp_path: Path) -> None:
    fill(tmp_path / "log", segments=1)
    argv = [sys.executable, "-m", "driftline.cli._main", "--home", str(tmp_path)]
    argv += ["predlog", "compact"]
    done = subprocess.run(
        [*argv, "--dir", str(tmp_path / "log"), "--json"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert '"segments": 1' in done.stdout
    missing = subprocess.run(argv, capture_output=True, text=True)
    assert missing.returncode != 0
    assert str(tmp_path / "predictions") in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_folder_that_cannot_hold_the_lock_file_is_named(tmp_path: Path) -> None:
    fill(tmp_path, segments=1)
    (tmp_path / ".compact.lock").mkdir()  # the lock file's name is taken by a folder
    with pytest.raises(UnavailableError, match=r"cannot compact .*\.compact\.lock"):
        compact_log(tmp_path)
    assert suffixes(tmp_path) == [".arrow"]
