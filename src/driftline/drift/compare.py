"""The front door: ``compare(reference, current) -> DriftReport``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from driftline.drift._feature_task import MethodSpec, Options, Outcome, Side, run_feature
from driftline.drift._inputs import Table, as_table
from driftline.drift._parallel import map_columns
from driftline.drift.correction import check_correction, corrected_level, dataset_drift
from driftline.drift.profile import Profile
from driftline.drift.report import DriftReport, FeatureDrift
from driftline.drift.univariate import UnivariateTest
from driftline.exceptions import ValidationError

if TYPE_CHECKING:
    from driftline.drift.calibration import CalibratedThresholds

__all__ = ["compare"]


def compare(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    method: MethodSpec | Mapping[str, MethodSpec] = "auto",
    correction: str = "bonferroni",
    alpha: float = 0.05,
    share_threshold: float = 0.5,
    min_missing_change: float = 0.01,
    max_unseen_share: float = 0.01,
    min_samples: int = 5,
    calibration: CalibratedThresholds | None = None,
    extra_methods: Sequence[str] = (),
    n_bins: int = 10,
    feature_names: Sequence[str] | None = None,
    missing_values: Sequence[str] = (),
    n_jobs: int | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference``, feature by feature, and decide for the dataset.

    Parameters
    ----------
    reference, current:
        pandas, polars or pyarrow tables, a 2-D numpy array (names from ``feature_names``), a
        dict of 1-D arrays, or a fitted :class:`Profile` (a stored reference: only the
        current window is read and sorted). With raw data both sides are tested exactly;
        against a profile beyond its ``max_exact`` values, KS and Wasserstein are
        approximate and say by how much (``error_bound``).
    columns:
        Features to compare (default: every reference column). Each must exist on both
        sides; current columns missing from the reference are listed in ``extra_columns``.
    method:
        ``"auto"`` (see :func:`~driftline.drift.univariate.choose_method`), a method name
        (``"ks"``, ``"psi"``, ...), a test instance (its threshold is then final, not
        corrected), or a dict from feature name to any of these.
    correction:
        ``"bonferroni"``, ``"fdr"`` or ``"share"`` (see :mod:`driftline.drift.correction`).
    alpha:
        Family-wise significance level of the p-value tests.
    share_threshold:
        With ``correction="share"``: dataset drift when this share of features drifted.
    min_missing_change:
        Smallest change of a missing share that can be flagged (besides its p-value).
    max_unseen_share:
        Flag a categorical feature when more than this share of current values are labels
        the reference never saw.
    min_samples:
        Fewer non-missing values on a side make the distribution test "not testable".
    calibration:
        Thresholds from :func:`~driftline.drift.calibration.calibrate`; they fix the method
        and threshold of the features they cover, which then leave the correction.
    extra_methods:
        More methods to compute per feature (where they apply), reported under ``extra``
        but not part of the decision: e.g. ``("ks", "psi", "jensenshannon", "chisquare")``.
    n_bins:
        Bins per numeric feature for the binned methods, when the reference is raw data.
    missing_values:
        Labels that mean missing in categorical columns (e.g. ``"?"``).
    n_jobs:
        Threads over columns (``None``: one per core).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = {"a": rng.normal(size=3000), "b": rng.normal(size=3000)}
    >>> cur = {"a": rng.normal(size=3000), "b": rng.normal(1.0, 1.0, size=3000)}
    >>> report = compare(ref, cur)
    >>> report.drift_detected, report.drifted_features, report.features["b"].method
    (True, ('b',), 'wasserstein')
    """
    check_correction(correction, alpha)
    _check_method(method)
    _check_method(list(extra_methods), allow_auto=False)
    ref_src, ref_rows = _source(reference, "reference", feature_names, missing_values)
    cur_src, cur_rows = _source(current, "current", feature_names, missing_values)
    names = _columns(columns, ref_src, cur_src)
    options = Options(
        method=method,
        alpha=alpha,
        min_samples=min_samples,
        profile_settings={"n_bins": n_bins, "top_k": 1000, "k": 2048, "max_exact": 10_000},
        fixed_thresholds=calibration.fixed() if calibration is not None else {},
        extra_methods=tuple(extra_methods),
    )
    outcomes = map_columns(
        lambda name: run_feature(name, _side(ref_src, name), _side(cur_src, name), options),
        names,
        n_jobs,
    )
    features = _decide(outcomes, alpha, correction, min_missing_change, max_unseen_share)
    flags = [f.drift_detected for f in features.values() if f.kind != "unsupported"]
    fitted = _fitted_profile(outcomes, ref_rows, n_bins) if isinstance(ref_src, Table) else None
    return DriftReport(
        features=features,
        drift_detected=dataset_drift(flags, correction, share_threshold),
        drift_share=sum(flags) / len(flags) if flags else 0.0,
        correction="calibrated" if calibration is not None else correction,
        alpha=alpha,
        share_threshold=share_threshold,
        n_reference=ref_rows,
        n_current=cur_rows,
        extra_columns=tuple(n for n in _names(cur_src) if n not in set(_names(ref_src))),
        reference_profile=fitted,
        plot_data={o.name: o.plot for o in outcomes if o.plot is not None},
    )


