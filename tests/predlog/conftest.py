"""Fixtures for the prediction and feedback logs: a settable clock and row factories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftline.ids import uuid7

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def segment_rows(path: Path) -> int:
    """Rows in one segment file, Parquet or Arrow IPC."""
    if path.suffix == ".parquet":
        return int(pq.read_metadata(path).num_rows)
    with pa.memory_map(str(path)) as source:
        return int(pa.ipc.open_file(source).read_all().num_rows)


def segment_schema(path: Path) -> pa.Schema:
    """The schema of one segment file, Parquet or Arrow IPC."""
    if path.suffix == ".parquet":
        return pq.read_schema(path)
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).schema


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def prediction_row(i: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "prediction_id": str(uuid7()),
        "model": "fraud",
        "version": 3,
        "route": "primary",
        "latency_ms": 1.5 + i % 7,
        "prediction": i % 2,
        "probabilities": [0.25, 0.75],
        "features": {
            "amount": 10.0 + i,
            "count": i,
            "country": "FR" if i % 3 else "DE",
            "is_new": i % 2 == 0,
        },
    }
    row.update(overrides)
    return row


@pytest.fixture
def make_row() -> Callable[..., dict[str, Any]]:
    return prediction_row
