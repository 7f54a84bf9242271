"""Demo scenarios: real, time-ordered data shipped in the package, and how to model it."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd

from driftline.exceptions import ValidationError

__all__ = ["SCENARIOS", "Scenario", "train_model"]


@dataclass(frozen=True)
class Scenario:
    """A stream: which file, which label, what trains v1, what is replayed, in what windows."""

    name: str
    file: str
    target: str
    train_rows: int
    replay_rows: int
    window_rows: int
    drop: tuple[str, ...] = ()
    description: str = ""

    def load(self) -> pd.DataFrame:
        """The dataset, from the package, in time order."""
        source = resources.files("driftline.demo") / "data" / self.file
        with source.open("rb") as raw, gzip.open(raw) as unzipped:
            frame = pd.read_csv(unzipped)
        return frame.drop(columns=list(self.drop))


SCENARIOS = {
    "elec2": Scenario(
        "elec2",
        "elec2.csv.gz",
        "class",
        train_rows=3000,
        replay_rows=24_000,
        window_rows=1000,
        drop=("date",),
        description="NSW electricity prices, 30-minute steps from May 1996; the Victorian "
        "market's columns start moving after about 17,000 rows.",
    ),
    "bank": Scenario(
        "bank",
        "bank_marketing.csv.gz",
        "y",
        train_rows=5000,
        replay_rows=36_000,
        window_rows=2000,
        drop=("duration",),
        description="Bank telemarketing calls, May 2008 to Nov 2010; the share of 'yes' grows "
        "from 3% to nearly 50% as the campaigns change.",
    ),
}


def get(name: str) -> Scenario:
    """The scenario called ``name``."""
    if name not in SCENARIOS:
        raise ValidationError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def train_model(frame: pd.DataFrame, params: dict[str, Any]) -> Any:
    """The demo's training function: one-hot text columns, then a random forest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    target = params["target"]
    features = frame.drop(columns=[target])
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    encode = ColumnTransformer(
        [("text", OneHotEncoder(handle_unknown="ignore"), text)], remainder="passthrough"
    )
    forest = RandomForestClassifier(
        n_estimators=40, min_samples_leaf=3, n_jobs=1, random_state=params.get("seed", 0)
    )
    return Pipeline([("encode", encode), ("forest", forest)]).fit(features, frame[target])
