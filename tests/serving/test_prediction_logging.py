"""What the server hands the prediction log: one columnar batch per request, or row dicts."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.serving import features_frame, read_predictions
from driftline.serving._log_batches import merged_log_batch

from .conftest import quiet_options


class RowsOnly:
    """A sink with only the row interface (no ``submit_batch``)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def submit(self, rows: list[dict[str, Any]]) -> int:
        self.rows.extend(rows)
        return len(rows)


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_every_row_of_a_batch_request_is_logged_with_its_answer(
    models: Any, make_app: Any, run_app: Any, options: Any, writer: str
) -> None:
    rows = models.features.head(120)

    async def scenario(client: Any, app: Any) -> list[dict[str, Any]]:
        answers = []
        for start in (0, 100):
            part = rows.iloc[start : start + 100]
            got = await client.post(
                "/v1/models/elec/predict", json={"columns": part.to_dict("list")}
            )
            assert got.status_code == 200, got.text
            answers.append(got.json())
        return answers

    app = make_app(options=options(log_writer=writer))
    answers = run_app(app, scenario)  # shutdown flushes the log (and ends the child)
    ids = [pid for a in answers for pid in a["prediction_ids"]]
    log = read_predictions(models.ws.home / "predictions", model="elec")
    assert len(log) == 120 and sorted(log["prediction_id"]) == sorted(ids)
    log = log.set_index("prediction_id").loc[ids]
    np.testing.assert_array_equal(features_frame(log)[list(rows.columns)].to_numpy(), rows)
    expected = models.estimators[1].predict(rows)
    assert log["prediction"].tolist() == expected.tolist()
    served = [p for a in answers for p in a["probabilities"]]
    np.testing.assert_allclose(np.vstack([list(p) for p in log["probabilities"]]), served)
    assert set(log["version"]) == {1} and set(log["route"]) == {"primary"}
    assert (log["latency_ms"] > 0).all()


def test_a_sink_without_batches_still_gets_one_dict_per_row(
    models: Any, make_app: Any, run_app: Any
) -> None:
    sink = RowsOnly()
    rows = models.features.head(3)

    async def scenario(client: Any, app: Any) -> Any:
        return (
            await client.post("/v1/models/elec/predict", json={"records": rows.to_dict("records")})
        ).json()

    answer = run_app(make_app(prediction_log=sink), scenario)
    assert [r["prediction_id"] for r in sink.rows] == answer["prediction_ids"]
    assert [r["features"] for r in sink.rows] == rows.to_dict("records")
    assert [r["prediction"] for r in sink.rows] == answer["predictions"]
    assert {r["model"] for r in sink.rows} == {"elec"} and {r["version"] for r in sink.rows} == {1}


class OpensFirst(RowsOnly):
    """A sink that takes rows once open and starts later: records what the server did when."""

    def __init__(self) -> None:
        super().__init__()
        self.server: Any = None
        self.calls: list[tuple[str, bool]] = []

    def open(self) -> None:
        self.calls.append(("open", self.server.ready))

    def start(self) -> None:
        self.calls.append(("start", self.server.ready))


def test_a_log_that_opens_first_starts_once_the_models_are_loaded(
    models: Any, make_app: Any, run_app: Any
) -> None:
    sink = OpensFirst()
    app = make_app(prediction_log=sink)
    sink.server = app.state.server

    async def scenario(client: Any, app: Any) -> list[tuple[str, bool]]:
        return list(sink.calls)

    # opened with the server (not loaded yet), started once the first load was over
    assert run_app(app, scenario) == [("open", False), ("start", True)]


class CannotStart(OpensFirst):
    def start(self) -> None:
        raise OSError("fork: Cannot allocate memory")


