"""Dataset-level decisions over many per-feature tests.

- ``"bonferroni"`` (default): each p-value is judged at ``alpha / m``, ``m`` the number of
  p-values in the report (distribution and missing-share tests together). The chance of any
  false alarm in the whole report stays at most ``alpha``.
- ``"fdr"``: Benjamini-Hochberg; the expected share of false alarms among the alarms stays at
  most ``alpha`` (for independent or positively dependent tests).
- ``"share"``: each p-value at ``alpha`` unadjusted; the dataset drifts when the share of
  drifted features reaches ``share_threshold`` (Evidently's rule).

Distance methods (Wasserstein, PSI, JS, KL, Hellinger) have no p-value; they are judged by
their own threshold under every correction. Thresholds calibrated on the reference
(:func:`~driftline.drift.calibration.calibrate`) replace the correction for the features they
cover.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from driftline.exceptions import ValidationError

__all__ = ["CORRECTIONS", "benjamini_hochberg_cutoff", "corrected_level", "dataset_drift"]

CORRECTIONS = ("bonferroni", "fdr", "share")


def corrected_level(p_values: Sequence[float], alpha: float, correction: str) -> float:
    """The significance level each of ``p_values`` is judged at (``p <= level`` is drift)."""
    check_correction(correction, alpha)
    m = len(p_values)
    if m == 0 or correction == "share":
        return alpha
    if correction == "bonferroni":
        return alpha / m
    return benjamini_hochberg_cutoff(p_values, alpha)


def benjamini_hochberg_cutoff(p_values: Sequence[float], alpha: float) -> float:
    """Largest ``i * alpha / m`` with the ``i``-th smallest p-value at or below it.

    When no p-value qualifies, ``alpha / m`` (the first step of the procedure, which none met).
    """
    ordered = np.sort(np.asarray(p_values, dtype=np.float64))
    m = len(ordered)
    steps = np.arange(1, m + 1) * alpha / m
    passing = np.flatnonzero(ordered <= steps)
    return float(steps[passing[-1]]) if len(passing) else alpha / m


def dataset_drift(flags: Sequence[bool], correction: str, share_threshold: float) -> bool:
    """Whether the dataset drifted, given each testable feature's flag."""
    if not flags:
        return False
    if correction == "share":
        return sum(flags) / len(flags) >= share_threshold
    return any(flags)


def check_correction(correction: str, alpha: float) -> None:
    """Reject an unknown correction or a level outside (0, 1)."""
    if correction not in CORRECTIONS:
        raise ValidationError(
            f"unknown correction {correction!r}; choose one of {', '.join(CORRECTIONS)}"
        )
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
