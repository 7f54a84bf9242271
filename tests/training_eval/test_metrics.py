"""evaluate(): values equal scikit-learn's, per-slice values, degenerate inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import driftline.training as training
from driftline.exceptions import ValidationError
from driftline.training import METRICS, evaluate


def _binary(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + 0.65 * rng.random(n), 0.0, 1.0)
    return y, (p > 0.5).astype(int), p


def _multiclass(n: int = 600, k: int = 4, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba.argmax(axis=1), proba


def _sklearn_binary(y: np.ndarray, pred: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "f1": skm.f1_score(y, pred),
        "f1_macro": skm.f1_score(y, pred, average="macro"),
        "roc_auc": skm.roc_auc_score(y, p),
        "log_loss": skm.log_loss(y, p),
        "brier": skm.brier_score_loss(y, p),
    }


def test_public_names_are_curated() -> None:
    assert sorted(training.__all__) == sorted(
        [
            "METRICS",
            "Comparison",
            "Evaluation",
            "McNemarResult",
            "MetricSpec",
            "Run",
            "SliceComparison",
            "Trainer",
            "TrainingError",
            "TrainingResult",
            "compare",
            "evaluate",
            "mcnemar",
        ]
    )
    for name in training.__all__:
        assert getattr(training, name) is not None


def test_direction_table_covers_every_metric() -> None:
    lower_is_better = {name for name, spec in METRICS.items() if not spec.higher_is_better}
    assert lower_is_better == {"log_loss", "brier", "rmse", "mae"}
    assert {s.name for s in METRICS.values() if s.needs_proba} == {"roc_auc", "log_loss", "brier"}
    with pytest.raises(TypeError):
        METRICS["accuracy"] = METRICS["f1"]  # type: ignore[index]


def test_binary_metrics_equal_sklearn() -> None:
    y, pred, p = _binary()
    ev = evaluate("classification", y, pred, p)
    assert ev.overall == pytest.approx(_sklearn_binary(y, pred, p), rel=1e-12, abs=1e-12)
    assert ev.undefined == {} and ev.labels == (0, 1) and ev.n == len(y)


def test_two_column_proba_and_string_labels_give_the_same_values() -> None:
    y, pred, p = _binary(seed=3)
    names = np.array(["no", "yes"])
    one_column = evaluate("classification", names[y], names[pred], p)
    two_columns = evaluate("classification", names[y], names[pred], np.column_stack([1 - p, p]))
    assert one_column.overall == pytest.approx(two_columns.overall, rel=1e-12)
    assert one_column.overall == pytest.approx(_sklearn_binary(y, pred, p), rel=1e-12)
    assert one_column.labels == ("no", "yes")


def test_pos_label_picks_the_positive_class() -> None:
    y, pred, p = _binary(seed=4)
    ev = evaluate("classification", y, pred, 1 - p, pos_label=0)
    assert ev.overall["f1"] == pytest.approx(skm.f1_score(y, pred, pos_label=0), rel=1e-12)
    assert ev.overall["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), rel=1e-12)


def test_multiclass_metrics_equal_sklearn() -> None:
    y, pred, proba = _multiclass()
    ev = evaluate("classification", y, pred, proba)
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "f1_macro": skm.f1_score(y, pred, average="macro"),
        "roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"),
        "log_loss": skm.log_loss(y, proba),
        "brier": skm.brier_score_loss(y, proba),
    }
    assert {k: v for k, v in ev.overall.items() if k != "f1"} == pytest.approx(expected, rel=1e-12)
    assert ev.overall["f1"] is None and "f1_macro" in ev.undefined["f1"]


def test_ties_in_scores_count_half_as_sklearn_does() -> None:
    y, _, p = _binary(n=300, seed=5)
    coarse = np.round(p, 1)
    ev = evaluate("classification", y, (coarse > 0.5).astype(int), coarse)
    assert ev.overall["roc_auc"] == pytest.approx(skm.roc_auc_score(y, coarse), rel=1e-12)


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(100.0, 20.0, 500)
    pred = y + rng.normal(0.0, 5.0, 500)
    ev = evaluate("regression", y, pred)
    assert ev.overall == pytest.approx(
        {
            "rmse": skm.root_mean_squared_error(y, pred),
            "mae": skm.mean_absolute_error(y, pred),
            "r2": skm.r2_score(y, pred),
        },
        rel=1e-10,
    )


def test_per_slice_metrics_equal_sklearn_on_each_subset() -> None:
    y, pred, p = _binary(n=900, seed=6)
    region = np.random.default_rng(7).choice(["north", "south", "east"], size=len(y))
    ev = evaluate("classification", y, pred, p, slices={"region": region})
    assert set(ev.per_slice["region"]) == {"east", "north", "south"}
    for value, row in ev.per_slice["region"].items():
        mask = region == value
        assert row["n"] == int(mask.sum())
        expected = _sklearn_binary(y[mask], pred[mask], p[mask])
        assert {k: v for k, v in row.items() if k != "n"} == pytest.approx(expected, rel=1e-10)


def test_regression_slices_from_a_dataframe() -> None:
    rng = np.random.default_rng(8)
    y = rng.normal(1000.0, 10.0, 600)
    pred = y + rng.normal(0.0, 3.0, 600)
    frame = pd.DataFrame({"season": rng.choice(["winter", "summer"], 600), "x": rng.random(600)})
    ev = evaluate("regression", y, pred, slices=frame[["season"]])
    for value, row in ev.per_slice["season"].items():
        mask = (frame["season"] == value).to_numpy()
        assert row["r2"] == pytest.approx(skm.r2_score(y[mask], pred[mask]), rel=1e-9)
        assert row["rmse"] == pytest.approx(
            skm.root_mean_squared_error(y[mask], pred[mask]), rel=1e-12
        )


def test_one_class_only_gives_none_roc_auc_with_a_reason() -> None:
    y = np.ones(20, dtype=int)
    pred = np.r_[np.ones(15, dtype=int), np.zeros(5, dtype=int)]
    p = np.linspace(0.1, 0.9, 20)
    ev = evaluate("classification", y, pred, p)
    assert ev.overall["roc_auc"] is None
    assert "one class" in ev.undefined["roc_auc"]
    assert ev.overall["accuracy"] == 0.75
    assert ev.overall["log_loss"] == pytest.approx(skm.log_loss(y, p, labels=[0, 1]), rel=1e-12)


def test_no_probabilities_leaves_probability_metrics_none() -> None:
    y, pred, _ = _binary(n=50)
    ev = evaluate("classification", y, pred)
    for name in ("roc_auc", "log_loss", "brier"):
        assert ev.overall[name] is None
        assert ev.undefined[name] == "needs predicted probabilities"


def test_empty_and_degenerate_slices_are_none_with_reasons() -> None:
    y = np.array([0, 1, 0, 1, 1, 1])
    pred = np.array([0, 1, 1, 1, 0, 1])
    p = np.array([0.2, 0.8, 0.6, 0.7, 0.4, 0.9])
    group = pd.Categorical(["a", "a", "a", "b", "b", "b"], categories=["a", "b", "unused"])
    ev = evaluate("classification", y, pred, p, slices={"group": group})
    assert ev.per_slice["group"]["unused"]["n"] == 0
    assert ev.per_slice["group"]["unused"]["accuracy"] is None
    assert ev.undefined["group=unused/accuracy"] == "empty slice"
    assert ev.per_slice["group"]["b"]["roc_auc"] is None  # only positives in slice b
    assert "one class" in ev.undefined["group=b/roc_auc"]
    assert ev.per_slice["group"]["a"]["accuracy"] == pytest.approx(2 / 3)


def test_missing_slice_values_form_their_own_slice() -> None:
    y, pred, _ = _binary(n=10)
    tier = ["gold"] * 5 + [None] * 5
    ev = evaluate("classification", y, pred, slices={"tier": tier})
    assert ev.per_slice["tier"]["<missing>"]["n"] == 5
    assert ev.per_slice["tier"]["<missing>"]["accuracy"] == skm.accuracy_score(y[5:], pred[5:])


def test_constant_target_leaves_r2_undefined() -> None:
    ev = evaluate("regression", np.full(10, 3.0), np.linspace(2.0, 4.0, 10))
    assert ev.overall["r2"] is None and "constant" in ev.undefined["r2"]
    assert ev.overall["mae"] == pytest.approx(
        skm.mean_absolute_error(np.full(10, 3.0), np.linspace(2, 4, 10))
    )


def test_to_dict_is_json_ready_and_a_copy() -> None:
    y, pred, p = _binary(n=40)
    ev = evaluate("classification", y, pred, p, slices={"s": np.arange(40) % 2})
    out = ev.to_dict()
    assert json.loads(json.dumps(out)) == out
    out["per_slice"]["s"]["0"]["accuracy"] = -1.0
    assert ev.per_slice["s"]["0"]["accuracy"] != -1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_pred": [0, 1, np.nan, 1]}, r"y_pred has 1 missing or NaN values \(first at row 2\)"),
        ({"y_pred": [0, 1, 1]}, r"y_pred has 3 rows but y_true has 4"),
        ({"y_true": []}, r"y_true is empty"),
        ({"proba": [0.1, 0.2, 0.3]}, r"proba has 3 rows but y_true has 4"),
        ({"proba": [0.1, np.nan, 0.3, 0.9]}, r"proba has 1 missing or NaN"),
        ({"proba": [[0.5, 0.6]] * 4}, r"proba row 0 sums to 1\.1"),
        ({"proba": [1.5, 0.2, 0.3, 0.9]}, r"proba has values outside \[0, 1\]"),
        ({"proba": [[0.2, 0.3, 0.5]] * 4}, r"proba has shape \(4, 3\) but there are 2 labels"),
        ({"y_pred": ["a", "b", "a", "b"]}, r"y_true holds numbers, y_pred holds strings"),
        ({"y_pred": [0, 1, 1, 0], "labels": [0]}, r"y_true holds labels not in labels=: \[1\]"),
        ({"pos_label": 7}, r"pos_label 7 is not one of the labels \[0, 1\]"),
        ({"slices": {"g": [1, 2]}}, r"slices\['g'\] has 2 rows but y_true has 4"),
        ({"slices": [1, 2, 3, 4]}, r"slices must be a mapping"),
        ({"task": "ranking"}, r"task must be 'classification' or 'regression'"),
        ({"y_pred": [[0, 1], [1, 0], [0, 1], [1, 0]]}, r"y_pred must be one-dimensional"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_input_is_a_validation_error_naming_the_argument(
    kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "task": "classification",
        "y_true": [0, 1, 0, 1],
        "y_pred": [0, 1, 1, 1],
        "proba": None,
    }
    extra = {k: kwargs[k] for k in ("slices", "labels", "pos_label") if k in kwargs}
    args.update({k: v for k, v in kwargs.items() if k not in extra})
    with pytest.raises(ValidationError, match=message):
        evaluate(*args.values(), **extra)  # type: ignore[arg-type]


def test_regression_rejects_text_infinite_values_and_probabilities() -> None:
    with pytest.raises(ValidationError, match="y_pred must hold numbers"):
        evaluate("regression", [1.0, 2.0], ["a", "b"])
    with pytest.raises(ValidationError, match="y_true has infinite values"):
        evaluate("regression", [1.0, np.inf], [1.0, 2.0])
    with pytest.raises(ValidationError, match="proba is only for classification"):
        evaluate("regression", [1.0, 2.0], [1.0, 2.0], [0.5, 0.5])


def test_holdout_missing_a_class_needs_labels_for_the_proba_columns() -> None:
    y, pred, proba = _multiclass(n=60, k=3)
    keep = y != 2
    with pytest.raises(ValidationError, match="pass labels="):
        evaluate("classification", y[keep], np.minimum(pred[keep], 1), proba[keep])
    ev = evaluate(
        "classification", y[keep], np.minimum(pred[keep], 1), proba[keep], labels=[0, 1, 2]
    )
    assert ev.overall["log_loss"] == pytest.approx(
        skm.log_loss(y[keep], proba[keep], labels=[0, 1, 2]), rel=1e-12
    )
