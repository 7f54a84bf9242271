"""Everything computed for one feature before the dataset-level correction.

Runs inside a worker thread: converts the column, sorts it once, profiles it (reference side),
pairs both sides, computes the missing-share test and the unseen share, and runs the chosen
distribution test. Anything that makes a feature untestable becomes a documented reason on the
outcome, never an exception for the whole report and never a NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftline.drift._inputs import ColumnData
from driftline.drift._samples import CategoricalPair, NumericPair, Pair, make_pair
from driftline.drift.feature_profiles import (
    CategoricalProfile,
    FeatureProfile,
    NumericProfile,
    UnsupportedProfile,
)
from driftline.drift.profile import profile_column
from driftline.drift.signals import MissingTest, missing_test
from driftline.drift.univariate import UnivariateResult, UnivariateTest, choose_method, make_test
from driftline.exceptions import ValidationError

__all__ = ["QUANTILE_LEVELS", "Options", "Outcome", "PlotData", "run_feature"]

Side = FeatureProfile | ColumnData
MethodSpec = str | UnivariateTest


@dataclass(frozen=True)
class Options:
    """Settings shared by every feature of one comparison."""

    method: MethodSpec | Mapping[str, MethodSpec]
    alpha: float
    min_samples: int
    profile_settings: Mapping[str, Any]
    fixed_thresholds: Mapping[str, tuple[str, float]]  # feature -> (method, threshold)
    extra_methods: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """One feature's results before the correction across features."""

    name: str
    kind: str
    result: UnivariateResult | None
    corrected: bool  # whether the p-value joins the dataset-level correction
    reason: str | None
    missing: MissingTest | None
    unseen_share: float | None
    unseen_is_upper_bound: bool
    reference_profile: FeatureProfile | None
    plot: PlotData | None
    extra: Mapping[str, UnivariateResult] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class PlotData:
    """A few hundred numbers per feature, kept so that an HTML report can be drawn later."""

    kind: str
    labels: tuple[str, ...]  # bucket labels (categorical) or "" (numeric)
    edges: np.ndarray  # numeric bin edges
    ref_counts: np.ndarray
    cur_counts: np.ndarray
    ref_quantiles: np.ndarray  # numeric: values at QUANTILE_LEVELS
    cur_quantiles: np.ndarray


QUANTILE_LEVELS = np.linspace(0.0, 1.0, 101)
_ID_HINT = "auto mode does not test it (pass method= for this column to force a test)"


def run_feature(name: str, reference: Side, current: Side, options: Options) -> Outcome:
    """Compute one feature's outcome (see module doc)."""
    fitted = None
    ref_sorted = None
    if isinstance(reference, ColumnData):
        fitted, ref_sorted = profile_column(reference, options.profile_settings)
        reference = fitted
    kind: str = reference.kind
    if (
        isinstance(reference, UnsupportedProfile)
        or isinstance(current, UnsupportedProfile)
        or current.kind == "unsupported"
    ):
        dtype = reference.dtype if isinstance(reference, UnsupportedProfile) else _dtype(current)
        why = f"type {dtype} is not tested for drift (only numeric and categorical columns)"
        return Outcome(name, "unsupported", None, False, why, None, None, False, fitted, None)
    try:
        pair = make_pair(reference, current, ref_sorted=ref_sorted)
    except ValidationError as exc:
        missing = _missing_from_sides(reference, current)
        return Outcome(name, kind, None, False, str(exc), missing, None, False, fitted, None)
    missing = _missing_from_pair(pair)
    unseen, upper = _unseen(pair)
    result, corrected, reason = _distribution(name, pair, options)
    if reason is not None and reason.endswith(_ID_HINT):
        unseen = None  # every id is new: the unseen share says nothing either
    extra = _extra_results(pair, options, result)
    plot = _plot_data(pair)
    return Outcome(
        name, kind, result, corrected, reason, missing, unseen, upper, fitted, plot, extra
    )


def _extra_results(
    pair: Pair, options: Options, main: UnivariateResult | None
) -> dict[str, UnivariateResult]:
    """Statistics asked for besides the deciding one (they do not enter the decision)."""
    out: dict[str, UnivariateResult] = {}
    if main is None:
        return out
    for name in options.extra_methods:
        test = make_test(name)
        if pair.kind not in test.kinds or name == main.method:
            continue
        if test.has_p_value:
            test.threshold = options.alpha
        try:
            out[name] = test.compare_pair(pair)
        except ValidationError:
            continue  # not applicable to this feature (e.g. z-test on 3 labels)
    return out


