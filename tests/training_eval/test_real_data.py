"""Champion/challenger on real data: models of different quality trained on Adult and Bike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from driftline.training import compare, evaluate

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["workclass", "marital-status", "occupation", "relationship", "sex"]
DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


@dataclass(frozen=True)
class Holdout:
    frame: pd.DataFrame
    y: np.ndarray
    medium: np.ndarray  # numeric features only
    strong: np.ndarray  # numeric and categorical features
    strong_proba: np.ndarray
    medium_proba: np.ndarray
    twin: np.ndarray  # the strong model refitted with another C on reversed rows


def _strong(c: float) -> Pipeline:
    encode = make_column_transformer(
        (StandardScaler(), NUMERIC), (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)
    )
    return make_pipeline(encode, LogisticRegression(C=c, max_iter=500))


@pytest.fixture(scope="module")
def adult() -> Holdout:
    path = DATASETS / "adult.csv.gz"
    if not path.is_file():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    df = pd.read_csv(path).sample(n=16_000, random_state=0).reset_index(drop=True)
    for col in CATEGORICAL:
        df[col] = df[col].astype(str).str.strip()
    y = (df["Salary"].astype(str).str.strip() == ">50K").to_numpy().astype(int)
    train, test, y_train = df.iloc[:8000], df.iloc[8000:], y[:8000]
    medium = make_pipeline(StandardScaler(), LogisticRegression()).fit(train[NUMERIC], y_train)
    strong = _strong(1.0).fit(train[NUMERIC + CATEGORICAL], y_train)
    twin = _strong(0.5).fit(train[NUMERIC + CATEGORICAL].iloc[::-1], y_train[::-1])
    features = test[NUMERIC + CATEGORICAL]
    return Holdout(
        frame=test.reset_index(drop=True),
        y=y[8000:],
        medium=medium.predict(test[NUMERIC]),
        strong=strong.predict(features),
        strong_proba=strong.predict_proba(features),
        medium_proba=medium.predict_proba(test[NUMERIC]),
        twin=twin.predict(features),
    )


def test_evaluation_of_a_real_model_matches_sklearn_per_slice(adult: Holdout) -> None:
    ev = evaluate(
        "classification",
        adult.y,
        adult.strong,
        adult.strong_proba,
        slices=adult.frame[["sex", "relationship"]],
    )
    assert ev.overall["roc_auc"] == pytest.approx(
        skm.roc_auc_score(adult.y, adult.strong_proba[:, 1]), rel=1e-12
    )
    assert sum(int(row["n"] or 0) for row in ev.per_slice["relationship"].values()) == len(adult.y)
    female = (adult.frame["sex"] == "Female").to_numpy()
    assert ev.per_slice["sex"]["Female"]["f1"] == pytest.approx(
        skm.f1_score(adult.y[female], adult.strong[female]), rel=1e-12
    )


@pytest.mark.parametrize("metric", ["accuracy", "roc_auc", "log_loss"])
def test_the_better_model_is_promoted(adult: Holdout, metric: str) -> None:
    result = compare(
        adult.y,
        adult.medium,
        adult.strong,
        metric=metric,
        champion_proba=adult.medium_proba,
        challenger_proba=adult.strong_proba,
        slices=adult.frame[["sex"]],
        n_boot=1000,
    )
    assert result.promote and result.ci_low > 0  # type: ignore[operator]
    assert result.p_value is not None and result.p_value < 1e-6


def test_an_equally_good_refit_is_not_promoted(adult: Holdout) -> None:
    result = compare(adult.y, adult.strong, adult.twin, slices=adult.frame[["sex"]], n_boot=1000)
    assert not result.promote
    assert result.ci_low is not None and result.ci_low <= 0 <= (result.ci_high or 0)


def test_a_challenger_broken_on_one_segment_is_blocked_by_that_slice(adult: Holdout) -> None:
    # A challenger whose feature pipeline fails for one segment and falls back to the majority
    # class there: still better overall, far worse for wives.
    wife = (adult.frame["relationship"] == "Wife").to_numpy()
    broken = np.where(wife, 0, adult.strong)
    slices = adult.frame[["relationship", "sex"]]
    overall_only = compare(adult.y, adult.medium, broken, n_boot=1000)
    assert overall_only.promote
    result = compare(adult.y, adult.medium, broken, slices=slices, n_boot=1000)
    assert not result.promote
    assert result.failed_slices == ("relationship=Wife",)


def test_a_better_regressor_is_promoted_on_bike_sharing() -> None:
    path = DATASETS / "bike_sharing_hour.csv.gz"
    if not path.is_file():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    bike = pd.read_csv(path).sample(n=8000, random_state=1)
    hours = pd.get_dummies(bike["hr"], prefix="hr", dtype=float)
    base = bike[["temp", "hum", "windspeed", "yr"]]
    train, test = slice(0, 4000), slice(4000, 8000)
    y = bike["cnt"].to_numpy(dtype=float)
    weak = LinearRegression().fit(base.iloc[train], y[train]).predict(base.iloc[test])
    rich = pd.concat([base, hours], axis=1)
    good = LinearRegression().fit(rich.iloc[train], y[train]).predict(rich.iloc[test])
    result = compare(
        y[test], weak, good, metric="rmse", slices=bike.iloc[test][["season"]], n_boot=1000
    )
    assert result.promote and result.test == "paired_t_squared_error"
    assert result.difference == pytest.approx(
        skm.root_mean_squared_error(y[test], weak) - skm.root_mean_squared_error(y[test], good)
    )
    assert [s.value for s in result.slices] == ["1", "2", "3", "4"]
