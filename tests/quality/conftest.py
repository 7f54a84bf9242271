"""Shared fixtures for the quality tests: the real datasets, read once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / ".." / "shared" / "datasets"


@pytest.fixture(scope="session")
def california() -> pd.DataFrame:
    return pd.read_csv(DATASETS / "california_housing.csv.gz")


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    return pd.read_csv(DATASETS / "adult.csv.gz")


@pytest.fixture(scope="session")
def bank() -> pd.DataFrame:
    """bank_marketing with a ``contacted`` timestamp rebuilt from its day and month columns.

    The rows are in time order from May 2008 to November 2010 but carry no year; the year
    goes up each time the month goes down.
    """
    frame = pd.read_csv(DATASETS / "bank_marketing.csv.gz")
    months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    month = frame["month"].map({m: i for i, m in enumerate(months, 1)})
    year = 2008 + (month.diff().fillna(0) < 0).cumsum()
    frame["contacted"] = pd.to_datetime({"year": year, "month": month, "day": frame["day"]})
    return frame
