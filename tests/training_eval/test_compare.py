"""compare(): the promotion rule on better, equal and slice-regressing challengers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from driftline.exceptions import ValidationError
from driftline.training import compare
from driftline.training._inputs import prepare_classification, prepare_regression
from driftline.training._metrics import metric_values
from driftline.training._weights import bootstrap_weights

REQUIRED_KEYS = {"metric", "difference", "ci_low", "ci_high", "p_value", "promote"}


def _classifiers(
    n: int, champion_acc: float, challenger_acc: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary labels and two classifiers that are right with the given rates, independently."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    champion = np.where(rng.random(n) < champion_acc, y, 1 - y)
    challenger = np.where(rng.random(n) < challenger_acc, y, 1 - y)
    return y, champion, challenger


def test_truly_better_challenger_is_promoted() -> None:
    y, champion, challenger = _classifiers(2000, 0.80, 0.88, seed=1)
    result = compare(y, champion, challenger, n_boot=1000)
    expected = skm.accuracy_score(y, challenger) - skm.accuracy_score(y, champion)
    assert result.difference == pytest.approx(expected, abs=1e-12)
    assert 0 < result.ci_low < result.difference < result.ci_high  # type: ignore[operator]
    assert result.promote and result.failed_slices == ()
    assert result.p_value is not None and result.p_value < 1e-6
    assert result.test == "mcnemar_chi2_cc"
    assert result.mcnemar is not None
    b = int(((champion == y) & (challenger != y)).sum())
    c = int(((champion != y) & (challenger == y)).sum())
    assert (result.mcnemar.champion_only, result.mcnemar.challenger_only) == (b, c)
    assert "above min_improvement" in result.reasons[0]


def test_equal_models_are_not_promoted() -> None:
    y, champion, challenger = _classifiers(2000, 0.85, 0.85, seed=2)
    result = compare(y, champion, challenger, n_boot=1000)
    assert not result.promote
    assert result.ci_low < 0 < result.ci_high  # type: ignore[operator]
    assert "not above min_improvement" in result.reasons[0]


def test_equal_models_are_promoted_at_most_at_the_nominal_one_sided_rate() -> None:
    # The rule is one-sided at (1 - confidence) / 2 = 2.5%: over 300 independent pairs of
    # equally good models, promotions are Binomial(300, <=0.025); 17 is its 99.9th percentile.
    promoted = covered = 0
    for seed in range(300):
        y, champion, challenger = _classifiers(300, 0.8, 0.8, seed=1000 + seed)
        result = compare(y, champion, challenger, n_boot=300, seed=seed)
        promoted += result.promote
        covered += result.ci_low <= 0.0 <= result.ci_high  # type: ignore[operator]
    assert promoted <= stats.binom.ppf(0.999, 300, 0.025)
    assert covered >= 0.9 * 300


def _slice_case(seed: int = 3) -> tuple[np.ndarray, ...]:
    """Challenger better on segments a and b, much worse on the 20% segment c."""
    rng = np.random.default_rng(seed)
    n = 3000
    y = rng.integers(0, 2, n)
    segment = rng.choice(np.array(["a", "b", "c"]), size=n, p=[0.4, 0.4, 0.2])
    champion = np.where(rng.random(n) < 0.80, y, 1 - y)
    challenger_acc = np.where(segment == "c", 0.65, 0.93)
    challenger = np.where(rng.random(n) < challenger_acc, y, 1 - y)
    return y, champion, challenger, segment


def test_better_overall_but_worse_on_a_slice_is_not_promoted_and_names_it() -> None:
    y, champion, challenger, segment = _slice_case()
    without_slices = compare(y, champion, challenger, n_boot=500)
    assert without_slices.promote  # clearly better overall ...
    result = compare(y, champion, challenger, slices={"segment": segment}, n_boot=500)
    assert not result.promote  # ... but segment c blocks it
    assert result.failed_slices == ("segment=c",)
    assert result.ci_low == without_slices.ci_low
    by_value = {s.value: s for s in result.slices}
    mask = segment == "c"
    expected = skm.accuracy_score(y[mask], challenger[mask]) - skm.accuracy_score(
        y[mask], champion[mask]
    )
    assert by_value["c"].difference == pytest.approx(expected, abs=1e-12)
    assert by_value["c"].failed and by_value["c"].n == int(mask.sum())
    assert not by_value["a"].failed and by_value["a"].difference > 0  # type: ignore[operator]
    assert any("slice segment=c" in reason for reason in result.reasons)


def test_a_looser_slice_tolerance_lets_the_same_challenger_through() -> None:
    y, champion, challenger, segment = _slice_case()
    result = compare(
        y, champion, challenger, slices={"segment": segment}, n_boot=300, max_slice_regression=0.5
    )
    assert result.promote and result.failed_slices == ()


def test_slices_below_min_slice_rows_are_reported_but_do_not_gate() -> None:
    y, champion, challenger = _classifiers(1000, 0.8, 0.9, seed=4)
    tiny = np.zeros(len(y), dtype=int)
    wrong = np.flatnonzero((challenger != y) & (champion == y))[:5]
    tiny[wrong] = 1  # five rows where only the challenger errs: a 100% regression
    gated = compare(y, champion, challenger, slices={"tiny": tiny}, n_boot=300)
    assert gated.failed_slices == ("tiny=1",) and not gated.promote
    lenient = compare(y, champion, challenger, slices={"tiny": tiny}, n_boot=300, min_slice_rows=30)
    assert lenient.promote and lenient.failed_slices == ()
    row = next(s for s in lenient.slices if s.value == "1")
    assert row.difference == -1.0 and "min_slice_rows" in row.note


def test_a_seed_fixes_the_interval() -> None:
    y, champion, challenger = _classifiers(800, 0.8, 0.83, seed=5)
    first = compare(y, champion, challenger, n_boot=400, seed=7).to_dict()
    again = compare(y, champion, challenger, n_boot=400, seed=7).to_dict()
    other = compare(y, champion, challenger, n_boot=400, seed=8).to_dict()
    assert first == again
    assert other["difference"] == first["difference"]
    assert (other["ci_low"], other["ci_high"]) != (first["ci_low"], first["ci_high"])


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "f1_macro", "roc_auc"])
def test_bootstrap_weights_are_resamples_and_kernels_equal_sklearn_on_them(metric: str) -> None:
    rng = np.random.default_rng(6)
    n = 120
    y = rng.integers(0, 3, n)
    proba = rng.dirichlet(np.ones(3), n)
    pred = proba.argmax(axis=1)
    truth, (model,) = prepare_classification({"y_true": y, "y_pred": pred}, [("proba", proba)])
    scorers = {
        "accuracy": lambda i: skm.accuracy_score(y[i], pred[i]),
        "balanced_accuracy": lambda i: skm.balanced_accuracy_score(y[i], pred[i]),
        "f1_macro": lambda i: skm.f1_score(y[i], pred[i], average="macro"),
        "roc_auc": lambda i: skm.roc_auc_score(y[i], proba[i], multi_class="ovr"),
    }
    _, weights = next(bootstrap_weights(n, 5, seed=11))
    assert np.array_equal(weights.sum(axis=1), np.full(5, n))
    values = metric_values(metric, weights, truth, model)
    for row, value in zip(weights, values, strict=True):
        rows = np.repeat(np.arange(n), row.astype(int))  # the resample as row indices
        assert value == pytest.approx(scorers[metric](rows), rel=1e-12)


def test_regression_bootstrap_kernels_equal_sklearn_on_resamples() -> None:
    rng = np.random.default_rng(7)
    y = rng.normal(50.0, 10.0, 90)
    pred = y + rng.normal(0.0, 4.0, 90)
    truth, (model,) = prepare_regression({"y_true": y, "y_pred": pred})
    _, weights = next(bootstrap_weights(90, 4, seed=3))
    for row, r2 in zip(weights, metric_values("r2", weights, truth, model), strict=True):
        rows = np.repeat(np.arange(90), row.astype(int))
        assert r2 == pytest.approx(skm.r2_score(y[rows], pred[rows]), rel=1e-10)


def test_lower_is_better_metrics_are_sign_adjusted() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 1500)
    sharp = np.clip(0.6 * y + 0.4 * rng.random(1500), 0.01, 0.99)
    blunt = np.clip(0.2 * y + 0.8 * rng.random(1500), 0.01, 0.99)
    labels = (sharp > 0.5).astype(int), (blunt > 0.5).astype(int)
    result = compare(
        y,
        labels[1],
        labels[0],
        metric="log_loss",
        champion_proba=blunt,
        challenger_proba=sharp,
        n_boot=500,
    )
    assert result.difference == pytest.approx(skm.log_loss(y, blunt) - skm.log_loss(y, sharp))
    assert result.difference > 0 and result.promote and not result.higher_is_better


def test_regressors_use_a_paired_t_test_on_errors() -> None:
    rng = np.random.default_rng(9)
    y = rng.normal(0.0, 3.0, 1200)
    champion = y + rng.normal(0.0, 1.5, 1200)
    challenger = y + rng.normal(0.0, 1.0, 1200)
    rmse = compare(y, champion, challenger, metric="rmse", n_boot=500)
    expected = skm.root_mean_squared_error(y, champion) - skm.root_mean_squared_error(y, challenger)
    assert rmse.difference == pytest.approx(expected, rel=1e-10)
    assert rmse.promote and rmse.mcnemar is None and rmse.test == "paired_t_squared_error"
    se = (y - challenger) ** 2, (y - champion) ** 2
    assert rmse.p_value == pytest.approx(stats.ttest_rel(*se).pvalue, rel=1e-9)
    mae = compare(y, champion, challenger, metric="mae", n_boot=200)
    assert mae.test == "paired_t_absolute_error"
    ae = np.abs(y - challenger), np.abs(y - champion)
    assert mae.p_value == pytest.approx(stats.ttest_rel(*ae).pvalue, rel=1e-9)


def test_to_dict_holds_the_contract_keys_and_the_evidence() -> None:
    y, champion, challenger, segment = _slice_case(seed=10)
    out = compare(y, champion, challenger, slices={"segment": segment}, n_boot=200).to_dict()
    assert set(out) >= REQUIRED_KEYS
    assert json.loads(json.dumps(out)) == out
    assert {"n", "seed", "n_boot", "mcnemar", "slices", "reasons", "failed_slices"} <= set(out)
    assert out["mcnemar"]["method"] == "chi2_cc"
    assert [s["value"] for s in out["slices"]] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "auc"}, r"metric 'auc' is unknown"),
        ({"n_boot": 0}, r"n_boot must be an integer >= 1"),
        ({"seed": -1}, r"seed must be an integer >= 0"),
        ({"confidence": 1.0}, r"confidence must be strictly between 0 and 1"),
        ({"confidence": 1.5}, r"confidence must be within"),
        ({"max_slice_regression": -0.1}, r"max_slice_regression must be within"),
        ({"min_improvement": float("nan")}, r"min_improvement must be within"),
        ({"metric": "roc_auc"}, r"needs predicted probabilities \(pass champion_proba=\)"),
        ({"metric": "rmse", "champion_proba": [0.5] * 6}, r"regression metric; drop the probas"),
        ({"slices": {"s": [1, 2]}}, r"slices\['s'\] has 2 rows but y_true has 6"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_arguments_are_validation_errors(kwargs: dict[str, object], message: str) -> None:
    y, champion, challenger = [0, 1, 0, 1, 1, 0], [0, 1, 1, 1, 0, 0], [0, 1, 0, 1, 0, 0]
    with pytest.raises(ValidationError, match=message):
        compare(y, champion, challenger, **kwargs)  # type: ignore[arg-type]


def test_a_metric_undefined_on_the_whole_holdout_is_an_error() -> None:
    y = np.ones(8, dtype=int)
    proba = np.linspace(0.1, 0.9, 8)
    with pytest.raises(ValidationError, match="'roc_auc' is undefined on this holdout"):
        compare(
            y,
            y,
            y,
            metric="roc_auc",
            champion_proba=proba,
            challenger_proba=proba,
            labels=[0, 1],
        )
