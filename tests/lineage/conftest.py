"""Fixtures for the lineage tests: a Lineage on each database with a stepping clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from driftline import Workspace
from driftline.lineage import Lineage


class StepClock:
    """A clock that moves one second forward on every reading."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def lineage(workspace: Workspace, clock: StepClock) -> Lineage:
    return Lineage(workspace.store, workspace.audit, clock=clock)
