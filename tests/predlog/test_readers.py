"""Reading the logs back: types, encodings, filters, and the feedback join."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.exceptions import NotFoundError, ValidationError
from driftline.predlog import (
    PREDICTION_COLUMNS,
    FeedbackLogWriter,
    PredictionLogWriter,
    features_frame,
    join_feedback,
    read_feedback,
    read_predictions,
)

from .conftest import T0, FakeClock

Row = Callable[..., dict[str, Any]]


def write(folder: Path, *batches: list[dict[str, Any]], clock: FakeClock | None = None) -> None:
    """Each batch is drained on its own, all into the same open segments."""
    writer = PredictionLogWriter(folder, clock=clock or FakeClock())
    for batch in batches:
        writer.submit(batch)
        writer.drain()
    writer.close()
    assert writer.failed == 0, writer.last_error


def test_typed_features_come_back_with_their_names_and_types(tmp_path: Path, make_row: Row) -> None:
    rows = [make_row(i, time=T0 + timedelta(seconds=i)) for i in range(20)]
    write(tmp_path, rows)
    frame = read_predictions(tmp_path)
    assert list(frame.columns[: len(PREDICTION_COLUMNS)]) == list(PREDICTION_COLUMNS)
    features = features_frame(frame)
    assert list(features.columns) == ["amount", "count", "country", "is_new"]
    assert features["amount"].dtype == np.float64
    assert features["count"].dtype == np.int64
    assert features["is_new"].dtype == np.bool_
    assert pd.api.types.is_string_dtype(features["country"])
    assert features.to_dict("records") == [r["features"] for r in rows]
    assert frame["version"].dtype == np.int64
    assert frame["prediction"].tolist() == [r["prediction"] for r in rows]
    assert [list(p) for p in frame["probabilities"]] == [[0.25, 0.75]] * 20


def test_segments_without_a_common_feature_set_are_rebuilt_from_json(
    tmp_path: Path, make_row: Row
) -> None:
    typed = [make_row(i, time=T0) for i in range(3)]
    ragged = [
        make_row(10, time=T0, version=4, features={"amount": 1.0, "country": "US"}),
        make_row(11, time=T0, version=4, features={"amount": 2.5, "extra": 7}),
    ]
    write(tmp_path, typed, ragged)
    frame = read_predictions(tmp_path)
    features = features_frame(frame).set_index(frame["prediction_id"])
    for row in typed + ragged:
        got = features.loc[row["prediction_id"]].dropna().to_dict()
        assert got == row["features"]


def test_a_feature_whose_type_differs_between_segments_keeps_every_value(
    tmp_path: Path, make_row: Row
) -> None:
    write(tmp_path, [make_row(0, time=T0, features={"zip": 75001})])
    write(tmp_path, [make_row(1, time=T0, features={"zip": "SW1A"})])
    assert sorted(features_frame(read_predictions(tmp_path))["zip"].tolist(), key=str) == [
        75001,
        "SW1A",
    ]


def test_predictions_that_are_not_scalars_round_trip_through_json(
    tmp_path: Path, make_row: Row
) -> None:
    scalars = [make_row(i, time=T0 + timedelta(seconds=i), prediction=i) for i in range(3)]
    vectors = [make_row(9, time=T0 + timedelta(seconds=9), prediction=[1.5, {"class": "a"}])]
    write(tmp_path, scalars, vectors)  # one segment: native first, then JSON -> all JSON
    assert read_predictions(tmp_path)["prediction"].tolist() == [0, 1, 2, [1.5, {"class": "a"}]]


def test_filters_by_model_version_and_half_open_time_range(tmp_path: Path, make_row: Row) -> None:
    rows = [make_row(i, time=T0 + timedelta(minutes=30 * i), version=3 + i % 2) for i in range(6)]
    write(tmp_path, rows, clock=FakeClock(T0 + timedelta(hours=4)))
    assert len(read_predictions(tmp_path)) == 6
    assert len(read_predictions(tmp_path, model="other")) == 0
    assert read_predictions(tmp_path, version=4)["version"].tolist() == [4, 4, 4]
    window = read_predictions(
        tmp_path, since=T0 + timedelta(minutes=30), until=T0 + timedelta(minutes=90)
    )
    assert window["prediction_id"].tolist() == [rows[1]["prediction_id"], rows[2]["prediction_id"]]


def test_columns_pick_a_subset_including_typed_features(tmp_path: Path, make_row: Row) -> None:
    write(tmp_path, [make_row(i, time=T0) for i in range(3)])
    write(
        tmp_path / "ragged",
        [make_row(0, time=T0, features={"count": 5}), make_row(1, time=T0, features={})],
    )
    frame = read_predictions(tmp_path, columns=["prediction_id", "f_count"])
    assert list(frame.columns) == ["prediction_id", "f_count"]
    assert frame["f_count"].tolist() == [0, 1, 2]
    ragged = read_predictions(tmp_path / "ragged", columns=["f_count"])
    assert ragged["f_count"].tolist()[0] == 5 and pd.isna(ragged["f_count"].tolist()[1])
    with pytest.raises(ValidationError, match="unknown log columns"):
        read_predictions(tmp_path, columns=["nope"])


def test_missing_directory_and_empty_log(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        read_predictions(tmp_path / "absent")
    empty = read_predictions(tmp_path)
    assert empty.empty and list(empty.columns) == list(PREDICTION_COLUMNS)
    with pytest.raises(ValidationError, match="since"):
        read_predictions(tmp_path, since=T0.replace(tzinfo=None))


def test_feedback_round_trip_and_join(tmp_path: Path, make_row: Row) -> None:
    preds = [make_row(i, time=T0 + timedelta(seconds=i)) for i in range(4)]
    write(tmp_path / "p", preds)
    p = [r["prediction_id"] for r in preds]
    feedback = [
        {"prediction_id": p[0], "label": 0, "time": T0 + timedelta(seconds=10)},
        {"prediction_id": p[0], "label": 1, "time": T0 + timedelta(seconds=70), "value": 12.5},
        {
            "prediction_id": p[1],
            "label": "chargeback",
            "time": T0 + timedelta(seconds=6),
            "extra": {"source": "bank"},
        },
        {"prediction_id": p[2], "label": True, "time": T0 + timedelta(seconds=20)},
        {"prediction_id": p[2], "label": False, "time": T0 + timedelta(seconds=20)},
        {"prediction_id": "unknown", "label": 1, "time": T0},
    ]
    with FeedbackLogWriter(tmp_path / "f", clock=FakeClock()) as writer:
        writer.submit(feedback)
    labels = read_feedback(tmp_path / "f")
    assert len(labels) == 6 and labels.loc[labels["label"] == "chargeback", "extra"].tolist() == [
        {"source": "bank"}
    ]
    joined = join_feedback(read_predictions(tmp_path / "p"), labels).set_index("prediction_id")
    assert len(joined) == 4
    assert joined.loc[p[0], "label"] == 1 and joined.loc[p[0], "value"] == 12.5
    assert joined.loc[p[0], "label_delay_s"] == 70.0
    assert joined.loc[p[1], "label"] == "chargeback" and joined.loc[p[1], "label_delay_s"] == 5.0
    assert joined.loc[p[2], "label"] is False, "on a time tie the later row wins"
    assert pd.isna(joined.loc[p[3], "label"]) and pd.isna(joined.loc[p[3], "label_delay_s"])
    inner = join_feedback(read_predictions(tmp_path / "p"), labels, how="inner")
    assert sorted(inner["prediction_id"]) == sorted(p[:3])


def test_feedback_rows_that_break_the_contract_are_counted(tmp_path: Path) -> None:
    with FeedbackLogWriter(tmp_path) as writer:
        writer.submit(
            [
                {"prediction_id": "a", "label": [1, 2]},
                {"prediction_id": "b"},
                {"prediction_id": "c", "label": 1, "value": "high"},
                {"prediction_id": "d", "label": 0.5},
            ]
        )
    assert (writer.written, writer.failed) == (1, 3)
    assert "'value'" in (writer.last_error or "")
    assert read_feedback(tmp_path)["label"].tolist() == [0.5]


def test_join_checks_its_inputs(tmp_path: Path) -> None:
    predictions = pd.DataFrame({"prediction_id": ["a"], "time": [pd.Timestamp(T0)]})
    with pytest.raises(ValidationError, match=r"feedback frame lacks columns \['label'\]"):
        join_feedback(predictions, pd.DataFrame({"prediction_id": ["a"], "time": [T0]}))
    with pytest.raises(ValidationError, match="how"):
        join_feedback(predictions, predictions, how="outer")  # type: ignore[arg-type]
