"""Batch prediction ids are real, increasing UUIDv7s."""

from __future__ import annotations

import time
import uuid

from driftline.ids import uuid7_time_ms
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
