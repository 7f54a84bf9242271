"""Batch prediction ids are real, increasing UUIDv7s."""

from __future__ import annotations

import time
import uuid

import pytest

from driftline.ids import uuid7_time_ms
from driftline.serving import _ids
from driftline.serving._ids import prediction_ids


def test_ids_are_uuid7_increasing_and_carry_the_time() -> None:
    before = time.time_ns() // 1_000_000
    ids = [i for _ in range(50) for i in prediction_ids(7)]
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(i) for i in ids]
    assert all(p.version == 7 and p.variant == uuid.RFC_4122 for p in parsed)
    assert [str(p) for p in parsed] == ids  # canonical lowercase text
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(before <= uuid7_time_ms(i) <= after + 1 for i in ids)


def test_ids_that_cross_the_last_group_boundary_keep_counting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The random start sits 3 below a carry out of the last 12 hex digits.
    start = (1 << 48) - 3
    monkeypatch.setattr(_ids, "_last_ms", 0)
    monkeypatch.setattr(_ids.os, "urandom", lambda n: (start << 7).to_bytes(10, "big"))
    ids = _ids.prediction_ids(6)
    values = [uuid.UUID(i).int for i in ids]
    assert [str(uuid.UUID(int=v)) for v in values] == ids
    assert ids[2].endswith("ffffffffffff") and ids[3].endswith("000000000000")
    rand_b = [v & ((1 << 62) - 1) for v in values]
    assert rand_b == list(range(rand_b[0], rand_b[0] + 6))  # +1 each, through the carry
    fast = _ids.prediction_ids(1000)  # the common case: only the last group changes
    assert [uuid.UUID(i).int for i in fast] == list(
        range(uuid.UUID(fast[0]).int, uuid.UUID(fast[0]).int + 1000)
    )
