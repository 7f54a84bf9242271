"""Micro-batching: queued requests share one call; a full queue answers 503 + Retry-After."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from driftline.exceptions import ValidationError
from driftline.serving import BatchingOptions
from driftline.serving._batching import MicroBatcher, QueueFullError
from driftline.serving._runtime import Prediction


class GatedModel:
    """Doubles its input; the first call waits for the gate, so later requests queue up."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls: list[int] = []

    def __call__(self, data: np.ndarray) -> Prediction:
        if not self.calls:
            self.gate.wait(10)
        self.calls.append(len(data))
        return Prediction(data[:, 0] * 2, None)


def test_requests_that_wait_are_merged_into_one_call() -> None:
    model = GatedModel()
    sizes: list[int] = []

    async def main() -> list[Prediction]:
        with ThreadPoolExecutor(1) as pool:
            batcher = MicroBatcher(
                model, pool, BatchingOptions(max_batch_size=8), on_batch=sizes.append
            )
            first = asyncio.ensure_future(batcher.submit(np.array([[1.0]])))
            await asyncio.sleep(0)  # let the first call start and block on the gate
            rest = [
                asyncio.ensure_future(batcher.submit(np.array([[float(i)]] * i)))
                for i in range(2, 5)
            ]
            await asyncio.sleep(0)
            assert batcher.queued_rows == 9
            model.gate.set()
            return await asyncio.gather(first, *rest)

    answers = asyncio.run(main())
    assert model.calls == [1, 2 + 3, 4]  # 2 and 3 fit in 8 rows together; 4 goes next
    assert sizes == [1, 5, 4]
    for i, answer in zip([1, 2, 3, 4], answers, strict=True):
        assert answer.predictions.tolist() == [2.0 * i] * i


def test_a_full_queue_refuses_instead_of_waiting() -> None:
    model = GatedModel()

    async def main() -> None:
        with ThreadPoolExecutor(1) as pool:
            options = BatchingOptions(max_batch_size=2, max_queue_rows=3)
            batcher = MicroBatcher(model, pool, options)
            running = asyncio.ensure_future(batcher.submit(np.ones((1, 1))))
            await asyncio.sleep(0)
            queued = asyncio.ensure_future(batcher.submit(np.ones((3, 1))))
            await asyncio.sleep(0)
            with pytest.raises(QueueFullError, match="overloaded"):
                await batcher.submit(np.ones((1, 1)))
            model.gate.set()
            await asyncio.gather(running, queued)

    asyncio.run(main())


def test_http_503_with_retry_after_when_the_queue_is_full(
    models: Any, make_app: Any, run_app: Any, options: Any
) -> None:
    record = models.features.iloc[0].to_dict()
    opts = options(threads=1, batching=BatchingOptions(max_batch_size=1, max_queue_rows=2))
    gate = threading.Event()

    async def scenario(client: Any, app: Any) -> list[Any]:
        server = app.state.server
        server.executor.submit(gate.wait, 10)  # the only inference thread is busy
        body = {"records": [record]}
        pending = [
            asyncio.ensure_future(client.post("/v1/models/elec/predict", json=body))
            for _ in range(5)
        ]
        for _ in range(50):  # let every request reach the batcher (no time passes)
            await asyncio.sleep(0)
        done = [p for p in pending if p.done()]
        refused = [p.result() for p in done]
        gate.set()
        answered = await asyncio.gather(*(p for p in pending if p not in done))
        return [refused, answered]

    refused, answered = run_app(make_app(options=opts), scenario)
    assert refused and all(r.status_code == 503 for r in refused)
    assert all(r.headers["retry-after"] == "1" for r in refused)
    assert "overloaded" in refused[0].json()["error"]
    assert len(answered) == 5 - len(refused) and all(r.status_code == 200 for r in answered)


def test_each_version_runs_max_concurrent_batches_at_most(
    make_app: Any, run_app: Any, options: Any
) -> None:
    async def slots(client: Any, app: Any) -> list[int]:
        return [b.slots for b in app.state.server.endpoints["elec"].batchers.values()]

    assert run_app(make_app(), slots) == [1]  # the default: one call, the rest merge
    wide = options(threads=4, batching=BatchingOptions(max_concurrent=3))
    assert run_app(make_app(options=wide), slots) == [3]
    narrow = options(threads=2, batching=BatchingOptions(max_concurrent=3))
    assert run_app(make_app(options=narrow), slots) == [2]  # no more than the pool has
    with pytest.raises(ValidationError, match="max_concurrent"):
        BatchingOptions(max_concurrent=0).check()