def test_a_log_that_cannot_start_leaves_the_models_serving(
    models: Any, make_app: Any, run_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sink = CannotStart()
    app = make_app(prediction_log=sink)
    sink.server = app.state.server

    async def scenario(client: Any, app: Any) -> int:
        rows = models.features.head(2)
        got = await client.post(
            "/v1/models/elec/predict", json={"records": rows.to_dict("records")}
        )
        return int(got.status_code)

    with caplog.at_level("ERROR", logger="driftline.serving"):
        assert run_app(app, scenario) == 200
    assert "prediction log did not start: fork: Cannot allocate memory" in caplog.text


def test_the_process_writer_is_forked_from_the_loaded_server(
    models: Any, make_app: Any, run_app: Any, options: Any
) -> None:
    from driftline.predlog._ring import ring_supported

    if not ring_supported():
        pytest.skip("the process writer needs memfd and x86-64")

    async def scenario(client: Any, app: Any) -> tuple[Any, int]:
        log = app.state.server.prediction_log
        return log._child, threading.active_count()

    child, threads = run_app(make_app(options=options(log_writer="process")), scenario)
    assert isinstance(child, int) and threads > 1  # forked although the pools have threads


def test_the_server_compacts_closed_log_segments_in_the_background(
    models: Any, make_app: Any, run_app: Any
) -> None:
    rows = models.features.head(50)
    folder = models.ws.home / "predictions"

    async def scenario(client: Any, app: Any) -> list[str]:
        got = await client.post("/v1/models/elec/predict", json={"columns": rows.to_dict("list")})
        assert got.status_code == 200, got.text
        await asyncio.sleep(0)  # the log takes the turn's requests once the turn ends
        app.state.server.prediction_log.flush()  # the segment lands as Arrow IPC
        assert [p.suffix for p in folder.rglob("part-*")] == [".arrow"]
        deadline = time.monotonic() + 30
        while not list(folder.rglob("part-*.parquet")):  # the next compaction picks it up
            assert time.monotonic() < deadline, "no compaction within 30 s"
            await asyncio.sleep(0.05)
        ids: list[str] = got.json()["prediction_ids"]
        return ids

    app = make_app(options=quiet_options(compact_interval_s=0.2))
    ids = run_app(app, scenario)
    assert [p.suffix for p in folder.rglob("part-*")] == [".parquet"]
    assert sorted(read_predictions(folder, model="elec")["prediction_id"]) == sorted(ids)


class BatchSink(RowsOnly):
    """A sink that keeps the batches it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[Any] = []

    def submit_batch(self, batch: Any) -> int:
        self.batches.append(batch)
        return len(batch)


def test_requests_answered_in_one_turn_reach_the_log_as_one_batch(
    models: Any, make_app: Any, run_app: Any
) -> None:
    sink = BatchSink()
    rows = models.features.head(40).to_dict("records")

    async def scenario(client: Any, app: Any) -> list[Any]:
        calls = [client.post("/v1/models/elec/predict", json={"records": [r]}) for r in rows]
        return [got.json() for got in await asyncio.gather(*calls)]

    answers = run_app(make_app(prediction_log=sink), scenario)
    assert all("prediction_ids" in a for a in answers), answers[0]
    # 40 concurrent single-row requests share model calls, and each call's requests share
    # one log batch: fewer batches than requests, every row once, each with its own answer.
    assert 1 <= len(sink.batches) < len(rows)
    logged = {
        pid: (prediction, latency)
        for batch in sink.batches
        for pid, prediction, latency in zip(
            batch.prediction_ids,
            batch.predictions.tolist(),
            np.broadcast_to(batch.latency_ms, len(batch)).tolist(),
            strict=True,
        )
    }
    assert len(logged) == len(rows)
    for answer in answers:
        (pid,) = answer["prediction_ids"]
        assert logged[pid][0] == answer["predictions"][0] and logged[pid][1] > 0
    merged = [b for b in sink.batches if len(b) > 1]
    assert merged and all(isinstance(b.latency_ms, np.ndarray) for b in merged)


def served(data: Any, predictions: Any, probabilities: Any = None, ids: Any = None) -> Any:
    """Just what the log takes from an answered request."""
    n = len(data)
    return SimpleNamespace(
        model="elec",
        version=SimpleNamespace(number=1),
        route="primary",
        inputs=SimpleNamespace(data=data, columns=("a", "b"), n_rows=n),
        prediction=SimpleNamespace(predictions=predictions, probabilities=probabilities),
        prediction_ids=ids or [f"id-{i}" for i in range(n)],
        latency_s=0.002,
    )


def test_requests_that_do_not_stack_are_logged_one_by_one() -> None:
    floats = served(np.ones((2, 2)), np.array([0, 1]), np.full((2, 2), 0.5))
    ints = served(np.ones((1, 2), dtype=np.int64), np.array([1]), np.full((1, 2), 0.5))
    frame = served(pd.DataFrame({"a": [1.0], "b": ["x"]}), np.array([1]))
    no_proba = served(np.ones((1, 2)), np.array([1]))
    assert merged_log_batch([floats, ints], None) is None
    assert merged_log_batch([floats, frame], None) is None
    assert merged_log_batch([floats, no_proba], None) is None
    both = merged_log_batch(
        [floats, served(np.zeros((3, 2)), np.array([1, 1, 0]), np.zeros((3, 2)))], None
    )
    assert both is not None and len(both) == 5 and both.features.shape == (5, 2)
    assert both.latency_ms.tolist() == [2.0] * 5
    renamed = served(np.ones((1, 2)), np.array([1]), np.full((1, 2), 0.5))
    renamed.inputs.columns = ("b", "a")
    assert merged_log_batch([floats, renamed], None) is None


def test_single_rows_merge_with_each_request_latency_and_id_in_order() -> None:
    rows = [
        served(np.full((1, 2), i, dtype=float), np.array([i % 2]), np.full((1, 2), i / 10))
        for i in range(5)
    ]
    for i, row in enumerate(rows):
        row.latency_s = (i + 1) / 1000
        row.prediction_ids = [f"p{i}"]
    merged = merged_log_batch(rows, None)
    assert merged is not None
    assert list(merged.prediction_ids) == [f"p{i}" for i in range(5)]
    assert merged.latency_ms.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert merged.features[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert merged.predictions.tolist() == [0, 1, 0, 1, 0]
    empty = served(np.ones((0, 2)), np.array([], dtype=np.int64), np.ones((0, 2)))
    pair = served(np.ones((2, 2)), np.array([1, 0]), np.ones((2, 2)))
    pair.latency_s = 0.007
    mixed = merged_log_batch([empty, pair], None)
    assert mixed is not None and mixed.latency_ms.tolist() == [7.0, 7.0]
