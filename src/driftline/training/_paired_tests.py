"""Paired significance tests of two models on the same rows: McNemar's and a paired t-test."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from driftline.exceptions import ValidationError
from driftline.training._inputs import prepare_classification

__all__ = [
    "EXACT_BELOW",
    "McNemarResult",
    "mcnemar",
    "mcnemar_from_correct",
    "mcnemar_from_counts",
    "paired_t_p_value",
]

# Below this many discordant rows the chi-square approximation is poor; use the exact test.
EXACT_BELOW = 25


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test of two classifiers' error rates on the same rows.

    Only the discordant rows carry evidence: ``champion_only`` rows the champion gets right and
    the challenger wrong, ``challenger_only`` the reverse. Under "equal error rates" each
    discordant row is a fair coin. With fewer than :data:`EXACT_BELOW` discordant rows the
    p-value is the exact two-sided binomial one (``method="exact"``, ``statistic`` is None);
    otherwise it is chi-square with 1 degree of freedom on Edwards' continuity-corrected
    statistic ``max(|b - c| - 1, 0)**2 / (b + c)`` (``method="chi2_cc"``).

    >>> result = mcnemar_from_counts(champion_only=10, challenger_only=30)
    >>> result.method, round(result.statistic, 3), round(result.p_value, 5)
    ('chi2_cc', 9.025, 0.00266)
    """

    champion_only: int
    challenger_only: int
    both_correct: int
    both_wrong: int
    statistic: float | None
    p_value: float
    method: Literal["exact", "chi2_cc"]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return asdict(self)


def mcnemar_from_counts(
    champion_only: int,
    challenger_only: int,
    *,
    both_correct: int = 0,
    both_wrong: int = 0,
    exact_below: int = EXACT_BELOW,
) -> McNemarResult:
    """McNemar's test from the four cells of the paired correct/wrong table."""
    cells = {
        "champion_only": champion_only,
        "challenger_only": challenger_only,
        "both_correct": both_correct,
        "both_wrong": both_wrong,
    }
    for name, value in cells.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValidationError(f"{name} must be a non-negative integer count; got {value!r}")
    b, c = int(champion_only), int(challenger_only)
    discordant = b + c
    counts = (b, c, int(both_correct), int(both_wrong))
    if discordant < exact_below:
        # Two-sided exact binomial test at p=0.5: the distribution is symmetric, so the
        # p-value is twice the smaller tail (capped at 1), as scipy.stats.binomtest gives.
        tail = float(stats.binom.cdf(min(b, c), discordant, 0.5)) if discordant else 0.5
        return McNemarResult(*counts, None, min(1.0, 2.0 * tail), "exact")
    statistic = max(abs(b - c) - 1, 0) ** 2 / discordant
    return McNemarResult(*counts, statistic, float(stats.chi2.sf(statistic, 1)), "chi2_cc")


def mcnemar_from_correct(
    champion_correct: np.ndarray, challenger_correct: np.ndarray, exact_below: int = EXACT_BELOW
) -> McNemarResult:
    """McNemar's test from two boolean "row predicted correctly" vectors."""
    return mcnemar_from_counts(
        int((champion_correct & ~challenger_correct).sum()),
        int((~champion_correct & challenger_correct).sum()),
        both_correct=int((champion_correct & challenger_correct).sum()),
        both_wrong=int((~champion_correct & ~challenger_correct).sum()),
        exact_below=exact_below,
    )


def mcnemar(
    y_true: Any, champion_pred: Any, challenger_pred: Any, *, exact_below: int = EXACT_BELOW
) -> McNemarResult:
    """McNemar's test of two classifiers' predicted labels against ``y_true``."""
    truth, (champion, challenger) = prepare_classification(
        {"y_true": y_true, "champion_pred": champion_pred, "challenger_pred": challenger_pred},
        [("champion_proba", None), ("challenger_proba", None)],
    )
    return mcnemar_from_correct(
        champion.values == truth.values, challenger.values == truth.values, exact_below
    )


def paired_t_p_value(differences: np.ndarray) -> float | None:
    """Two-sided p-value of a paired t-test that the mean of ``differences`` is zero.

    Same value as ``scipy.stats.ttest_rel``; a constant difference gives 1.0 when it is zero
    and 0.0 otherwise (instead of scipy's NaN), and fewer than two rows give None.
    """
    n = len(differences)
    if n < 2:
        return None
    mean = float(differences.mean())
    spread = float(differences.std(ddof=1))
    if spread == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    t = mean / (spread / math.sqrt(n))
    return float(2.0 * stats.t.sf(abs(t), n - 1))
