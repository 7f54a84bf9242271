"""Hypothesis invariants of evaluate() and compare()."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from driftline.training import compare, evaluate

CLASSIFICATION = ["accuracy", "balanced_accuracy", "f1", "f1_macro", "roc_auc", "log_loss", "brier"]
REGRESSION = ["rmse", "mae", "r2"]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def binary_holdouts(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Labels with both classes, two label predictions and two probability vectors."""
    n = draw(st.integers(6, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    probas = rng.random((2, n)).round(draw(st.sampled_from([1, 2, 6])))
    preds = (probas > 0.5).astype(int)
    return y, preds[0], preds[1], probas[0], probas[1]


@st.composite
def regression_holdouts(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(4, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y = rng.normal(draw(st.floats(-1e3, 1e3)), draw(st.floats(0.1, 100.0)), n)
    return y, y + rng.normal(0, 1, n), y + rng.normal(0, 2, n)


@PROPERTY
@given(binary_holdouts(), st.sampled_from(CLASSIFICATION), st.integers(0, 1000))
def test_identical_classifiers_differ_by_exactly_zero(
    holdout: tuple[np.ndarray, ...], metric: str, seed: int
) -> None:
    y, pred, _, proba, _ = holdout
    assume(metric != "f1" or (pred == 1).any())
    result = compare(
        y,
        pred,
        pred.copy(),
        metric=metric,
        champion_proba=proba,
        challenger_proba=proba.copy(),
        n_boot=60,
        seed=seed,
    )
    assert (result.difference, result.ci_low, result.ci_high) == (0.0, 0.0, 0.0)
    assert not result.promote
    assert result.p_value == 1.0


@PROPERTY
@given(regression_holdouts(), st.sampled_from(REGRESSION))
def test_identical_regressors_differ_by_exactly_zero(
    holdout: tuple[np.ndarray, ...], metric: str
) -> None:
    y, pred, _ = holdout
    result = compare(y, pred, pred.copy(), metric=metric, n_boot=60)
    assert (result.difference, result.ci_low, result.ci_high) == (0.0, 0.0, 0.0)
    assert result.p_value == 1.0 and not result.promote


@PROPERTY
@given(binary_holdouts(), st.sampled_from(CLASSIFICATION), st.integers(0, 1000))
def test_swapping_champion_and_challenger_negates_the_difference(
    holdout: tuple[np.ndarray, ...], metric: str, seed: int
) -> None:
    y, a, b, pa, pb = holdout
    assume(metric != "f1" or ((a == 1).any() and (b == 1).any()))
    kwargs = {"metric": metric, "n_boot": 60, "seed": seed}
    forward = compare(y, a, b, champion_proba=pa, challenger_proba=pb, **kwargs)  # type: ignore[arg-type]
    backward = compare(y, b, a, champion_proba=pb, challenger_proba=pa, **kwargs)  # type: ignore[arg-type]
    assert backward.difference == -forward.difference
    assert backward.ci_low == -forward.ci_high  # type: ignore[operator]
    assert backward.ci_high == -forward.ci_low  # type: ignore[operator]
    assert backward.p_value == forward.p_value
    assert not (forward.promote and backward.promote)


@PROPERTY
@given(regression_holdouts(), st.sampled_from(REGRESSION))
def test_swapping_regressors_negates_the_difference(
    holdout: tuple[np.ndarray, ...], metric: str
) -> None:
    y, a, b = holdout
    forward = compare(y, a, b, metric=metric, n_boot=60, seed=3)
    backward = compare(y, b, a, metric=metric, n_boot=60, seed=3)
    assert (backward.difference, backward.ci_low, backward.ci_high) == (
        -forward.difference,
        -forward.ci_high,  # type: ignore[operator]
        -forward.ci_low,  # type: ignore[operator]
    )


@PROPERTY
@given(binary_holdouts(), st.integers(1, 4))
def test_slices_partition_the_rows_and_one_slice_equals_overall(
    holdout: tuple[np.ndarray, ...], n_groups: int
) -> None:
    y, pred, _, proba, _ = holdout
    groups = np.arange(len(y)) % n_groups
    ev = evaluate("classification", y, pred, proba, slices={"g": groups, "all": np.zeros(len(y))})
    assert sum(int(row["n"] or 0) for row in ev.per_slice["g"].values()) == len(y)
    whole = ev.per_slice["all"]["0.0"]
    for name, value in ev.overall.items():
        assert whole[name] == value or (value is not None and abs(whole[name] - value) < 1e-12)  # type: ignore[operator]
