"""McNemar's test and the paired t-test against scipy and a textbook example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from driftline.exceptions import ValidationError
from driftline.training import mcnemar
from driftline.training._paired_tests import (
    EXACT_BELOW,
    mcnemar_from_counts,
    paired_t_p_value,
)


@pytest.mark.parametrize(("b", "c"), [(0, 1), (0, 5), (3, 9), (12, 12), (1, 23), (10, 4)])
def test_small_discordant_counts_use_the_exact_binomial_test(b: int, c: int) -> None:
    result = mcnemar_from_counts(b, c)
    assert result.method == "exact" and result.statistic is None
    assert result.p_value == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, rel=1e-9)


def test_no_discordant_rows_is_no_evidence() -> None:
    result = mcnemar_from_counts(0, 0, both_correct=40, both_wrong=3)
    assert result.p_value == 1.0 and result.method == "exact"


def test_the_switch_to_chi_square_happens_at_exact_below() -> None:
    assert mcnemar_from_counts(10, EXACT_BELOW - 11).method == "exact"
    assert mcnemar_from_counts(10, EXACT_BELOW - 10).method == "chi2_cc"


def test_agresti_presidential_approval_example() -> None:
    # Agresti, An Introduction to Categorical Data Analysis (2nd ed.), section 8.1: approval
    # of the president in two surveys of the same 1600 people; discordant cells 150 and 86.
    # The book's uncorrected statistic is z**2 = 17.36, P < 0.0001.
    result = mcnemar_from_counts(150, 86, both_correct=794, both_wrong=570)
    assert pytest.approx(17.36, abs=0.01) == (150 - 86) ** 2 / (150 + 86)
    assert result.statistic == pytest.approx(63**2 / 236)  # Edwards' continuity correction
    assert result.p_value < 1e-4
    exact = stats.binomtest(86, 236, 0.5).pvalue
    assert result.p_value == pytest.approx(exact, rel=0.15)


@pytest.mark.parametrize(("b", "c"), [(40, 60), (300, 260), (20, 45), (500, 500)])
def test_continuity_corrected_chi_square_tracks_the_exact_test(b: int, c: int) -> None:
    result = mcnemar_from_counts(b, c)
    exact = stats.binomtest(min(b, c), b + c, 0.5).pvalue
    assert result.method == "chi2_cc"
    assert result.p_value == pytest.approx(exact, rel=0.1, abs=2e-3)


def test_mcnemar_counts_from_labels() -> None:
    y = np.array(["a", "b", "a", "b", "a", "b", "a", "a"])
    champion = np.array(["a", "a", "a", "b", "b", "b", "a", "b"])
    challenger = np.array(["a", "b", "b", "b", "a", "a", "a", "a"])
    result = mcnemar(y, champion, challenger)
    # rows: 0 both, 1 challenger, 2 champion, 3 both, 4 challenger, 5 champion, 6 both, 7 chall.
    assert (result.champion_only, result.challenger_only) == (2, 3)
    assert (result.both_correct, result.both_wrong) == (3, 0)
    assert result.p_value == pytest.approx(stats.binomtest(2, 5, 0.5).pvalue, rel=1e-9)
    assert result.to_dict()["method"] == "exact"


def test_mcnemar_rejects_bad_counts_and_inputs() -> None:
    with pytest.raises(ValidationError, match="champion_only must be a non-negative integer"):
        mcnemar_from_counts(-1, 3)
    with pytest.raises(ValidationError, match="challenger_only must be a non-negative integer"):
        mcnemar_from_counts(1, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="challenger_pred has 2 rows but y_true has 3"):
        mcnemar([0, 1, 0], [0, 1, 1], [0, 1])


def test_paired_t_p_value_equals_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(1.0, 1.0, 200)
    b = a + rng.normal(0.1, 0.5, 200)
    assert paired_t_p_value(b - a) == pytest.approx(stats.ttest_rel(b, a).pvalue, rel=1e-9)


def test_paired_t_p_value_on_constant_and_tiny_inputs() -> None:
    assert paired_t_p_value(np.zeros(10)) == 1.0
    assert paired_t_p_value(np.full(10, 0.5)) == 0.0
    assert paired_t_p_value(np.array([0.3])) is None
