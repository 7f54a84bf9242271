"""Fixtures for the monitoring cycle: an elec2 model registered with its training data, and
helpers that write its prediction and feedback logs at chosen times."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from driftline.ids import uuid7
from driftline.predlog import FeedbackLogWriter, PredictionLogWriter
from driftline.registry import ModelVersion

# The loopback receivers (recording HTTP server, aiosmtpd) live with the alerting tests.
_spec = importlib.util.spec_from_file_location(
    "driftline_monitoring_receivers", Path(__file__).parents[1] / "monitoring" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
receivers = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = receivers
_spec.loader.exec_module(receivers)
http_receiver = receivers.http_receiver
smtp_receiver = receivers.smtp_receiver
sqlite_workspace = receivers.sqlite_workspace

FEATURES = ["nswprice", "nswdemand", "vicprice", "vicdemand", "transfer", "period"]
T0 = datetime(2026, 3, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Elec:
    """elec2 rows 20,000-26,000 split in two at random: one half trains, one half is live
    traffic like the training data; rows 500+ (1996, before Victorian data) are drifted."""

    model: LogisticRegression
    train: pd.DataFrame
    holdout: pd.DataFrame
    drifted: pd.DataFrame


@pytest.fixture(scope="session")
def elec(datasets_dir: Path) -> Elec:
    frame = pd.read_csv(datasets_dir / "elec2.csv.gz")
    span = frame.iloc[20_000:26_000]
    train = span.sample(frac=0.5, random_state=0)
    holdout = span.drop(train.index).sample(frac=1.0, random_state=1)
    model = LogisticRegression(max_iter=500).fit(train[FEATURES], train["class"])
    return Elec(model, train[[*FEATURES, "class"]], holdout, frame.iloc[500:3000])


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    path = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
    if not path.is_dir():
        pytest.skip(f"shared datasets not found at {path}")
    return path


class Kit:
    """Helpers the tests share (pytest imports no helper modules in importlib mode)."""

    features = FEATURES
    t0 = T0

    def __init__(self, elec: Elec) -> None:
        self.elec = elec

    def register(self, ws: Any, *, tags: dict[str, str] | None = None) -> ModelVersion:
        return register(ws, self.elec, tags=tags)

    def serve(self, ws: Any, rows: pd.DataFrame, start: datetime, **kwargs: Any) -> Traffic:
        return serve_rows(ws, self.elec, rows, start, **kwargs)

    def feedback(self, ws: Any, items: Sequence[dict[str, Any]]) -> None:
        send_feedback(ws, items)

    def percentile(self, values: Sequence[float], q: float) -> float:
        return percentile(values, q)


@pytest.fixture
def kit(elec: Elec) -> Kit:
    """Shared helpers: register the model, serve rows into the log, send feedback."""
    return Kit(elec)


def register(ws: Any, elec: Elec, *, tags: dict[str, str] | None = None) -> ModelVersion:
    """Register the elec model (with dataset, reference profile, baseline) as champion."""
    data = ws.datasets.add(elec.train, name="elec-train")
    accuracy = float((elec.model.predict(elec.train[FEATURES]) == elec.train["class"]).mean())
    version = ws.registry.register(
        "elec",
        elec.model,
        frame=elec.train,
        target="class",
        dataset=data,
        metrics={"accuracy": accuracy},
        tags=tags or {},
    )
    ws.registry.promote("elec", version.version, reason="first champion")
    return version


@dataclass
class Traffic:
    """Predictions served at chosen times, with their true labels kept aside."""

    ids: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    predictions: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    probabilities: list[list[float]] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": self.ids,
                "time": self.times,
                "prediction": self.predictions,
                "label": self.labels,
            }
        )


def serve_rows(
    ws: Any,
    elec: Elec,
    rows: pd.DataFrame,
    start: datetime,
    *,
    every: timedelta = timedelta(seconds=5),
    version: int = 1,
    traffic: Traffic | None = None,
) -> Traffic:
    """Predict ``rows`` with the model and log them, one every ``every`` from ``start``."""
    traffic = traffic if traffic is not None else Traffic()
    predicted = elec.model.predict(rows[FEATURES])
    proba = elec.model.predict_proba(rows[FEATURES])
    logged = []
    for i, features in enumerate(rows[FEATURES].to_dict("records")):
        pid, at = str(uuid7()), start + i * every
        logged.append(
            {
                "prediction_id": pid,
                "time": at,
                "model": "elec",
                "version": version,
                "route": "primary",
                "latency_ms": 1.0 + (i % 7),
                "prediction": str(predicted[i]),
                "probabilities": [float(p) for p in proba[i]],
                "features": features,
            }
        )
        traffic.ids.append(pid)
        traffic.times.append(at)
        traffic.predictions.append(str(predicted[i]))
        traffic.labels.append(str(rows["class"].iloc[i]))
        traffic.probabilities.append([float(p) for p in proba[i]])
    with PredictionLogWriter(ws.home / "predictions") as log:
        log.submit(logged)
    return traffic


def send_feedback(ws: Any, items: Sequence[dict[str, Any]]) -> None:
    """Write feedback rows (``prediction_id``, ``label``, ``time``, optional ``value``)."""
    with FeedbackLogWriter(ws.home / "feedback") as log:
        log.submit(list(items))


def percentile(values: Sequence[float], q: float) -> float:
    """numpy's linear-interpolation percentile, the textbook definition the cycle uses."""
    return float(np.percentile(np.asarray(values, dtype=float), q))
