"""Univariate tests against scipy (golden values computed here) and their stated error bounds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from driftline.drift import NumericProfile, univariate
from driftline.drift.univariate.ks import ks_asymptotic_p

TOL = 1e-9

# (reference size, current size, rounding digits: None = continuous, else ties)
SIZES = [(8, 13, None), (60, 45, 1), (3_000, 2_000, None), (12_000, 15_000, 2), (25, 25, 0)]


def _pair(n1: int, n2: int, digits: int | None, seed: int, shift: float = 0.15):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n1)
    y = rng.normal(shift, 1.2, n2)
    if digits is not None:
        x, y = np.round(x, digits), np.round(y, digits)
    return x, y


@pytest.mark.parametrize(("n1", "n2", "digits"), SIZES)
def test_ks_matches_scipy(n1: int, n2: int, digits: int | None) -> None:
    x, y = _pair(n1, n2, digits, seed=n1)
    ours = univariate.KolmogorovSmirnov().compare(x, y)
    theirs = stats.ks_2samp(x, y)
    assert ours.statistic == pytest.approx(theirs.statistic, abs=TOL)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOL)
    assert not ours.approximate


@pytest.mark.parametrize("n", [5_001, 40_000, 400_000])
@pytest.mark.parametrize("nx2", [0.3, 2.2, 4.0, 16.0, 25.0, 400.0])
def test_ks_fast_tail_matches_kstwo(n: int, nx2: float) -> None:
    d = float(np.sqrt(nx2 / n))
    assert ks_asymptotic_p(d, n) == pytest.approx(stats.kstwo.sf(d, n), abs=TOL)


@pytest.mark.parametrize(("n1", "n2", "digits"), SIZES)
def test_wasserstein_matches_scipy(n1: int, n2: int, digits: int | None) -> None:
    x, y = _pair(n1, n2, digits, seed=n2)
    ours = univariate.Wasserstein().compare(x, y)
    expected = stats.wasserstein_distance(x, y) / np.std(x)
    assert ours.statistic == pytest.approx(expected, rel=TOL, abs=TOL)


@pytest.mark.parametrize(("n1", "n2", "digits"), SIZES)
def test_cramer_von_mises_matches_scipy(n1: int, n2: int, digits: int | None) -> None:
    x, y = _pair(n1, n2, digits, seed=n1 + n2)
    ours = univariate.CramerVonMises().compare(x, y)
    theirs = stats.cramervonmises_2samp(x, y)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=TOL, abs=TOL)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOL)


@pytest.mark.parametrize(("n1", "n2", "digits"), SIZES)
@pytest.mark.parametrize("shift", [0.0, 0.15, 1.0])
def test_anderson_darling_matches_scipy(n1: int, n2: int, digits: int | None, shift: float) -> None:
    x, y = _pair(n1, n2, digits, seed=3 * n1, shift=shift)
    ours = univariate.AndersonDarling().compare(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy warns when it clips the p-value
        theirs = stats.anderson_ksamp([x, y], variant="midrank")
    assert ours.statistic == pytest.approx(theirs.statistic, rel=TOL, abs=TOL)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOL)


def _categorical(seed: int, n1: int = 4_000, n2: int = 3_000):
    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b", "c", "d", "e"])
    ref = rng.choice(labels, n1, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    cur = rng.choice(labels, n2, p=[0.25, 0.25, 0.2, 0.2, 0.1])
    ref_counts = np.array([(ref == v).sum() for v in labels])
    cur_counts = np.array([(cur == v).sum() for v in labels])
    return ref, cur, ref_counts, cur_counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chi_square_homogeneity_matches_contingency(seed: int) -> None:
    ref, cur, rc, cc = _categorical(seed)
    ours = univariate.ChiSquare().compare(ref, cur)
    theirs = stats.chi2_contingency(np.vstack([rc, cc]), correction=False)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=TOL)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOL)
    assert ours.effect_size == pytest.approx(np.sqrt(theirs.statistic / (rc.sum() + cc.sum())))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chi_square_goodness_of_fit_matches_chisquare(seed: int) -> None:
    ref, cur, rc, cc = _categorical(seed)
    ours = univariate.ChiSquare(mode="goodness_of_fit").compare(ref, cur)
    theirs = stats.chisquare(cc, f_exp=rc / rc.sum() * cc.sum())
    assert ours.statistic == pytest.approx(theirs.statistic, rel=TOL)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOL)


def test_chi_square_pools_small_buckets_before_testing() -> None:
    ref = np.array(["a"] * 500 + ["b"] * 400 + ["r1"] * 2 + ["r2"] * 2)
    cur = np.array(["a"] * 300 + ["b"] * 320 + ["r1"] * 1 + ["r2"] * 3)
    pooled_ref = np.array([500, 400, 4])
    pooled_cur = np.array([300, 320, 4])
    ours = univariate.ChiSquare().compare(ref, cur)
    # the two rare buckets (expected counts < 5) are pooled, then still small: joined to "b"
    table = np.vstack([[500, 404], [300, 324]])
    theirs = stats.chi2_contingency(table, correction=False)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=TOL)
    unpooled = stats.chi2_contingency(np.vstack([pooled_ref, pooled_cur]), correction=False)
    assert ours.statistic != pytest.approx(unpooled.statistic)


def test_binned_distances_match_scipy_on_categories() -> None:
    ref, cur, rc, cc = _categorical(5)
    p, q = rc / rc.sum(), cc / cc.sum()
    js = univariate.JensenShannon().compare(ref, cur).statistic
    assert js == pytest.approx(jensenshannon(p, q, base=2), abs=TOL)
    kl = univariate.KLDivergence().compare(ref, cur).statistic
    assert kl == pytest.approx(stats.entropy(p, q), abs=TOL)
    psi = univariate.PopulationStabilityIndex().compare(ref, cur).statistic
    assert psi == pytest.approx(stats.entropy(p, q) + stats.entropy(q, p), abs=TOL)
    hellinger = univariate.Hellinger().compare(ref, cur).statistic
    assert hellinger == pytest.approx(np.linalg.norm(np.sqrt(p) - np.sqrt(q)) / np.sqrt(2), abs=TOL)


def test_binned_distances_use_reference_quantile_bins() -> None:
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=5_000), rng.normal(0.3, 1.0, size=4_000)
    edges = np.unique(np.sort(x)[(np.arange(1, 10) * len(x)) // 10])
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    # np.histogram's last bin is closed; no value sits on an edge with continuous data
    p = np.histogram(x, full)[0] / len(x)
    q = np.histogram(y, full)[0] / len(y)
    assert univariate.JensenShannon().compare(x, y).statistic == pytest.approx(
        jensenshannon(p, q, base=2), abs=TOL
    )
    psi = univariate.PopulationStabilityIndex().compare(x, y).statistic
    assert psi == pytest.approx(float(np.sum((q - p) * np.log(q / p))), abs=TOL)


def test_psi_and_kl_floor_empty_buckets_instead_of_infinity() -> None:
    ref = np.array(["a"] * 50 + ["b"] * 50)
    cur = np.array(["a"] * 100)
    psi = univariate.PopulationStabilityIndex().compare(ref, cur)
    p, q = np.array([0.5, 0.5]), np.array([1.0, 1e-4])
    assert psi.statistic == pytest.approx(float(np.sum((q - p) * np.log(q / p))), abs=TOL)
    assert psi.drift_detected


@pytest.mark.parametrize("seed", [0, 1])
def test_z_test_squares_to_the_2x2_chi_square(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.choice(["yes", "no"], 700, p=[0.4, 0.6])
    cur = rng.choice(["yes", "no"], 500, p=[0.5, 0.5])
    ours = univariate.ProportionZTest().compare(ref, cur)
    table = np.array(
        [[(ref == v).sum() for v in ("no", "yes")], [(cur == v).sum() for v in ("no", "yes")]]
    )
    theirs = stats.chi2_contingency(table, correction=False)
    assert ours.statistic**2 == pytest.approx(theirs.statistic, rel=TOL)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOL)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [64, 512])
def test_sketched_reference_stays_within_the_stated_bound(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0.0, 1.0, 120_000)
    y = rng.lognormal(0.05 * seed, 1.0, 90_000)
    profile = NumericProfile.from_values(x, max_exact=1_000, k=k)
    ks = univariate.KolmogorovSmirnov().compare(profile, y)
    assert ks.approximate and ks.error_bound is not None
    assert abs(ks.statistic - stats.ks_2samp(x, y).statistic) <= ks.error_bound
    w = univariate.Wasserstein().compare(profile, y)
    exact_w = stats.wasserstein_distance(x, y) / np.std(x)
    assert w.error_bound is not None and abs(w.statistic - exact_w) <= w.error_bound


def test_both_sides_sketched_add_their_bounds() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=50_000), rng.normal(0.1, 1.0, 60_000)
    ref = NumericProfile.from_values(x, max_exact=500, k=128)
    cur = NumericProfile.from_values(y, max_exact=500, k=128, edges=ref.edges)
    ks = univariate.KolmogorovSmirnov().compare(ref, cur)
    assert ks.error_bound == pytest.approx(ref.sketch.error_bound + cur.sketch.error_bound)
    assert abs(ks.statistic - stats.ks_2samp(x, y).statistic) <= ks.error_bound


def test_exact_profile_gives_the_exact_result() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=3_000), rng.normal(size=2_000)
    profile = NumericProfile.from_values(x, max_exact=10_000)
    from_profile = univariate.KolmogorovSmirnov().compare(profile, y)
    assert not from_profile.approximate
    assert from_profile == univariate.KolmogorovSmirnov().compare(x, y)
