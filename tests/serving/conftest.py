"""Fixtures for the server tests: real models on elec2, apps in process, servers on loopback."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI
from sklearn.linear_model import LogisticRegression

from driftline import Workspace
from driftline.registry import ModelVersion
from driftline.serving import ServingOptions, create_app

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
TARGET = "class"


@pytest.fixture(scope="session")
def elec() -> pd.DataFrame:
    """The first 6,000 rows of elec2 (8 numeric features, label UP/DOWN)."""
    path = DATASETS / "elec2.csv.gz"
    if not path.is_file():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    return pd.read_csv(path, nrows=6000)


def fit(frame: pd.DataFrame, *, flip: bool = False, c: float = 1.0) -> LogisticRegression:
    """A logistic regression on ``frame`` (labels swapped with ``flip``)."""
    labels = frame[TARGET]
    if flip:
        labels = labels.map({"UP": "DOWN", "DOWN": "UP"})
    return LogisticRegression(C=c, max_iter=500).fit(frame.drop(columns=[TARGET]), labels)


@dataclass
class Models:
    """A workspace with elec v1 (champion) and v2 registered, and their estimators."""

    ws: Workspace
    frame: pd.DataFrame
    estimators: dict[int, LogisticRegression] = field(default_factory=dict)
    versions: dict[int, ModelVersion] = field(default_factory=dict)

    @property
    def features(self) -> pd.DataFrame:
        return self.frame.drop(columns=[TARGET])

    def register(self, estimator: LogisticRegression, rows: pd.DataFrame) -> ModelVersion:
        version = self.ws.registry.register("elec", estimator, frame=rows, target=TARGET)
        self.estimators[version.version] = estimator
        self.versions[version.version] = version
        return version


@pytest.fixture(scope="session")
def template_home(tmp_path_factory: pytest.TempPathFactory, elec: pd.DataFrame) -> Path:
    """A workspace with elec v1 (rows 0-3000, champion) and v2 (rows 3000-6000), made once."""
    home = tmp_path_factory.mktemp("serving") / "home"
    with Workspace.open(home=home) as ws:
        for rows, c in ((elec.iloc[:3000], 1.0), (elec.iloc[3000:6000], 0.01)):
            ws.registry.register("elec", fit(rows, c=c), frame=rows, target=TARGET)
        ws.registry.promote("elec", 1, reason="first champion")
    return home


@pytest.fixture
def models(tmp_path: Path, elec: pd.DataFrame, template_home: Path) -> Iterator[Models]:
    """A fresh copy of the template workspace, with the estimators loaded back."""
    home = tmp_path / "home"
    shutil.copytree(template_home, home)
    with Workspace.open(home=home) as ws:
        out = Models(ws, elec.iloc[3000:3400].reset_index(drop=True))
        for version in ws.registry.list("elec"):
            out.versions[version.version] = version
            out.estimators[version.version] = ws.registry.load(version).native
        yield out


class Ticker:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def quiet_options(**changes: Any) -> ServingOptions:
    """Options with no background timers, so tests decide when things happen."""
    quiet = {"poll_interval_s": 0, "canary_interval_s": 0, "compact_interval_s": 0}
    return ServingOptions(**{**quiet, **changes})


@pytest.fixture
def options() -> Callable[..., ServingOptions]:
    """``options(**changes)``: serving options without background timers."""
    return quiet_options


Scenario = Callable[[httpx.AsyncClient, FastAPI], Awaitable[Any]]


def run_app(app: FastAPI, scenario: Scenario) -> Any:
    """Start ``app`` (lifespan included), wait for its models, run ``scenario`` against it."""

    async def main() -> Any:
        async with app.router.lifespan_context(app):
            await app.state.server.wait_ready(timeout=60)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await scenario(client, app)

    return asyncio.run(main())


@pytest.fixture(name="run_app")
def run_app_fixture() -> Callable[[FastAPI, Scenario], Any]:
    """``run_app(app, scenario)``: run an async scenario against a started app."""
    return run_app


@pytest.fixture
def ticker() -> Ticker:
    """A hand-moved clock."""
    return Ticker()


@pytest.fixture(name="fit")
def fit_fixture() -> Callable[..., LogisticRegression]:
    """``fit(frame, flip=False, c=1.0)``: a logistic regression on elec rows."""
    return fit


@pytest.fixture
def make_app(models: Models) -> Callable[..., FastAPI]:
    """``make_app(models=[...], **create_app_kwargs)`` on the fixture workspace."""

    def build(refs: list[str] | None = None, **kwargs: Any) -> FastAPI:
        kwargs.setdefault("options", quiet_options())
        return create_app(models.ws, models=refs or ["models:/elec@champion"], **kwargs)

    return build
