"""Champion/challenger comparison on one holdout: paired bootstrap, a paired test, a decision.

The promotion rule is one-sided and conservative: promote only when the lower bound of the
confidence interval of the improvement is above ``min_improvement`` and no declared slice
loses more than ``max_slice_regression``. The p-value is evidence for the record and does not
enter the rule.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from driftline.exceptions import ValidationError
from driftline.training._inputs import (
    Predictions,
    SliceColumn,
    Truth,
    as_slices,
    prepare_classification,
    prepare_regression,
)
from driftline.training._metrics import (
    METRICS,
    MetricSpec,
    metric_values,
    row_losses,
    unavailable_reason,
)
from driftline.training._paired_tests import (
    McNemarResult,
    mcnemar_from_correct,
    paired_t_p_value,
)
from driftline.training._weights import bootstrap_weights, slice_weights

__all__ = ["Comparison", "SliceComparison", "compare"]


@dataclass(frozen=True)
class SliceComparison:
    """The metric of both models on one slice value, and the challenger's signed gain."""

    column: str
    value: str
    n: int
    champion: float | None
    challenger: float | None
    difference: float | None  # positive = challenger better, in the metric's units
    failed: bool  # worse by more than max_slice_regression
    note: str = ""  # why this slice was not checked, when it was not