def _plot_data(pair: Pair) -> PlotData:
    if isinstance(pair, NumericPair):
        return PlotData(
            kind="numeric",
            labels=(),
            edges=pair.edges,
            ref_counts=pair.reference.bin_counts,
            cur_counts=pair.current.bin_counts,
            ref_quantiles=pair.reference.quantiles(QUANTILE_LEVELS),
            cur_quantiles=pair.current.quantiles(QUANTILE_LEVELS),
        )
    return PlotData(
        kind="categorical",
        labels=pair.labels,
        edges=np.empty(0),
        ref_counts=pair.ref_counts,
        cur_counts=pair.cur_counts,
        ref_quantiles=np.empty(0),
        cur_quantiles=np.empty(0),
    )


def _distribution(
    name: str, pair: Pair, options: Options
) -> tuple[UnivariateResult | None, bool, str | None]:
    test, corrected, reason = _pick_test(name, pair, options)
    if test is None:
        return None, False, reason
    n_ref, n_cur = _sizes(pair)
    for side, n in (("reference", n_ref), ("current data", n_cur)):
        if n < options.min_samples:
            where = "non-missing values"
            if isinstance(pair, CategoricalPair) and side == "current data":
                where = f"values in the reference's categories ({pair.n_unseen} unseen)"
            return (
                None,
                False,
                (
                    f"the {side} has {n} {where}; a distribution test needs at least "
                    f"{options.min_samples} (min_samples)"
                ),
            )
    try:
        return test.compare_pair(pair), corrected, None
    except ValidationError as exc:
        return None, False, f"{test.name}: {exc}"


def _pick_test(
    name: str, pair: Pair, options: Options
) -> tuple[UnivariateTest | None, bool, str | None]:
    """The test for this feature, whether its p-value is corrected, or why none applies."""
    if name in options.fixed_thresholds:
        method, threshold = options.fixed_thresholds[name]
        return make_test(method, threshold), False, None
    spec = options.method
    if isinstance(spec, Mapping):
        spec = spec.get(name, "auto")
    if isinstance(spec, UnivariateTest):  # an explicit instance: its threshold is final
        return spec, False, None
    if spec == "auto":
        reason = _identifier_like(pair)
        if reason:
            return None, False, reason
        n_ref, n_cur = _sizes(pair)
        n_cat = len(pair.labels) if isinstance(pair, CategoricalPair) else 0
        spec = choose_method(pair.kind, n_ref, n_cur, n_cat)
    test = make_test(spec)
    if test.has_p_value:
        test.threshold = options.alpha
    return test, test.has_p_value, None


def _identifier_like(pair: Pair) -> str | None:
    """Auto mode skips categorical columns that look like ids: they always 'drift'."""
    if not isinstance(pair, CategoricalPair):
        return None
    n = pair.n_reference
    distinct = len(pair.labels)
    has_other = pair.labels and pair.labels[-1] == "<other>"
    heavy_other = has_other and pair.ref_counts[-1] >= 0.5 * n
    if (distinct > 50 and distinct > 0.5 * n) or heavy_other:
        return (
            f"{distinct} distinct labels in {n} reference values looks like an identifier; "
            + _ID_HINT
        )
    return None


def _sizes(pair: Pair) -> tuple[int, int]:
    if isinstance(pair, NumericPair):
        return pair.reference.n, pair.current.n
    return pair.n_reference, pair.n_current


def _unseen(pair: Pair) -> tuple[float | None, bool]:
    if not isinstance(pair, CategoricalPair):
        return None, False
    present = pair.cur_rows - pair.cur_missing
    share = pair.n_unseen / present if present else 0.0
    return share, pair.unseen_is_upper_bound


def _missing_from_pair(pair: Pair) -> MissingTest:
    if isinstance(pair, NumericPair):
        ref, cur = pair.reference, pair.current
        return missing_test(
            ref.rows, ref.missing + ref.infinite, cur.rows, cur.missing + cur.infinite
        )
    return missing_test(pair.ref_rows, pair.ref_missing, pair.cur_rows, pair.cur_missing)


def _missing_from_sides(reference: FeatureProfile, current: Side) -> MissingTest | None:
    ref_rows, ref_missing = _missing_counts(reference)
    cur_rows, cur_missing = _missing_counts(current)
    if not ref_rows or not cur_rows:
        return None
    return missing_test(ref_rows, ref_missing, cur_rows, cur_missing)


def _missing_counts(side: Side) -> tuple[int, int]:
    if isinstance(side, NumericProfile):
        return side.count, side.missing + side.infinite
    if isinstance(side, CategoricalProfile):
        return side.count, side.missing
    if isinstance(side, UnsupportedProfile):
        return side.count, 0
    if side.kind == "numeric" and side.values is not None:
        return side.n_rows, int(np.count_nonzero(~np.isfinite(side.values)))
    if side.kind == "categorical" and side.codes is not None:
        return side.n_rows, int(np.count_nonzero(side.codes < 0))
    return side.n_rows, side.n_rows if side.kind == "empty" else 0


def _dtype(side: Side) -> str:
    return side.dtype if isinstance(side, ColumnData | UnsupportedProfile) else side.kind