def _source(
    data: Any, role: str, feature_names: Sequence[str] | None, missing_values: Sequence[str]
) -> tuple[Profile | Table, int]:
    if isinstance(data, Profile):
        if not hasattr(data, "features_"):
            raise ValidationError(f"the {role} profile is not fitted; call fit() first")
        return data, data.n_rows_
    table = as_table(data, role=role, feature_names=feature_names, missing_values=missing_values)
    return table, table.n_rows


def _names(src: Profile | Table) -> list[str]:
    return list(src.features_) if isinstance(src, Profile) else list(src.names)


def _side(src: Profile | Table, name: str) -> Side:
    return src.features_[name] if isinstance(src, Profile) else src.load(name)


def _columns(
    columns: Sequence[str] | None, ref: Profile | Table, cur: Profile | Table
) -> list[str]:
    ref_names, cur_names = _names(ref), set(_names(cur))
    if columns is None:
        names = ref_names
    else:
        if isinstance(columns, str):
            raise ValidationError("columns must be a list of names, not one string")
        unknown = [c for c in columns if c not in set(ref_names)]
        if unknown:
            raise ValidationError(f"columns {unknown} are not in the reference ({ref_names})")
        names = list(dict.fromkeys(columns))
    absent = [n for n in names if n not in cur_names]
    if absent:
        raise ValidationError(
            f"the current data lacks the reference columns {absent}; pass columns= to "
            "compare only the shared ones"
        )
    if not names:
        raise ValidationError("no columns to compare")
    return names


def _check_method(method: Any, *, allow_auto: bool = True) -> None:
    from driftline.drift.univariate import METHODS

    if isinstance(method, Mapping):
        specs = list(method.values())
    elif isinstance(method, list):
        specs = method
    else:
        specs = [method]
    for spec in specs:
        if isinstance(spec, UnivariateTest) or (allow_auto and spec == "auto"):
            continue
        if spec not in METHODS:
            raise ValidationError(
                f"unknown drift method {spec!r}; choose 'auto' or one of {sorted(METHODS)}"
            )


def _decide(
    outcomes: list[Outcome],
    alpha: float,
    correction: str,
    min_missing_change: float,
    max_unseen_share: float,
) -> dict[str, FeatureDrift]:
    """Apply one correction over every p-value of the report, then build the features."""
    family = [
        o.result.p_value
        for o in outcomes
        if o.corrected and o.result and o.result.p_value is not None
    ]
    family += [o.missing.p_value for o in outcomes if o.missing is not None]
    level = corrected_level(family, alpha, correction)
    return {o.name: _feature(o, level, min_missing_change, max_unseen_share) for o in outcomes}


def _feature(
    o: Outcome, level: float, min_missing_change: float, max_unseen_share: float
) -> FeatureDrift:
    result = o.result.with_threshold(level) if o.result and o.corrected else o.result
    missing = o.missing
    missing_drift = bool(
        missing is not None and missing.p_value <= level and missing.change >= min_missing_change
    )
    unseen_drift = o.unseen_share is not None and o.unseen_share > max_unseen_share
    distribution = bool(result and result.drift_detected)
    return FeatureDrift(
        name=o.name,
        kind=o.kind,
        method=result.method if result else None,
        statistic=result.statistic if result else None,
        p_value=result.p_value if result else None,
        threshold=result.threshold if result else None,
        drift_detected=distribution or missing_drift or unseen_drift,
        distribution_drift=distribution,
        effect_size=result.effect_size if result else None,
        approximate=bool(result and result.approximate),
        error_bound=result.error_bound if result else None,
        n_reference=result.n_reference if result else 0,
        n_current=result.n_current if result else 0,
        missing_share_ref=missing.share_ref if missing else None,
        missing_share_cur=missing.share_cur if missing else None,
        missing_p_value=missing.p_value if missing else None,
        missing_threshold=level if missing else None,
        missing_drift=missing_drift,
        unseen_share=o.unseen_share,
        unseen_is_upper_bound=o.unseen_is_upper_bound,
        unseen_drift=unseen_drift,
        testable=result is not None,
        reason=o.reason,
        extra=o.extra,
    )


def _fitted_profile(outcomes: list[Outcome], n_rows: int, n_bins: int) -> Profile:
    profile = Profile(n_bins=n_bins)
    profile.features_ = {o.name: o.reference_profile for o in outcomes if o.reference_profile}
    profile.n_rows_ = n_rows
    return profile