@dataclass(frozen=True)
class Comparison:
    """A challenger compared with the champion on the same holdout, and the decision.

    ``difference`` is challenger minus champion, sign-adjusted so that a positive value always
    means "challenger better" (for log loss, Brier, RMSE and MAE it is champion minus
    challenger). ``ci_low`` and ``ci_high`` are the percentile interval of that difference over
    ``n_boot`` paired bootstrap resamples of the holdout rows. ``p_value`` is two-sided:
    McNemar's test on per-row correctness for a classifier (whatever the metric), a paired
    t-test on per-row squared errors (RMSE, R2) or absolute errors (MAE) for a regressor.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> champion = np.where(rng.random(1000) < 0.80, y, 1 - y)
    >>> challenger = np.where(rng.random(1000) < 0.90, y, 1 - y)
    >>> result = compare(y, champion, challenger, n_boot=500, seed=1)
    >>> result.promote, result.difference > 0, result.ci_low > 0
    (True, True, True)
    >>> sorted(result.to_dict())[:6]
    ['challenger_value', 'champion_value', 'ci_high', 'ci_low', 'confidence', 'difference']
    """

    metric: str
    higher_is_better: bool
    n: int
    champion_value: float
    challenger_value: float
    difference: float
    ci_low: float | None
    ci_high: float | None
    confidence: float
    p_value: float | None
    test: str  # "mcnemar_exact", "mcnemar_chi2_cc", "paired_t_squared_error", ...
    promote: bool
    reasons: tuple[str, ...]
    failed_slices: tuple[str, ...]  # "column=value" of each slice that blocked promotion
    slices: tuple[SliceComparison, ...]
    mcnemar: McNemarResult | None
    n_boot: int
    n_boot_valid: int  # resamples where the metric was defined for both models
    seed: int
    min_improvement: float
    max_slice_regression: float
    min_slice_rows: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: the decision and all its evidence."""
        out = asdict(self)
        out["reasons"] = list(self.reasons)
        out["failed_slices"] = list(self.failed_slices)
        out["slices"] = [asdict(s) for s in self.slices]
        out["mcnemar"] = None if self.mcnemar is None else self.mcnemar.to_dict()
        return out


def _check_number(name: str, value: Any, *, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValidationError(f"{name} must be a number; got {value!r}")
    if not (low <= float(value) <= high) or math.isnan(float(value)):
        raise ValidationError(f"{name} must be within [{low}, {high}]; got {value!r}")
    return float(value)


def _check_count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValidationError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def _check_metric(metric: Any) -> MetricSpec:
    if metric not in METRICS:
        raise ValidationError(f"metric {metric!r} is unknown; choose one of {sorted(METRICS)}")
    return METRICS[metric]


def _prepare(
    spec: MetricSpec, values: dict[str, Any], probas: list[tuple[str, Any]], **label_args: Any
) -> tuple[Truth, Predictions, Predictions]:
    if spec.task == "regression":
        if any(proba is not None for _, proba in probas):
            raise ValidationError(f"metric {spec.name!r} is a regression metric; drop the probas")
        truth, (champion, challenger) = prepare_regression(values)
    else:
        truth, (champion, challenger) = prepare_classification(values, probas, **label_args)
    for role, pred in (("champion", champion), ("challenger", challenger)):
        reason = unavailable_reason(spec.name, truth, pred)
        if reason is not None:
            raise ValidationError(
                f"metric {spec.name!r} cannot be computed for the {role}: {reason}"
                + (f" (pass {role}_proba=)" if spec.needs_proba else "")
            )
    return truth, champion, challenger


def _signed(spec: MetricSpec, champion: np.ndarray, challenger: np.ndarray) -> np.ndarray:
    # "+ 0.0" turns -0.0 into 0.0, so equal models print as 0 in either direction.
    raw = challenger - champion
    return (raw if spec.higher_is_better else -raw) + 0.0


def _bootstrap(
    spec: MetricSpec,
    truth: Truth,
    champion: Predictions,
    challenger: Predictions,
    n_boot: int,
    seed: int,
) -> np.ndarray:
    """Signed differences over paired resamples: both models see the same rows each time."""
    out = np.empty(n_boot)
    for start, weights in bootstrap_weights(truth.n, n_boot, seed):
        values = [metric_values(spec.name, weights, truth, p) for p in (champion, challenger)]
        out[start : start + len(weights)] = _signed(spec, *values)
    return out


def _interval(differences: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    valid = differences[np.isfinite(differences)]
    if len(valid) == 0:
        return None, None
    tail = (1.0 - confidence) / 2.0
    # The upper bound as minus the lower quantile of the negated values: swapping the two
    # models then negates the interval exactly, not just to rounding.
    low = float(np.quantile(valid, tail)) + 0.0
    high = -float(np.quantile(-valid, tail)) + 0.0
    return low, high


def _paired_test(
    spec: MetricSpec, truth: Truth, champion: Predictions, challenger: Predictions
) -> tuple[float | None, str, McNemarResult | None]:
    if spec.task == "classification":
        result = mcnemar_from_correct(
            champion.values == truth.values, challenger.values == truth.values
        )
        return result.p_value, f"mcnemar_{result.method}", result
    losses = [row_losses(spec.name, truth, p) for p in (champion, challenger)]
    kind = "absolute" if spec.name == "mae" else "squared"
    return paired_t_p_value(losses[1] - losses[0]), f"paired_t_{kind}_error", None


@dataclass(frozen=True)
class _Rule:
    """The validated knobs of one comparison."""

    spec: MetricSpec
    min_improvement: float
    max_slice_regression: float
    min_slice_rows: int
    confidence: float
    n_boot: int
    seed: int


def _rule(metric: Any, **knobs: Any) -> _Rule:
    confidence = _check_number("confidence", knobs["confidence"], low=0.0, high=1.0)
    if confidence in (0.0, 1.0):
        raise ValidationError(f"confidence must be strictly between 0 and 1; got {confidence}")
    return _Rule(
        _check_metric(metric),
        _check_number("min_improvement", knobs["min_improvement"], low=-math.inf),
        _check_number("max_slice_regression", knobs["max_slice_regression"], low=0.0),
        _check_count("min_slice_rows", knobs["min_slice_rows"], 1),
        confidence,
        _check_count("n_boot", knobs["n_boot"], 1),
        _check_count("seed", knobs["seed"], 0),
    )


def _point_values(
    spec: MetricSpec, truth: Truth, champion: Predictions, challenger: Predictions
) -> tuple[float, float]:
    ones = np.ones((1, truth.n))
    values = [float(metric_values(spec.name, ones, truth, p)[0]) for p in (champion, challenger)]
    if not all(math.isfinite(v) for v in values):
        raise ValidationError(
            f"metric {spec.name!r} is undefined on this holdout: "
            f"{spec.undefined_when}; choose another metric"
        )
    return values[0], values[1]


def _slice_row(
    rule: _Rule, column: str, key: str, n: int, champion: float, challenger: float
) -> SliceComparison:
    champ = champion if math.isfinite(champion) else None
    chall = challenger if math.isfinite(challenger) else None
    if n == 0:
        return SliceComparison(column, key, n, None, None, None, False, "empty slice")
    if champ is None or chall is None:
        note = f"{rule.spec.name} undefined: {rule.spec.undefined_when}"
        return SliceComparison(column, key, n, champ, chall, None, False, note)
    difference = float(_signed(rule.spec, np.array(champ), np.array(chall)))
    if n < rule.min_slice_rows:
        note = f"not checked: {n} rows < min_slice_rows {rule.min_slice_rows}"
        return SliceComparison(column, key, n, champ, chall, difference, False, note)
    failed = difference < -rule.max_slice_regression
    return SliceComparison(column, key, n, champ, chall, difference, failed)


def _slice_comparisons(
    rule: _Rule,
    column: SliceColumn,
    truth: Truth,
    champion: Predictions,
    challenger: Predictions,
) -> list[SliceComparison]:
    counts = np.bincount(column.codes, minlength=len(column.keys))
    rows = []
    for start, weights in slice_weights(column.codes, len(column.keys)):
        champ = metric_values(rule.spec.name, weights, truth, champion)
        chall = metric_values(rule.spec.name, weights, truth, challenger)
        for i in range(len(weights)):
            key, n = column.keys[start + i], int(counts[start + i])
            rows.append(_slice_row(rule, column.name, key, n, float(champ[i]), float(chall[i])))
    return rows


def _decide(
    rule: _Rule, ci_low: float | None, slices: list[SliceComparison]
) -> tuple[bool, tuple[str, ...]]:
    """Apply the promotion rule; every clause that decided it becomes a reason."""
    name, level = rule.spec.name, f"{rule.confidence:.0%}"
    if ci_low is None:
        improved = False
        reasons = [f"no bootstrap resample had a defined {name}; the improvement is unbounded"]
    else:
        improved = ci_low > rule.min_improvement
        verdict = "above" if improved else "not above"
        reasons = [
            f"lower bound of the {level} interval of the {name} improvement is {ci_low:.4g}, "
            f"{verdict} min_improvement {rule.min_improvement:g}"
        ]
    failed = [s for s in slices if s.failed]
    for s in failed:
        reasons.append(
            f"slice {s.column}={s.value} (n={s.n}): {name} worse by {-(s.difference or 0.0):.4g},"
            f" more than max_slice_regression {rule.max_slice_regression:g}"
        )
    checked = sum(1 for s in slices if not s.note)
    if slices and not failed:
        reasons.append(
            f"none of the {checked} checked slices is worse by more than "
            f"max_slice_regression {rule.max_slice_regression:g}"
        )
    return improved and not failed, tuple(reasons)


def compare(
    y_true: Any,
    champion_pred: Any,
    challenger_pred: Any,
    *,
    metric: str = "accuracy",
    champion_proba: Any = None,
    challenger_proba: Any = None,
    slices: Any = None,
    n_boot: int = 2000,
    seed: int = 0,
    min_improvement: float = 0.0,
    max_slice_regression: float = 0.02,
    confidence: float = 0.95,
    min_slice_rows: int = 1,
    labels: Any = None,
    pos_label: Any = None,
) -> Comparison:
    """Compare a challenger with the champion on the same holdout rows and decide promotion.

    Promote iff the lower bound of the ``confidence`` interval of the improvement is above
    ``min_improvement`` and no slice value of the declared ``slices`` with at least
    ``min_slice_rows`` rows is worse by more than ``max_slice_regression`` (a point difference
    in the metric's units). ``labels`` and ``pos_label`` are as in :func:`evaluate`.
    """
    rule = _rule(
        metric,
        min_improvement=min_improvement,
        max_slice_regression=max_slice_regression,
        min_slice_rows=min_slice_rows,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    truth, champion, challenger = _prepare(
        rule.spec,
        {"y_true": y_true, "champion_pred": champion_pred, "challenger_pred": challenger_pred},
        [("champion_proba", champion_proba), ("challenger_proba", challenger_proba)],
        labels=labels,
        pos_label=pos_label,
    )
    values = _point_values(rule.spec, truth, champion, challenger)
    differences = _bootstrap(rule.spec, truth, champion, challenger, rule.n_boot, rule.seed)
    slice_rows = [
        row
        for column in as_slices(slices, truth.n)
        for row in _slice_comparisons(rule, column, truth, champion, challenger)
    ]
    paired = _paired_test(rule.spec, truth, champion, challenger)
    return _comparison(rule, truth.n, values, differences, paired, slice_rows)


def _comparison(
    rule: _Rule,
    n: int,
    values: tuple[float, float],
    differences: np.ndarray,
    paired: tuple[float | None, str, McNemarResult | None],
    slice_rows: list[SliceComparison],
) -> Comparison:
    ci_low, ci_high = _interval(differences, rule.confidence)
    promote, reasons = _decide(rule, ci_low, slice_rows)
    return Comparison(
        metric=rule.spec.name,
        higher_is_better=rule.spec.higher_is_better,
        n=n,
        champion_value=values[0],
        challenger_value=values[1],
        difference=float(_signed(rule.spec, np.array(values[0]), np.array(values[1]))),
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=rule.confidence,
        p_value=paired[0],
        test=paired[1],
        promote=promote,
        reasons=reasons,
        failed_slices=tuple(f"{s.column}={s.value}" for s in slice_rows if s.failed),
        slices=tuple(slice_rows),
        mcnemar=paired[2],
        n_boot=rule.n_boot,
        n_boot_valid=int(np.isfinite(differences).sum()),
        seed=rule.seed,
        min_improvement=rule.min_improvement,
        max_slice_regression=rule.max_slice_regression,
        min_slice_rows=rule.min_slice_rows,
    )
