"""Method names, and the automatic choice of a method per feature."""

from __future__ import annotations

from driftline.drift.univariate._base import UnivariateTest
from driftline.drift.univariate.anderson_darling import AndersonDarling
from driftline.drift.univariate.chi_square import ChiSquare
from driftline.drift.univariate.cramer_von_mises import CramerVonMises
from driftline.drift.univariate.hellinger import Hellinger
from driftline.drift.univariate.jensen_shannon import JensenShannon
from driftline.drift.univariate.kl import KLDivergence
from driftline.drift.univariate.ks import KolmogorovSmirnov
from driftline.drift.univariate.psi import PopulationStabilityIndex
from driftline.drift.univariate.wasserstein import Wasserstein
from driftline.drift.univariate.z_test import ProportionZTest
from driftline.exceptions import ValidationError

__all__ = ["METHODS", "SMALL_SAMPLE", "choose_method", "make_test"]

METHODS: dict[str, type[UnivariateTest]] = {
    cls.name: cls
    for cls in (
        KolmogorovSmirnov,
        Wasserstein,
        PopulationStabilityIndex,
        JensenShannon,
        KLDivergence,
        Hellinger,
        ChiSquare,
        ProportionZTest,
        CramerVonMises,
        AndersonDarling,
    )
}

SMALL_SAMPLE = 1000


def choose_method(kind: str, n_reference: int, n_current: int, n_categories: int = 0) -> str:
    """The method ``method="auto"`` uses for one feature.

    The rule, by the feature's type, its reference cardinality and the smaller of the two
    sample sizes ``n = min(n_reference, n_current)`` (non-missing values):

    - numeric, ``n <= 1000``: ``"ks"`` (Kolmogorov-Smirnov p-value);
    - numeric, ``n > 1000``: ``"wasserstein"`` (normed by the reference std, threshold 0.1);
    - categorical with 2 reference categories, ``n <= 1000``: ``"ztest"``;
    - categorical with 3 or more, ``n <= 1000``: ``"chisquare"``;
    - categorical, ``n > 1000``: ``"jensenshannon"`` (threshold 0.1).

    Why: on small samples only a significance test separates drift from sampling noise; on
    large ones every test rejects for differences too small to matter, so an effect-size
    distance with a fixed threshold is the useful signal.

    >>> choose_method("numeric", 50_000, 800), choose_method("categorical", 10**6, 10**6, 7)
    ('ks', 'jensenshannon')
    """
    n = min(n_reference, n_current)
    if kind == "numeric":
        return "ks" if n <= SMALL_SAMPLE else "wasserstein"
    if kind == "categorical":
        if n > SMALL_SAMPLE:
            return "jensenshannon"
        return "ztest" if n_categories == 2 else "chisquare"
    raise ValidationError(f"no drift method for a {kind!r} feature")


def make_test(name: str, threshold: float | None = None) -> UnivariateTest:
    """An instance of the method called ``name`` (default threshold unless given)."""
    try:
        cls = METHODS[name]
    except KeyError:
        raise ValidationError(
            f"unknown drift method {name!r}; choose 'auto' or one of {sorted(METHODS)}"
        ) from None
    return cls() if threshold is None else cls(threshold=threshold)  # type: ignore[call-arg]
