from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from driftline import Workspace
from driftline.exceptions import ValidationError
from driftline.monitoring.signals.drift_windows import DriftMonitor, latest_events
from driftline.predlog import PredictionLogWriter

START = datetime(2026, 1, 1, tzinfo=UTC)
FEATURES = ["nswprice", "nswdemand", "period"]


@pytest.fixture
def served(workspace: Workspace, datasets: Path) -> tuple[Workspace, pd.DataFrame]:
    frame = pd.read_csv(datasets / "elec2.csv.gz")
    train = frame.iloc[20_000:24_000][[*FEATURES, "class"]].reset_index(drop=True)
    model = LogisticRegression(max_iter=500).fit(train[FEATURES], train["class"])
    data = workspace.datasets.add(train, name="elec-train")
    workspace.registry.register("elec", model, frame=train, target="class", dataset=data)
    return workspace, frame


def _log(ws: Workspace, rows: pd.DataFrame, start: datetime) -> None:
    with PredictionLogWriter(ws.home / "predictions") as log:
        log.submit(
            [
                {
                    "model": "elec",
                    "version": 1,
                    "prediction": "UP",
                    "time": start + timedelta(seconds=10 * i),
                    "features": row,
                }
                for i, row in enumerate(rows[FEATURES].to_dict("records"))
            ]
        )


def test_windows_are_compared_once_and_drift_is_found_and_linked(served) -> None:
    ws, frame = served
    _log(ws, frame.iloc[20_000:24_000].sample(300, random_state=0), START)  # as in training
    _log(ws, frame.iloc[500:800], START + timedelta(hours=1))  # 1996 prices: drifted
    monitor = DriftMonitor(ws, "elec", window=timedelta(hours=1))
    events = monitor.run_once(now=START + timedelta(hours=2, minutes=5))
    assert [e.rows for e in events] == [300, 300]
    calm, shifted = events
    assert not calm.drift_detected and shifted.drift_detected
    assert shifted.features["nswprice"]["drift_detected"] is True
    assert monitor.run_once(now=START + timedelta(hours=3)) == []  # nothing processed twice
    assert [e.id for e in latest_events(ws, "elec")] == [shifted.id, calm.id]
    version_id = ws.registry.get("elec/1").id
    assert shifted.id in ws.lineage.downstream(version_id).ids
    assert [e.action for e in ws.audit.entries(limit=10)].count("drift.window") == 2


def test_incomplete_windows_wait(served) -> None:
    ws, frame = served
    _log(ws, frame.iloc[24_000:24_100], START)
    monitor = DriftMonitor(ws, "elec", window=timedelta(hours=1))
    assert monitor.run_once(now=START + timedelta(minutes=30)) == []
    assert len(monitor.run_once(now=START + timedelta(hours=1, minutes=1))) == 1


def test_row_windows(served) -> None:
    ws, frame = served
    _log(ws, frame.iloc[24_000:24_250], START)
    events = DriftMonitor(ws, "elec", window=100).run_once(now=START + timedelta(days=1))
    assert [e.rows for e in events] == [100, 100]  # the last 50 rows wait for a full window
    with pytest.raises(ValidationError, match="min_rows"):
        DriftMonitor(ws, "elec", window=5)


def test_no_reference_profile_is_a_clear_error(workspace: Workspace) -> None:
    workspace.registry.register_saved("bare", flavor="python", data=b"x", flavor_meta={})
    rows = pd.DataFrame({"a": np.arange(50.0)})
    with PredictionLogWriter(workspace.home / "predictions") as log:
        log.submit(
            [
                {"model": "bare", "version": 1, "prediction": 0, "time": START, "features": r}
                for r in rows.to_dict("records")
            ]
        )
    with pytest.raises(ValidationError, match="no reference profile"):
        DriftMonitor(workspace, "bare").run_once(now=START + timedelta(hours=2))
