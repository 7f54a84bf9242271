"""A served elec2 model and a way to replay traffic with labels into its logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from driftline import Workspace
from driftline.predlog import FeedbackLogWriter, PredictionLogWriter

FEATURES = ["nswprice", "nswdemand", "period", "vicprice", "vicdemand", "transfer"]
# Replayed traffic starts after the fixture trained its model, as live traffic would.
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)


def fit(frame: pd.DataFrame, params: dict[str, Any]) -> Any:
    model = RandomForestClassifier(n_estimators=15, random_state=params["seed"], n_jobs=1)
    return model.fit(frame[FEATURES], frame["class"])


@pytest.fixture
def served(workspace: Workspace, datasets: Path) -> tuple[Workspace, pd.DataFrame]:
    frame = pd.read_csv(datasets / "elec2.csv.gz")[[*FEATURES, "class"]]
    first = workspace.datasets.add(frame.iloc[:3000], name="elec-first")
    result = workspace.train(fit, data=first, name="elec", target="class", holdout=0.0)
    workspace.registry.promote("elec", result.model_version.version, reason="first model")
    return workspace, frame


def replay(
    ws: Workspace,
    rows: pd.DataFrame,
    *,
    labelled: bool = True,
    every: timedelta = timedelta(minutes=30),
) -> None:
    model = ws.registry.load("models:/elec@champion")
    predictions = model.predict(rows[FEATURES])
    logged, labels = [], []
    for i, (record, prediction, label) in enumerate(
        zip(rows[FEATURES].to_dict("records"), predictions, rows["class"], strict=True)
    ):
        pid = f"01a21c40-0000-7000-8000-{i:012d}"
        at = START + every * i
        logged.append(
            {
                "model": "elec",
                "version": 1,
                "prediction_id": pid,
                "time": at,
                "prediction": str(prediction),
                "features": record,
            }
        )
        labels.append({"prediction_id": pid, "time": at + timedelta(hours=2), "label": str(label)})
    with PredictionLogWriter(ws.home / "predictions") as log:
        log.submit(logged)
    if labelled:
        with FeedbackLogWriter(ws.home / "feedback") as log:
            log.submit(labels)


@pytest.fixture
def traffic() -> Any:
    """``traffic(ws, rows, labelled=True, every=30 min)``: log predictions (and labels) for
    ``rows``, one every ``every`` (the log keeps a file per hour, so a short ``every`` is
    faster)."""
    return replay


@pytest.fixture
def elec_fit() -> Any:
    """The training function of the served model."""
    return fit
