"""Univariate drift tests: one contract, ``compare(reference, current) -> UnivariateResult``.

Users write ``univariate.KolmogorovSmirnov().compare(ref, cur)``; ``METHODS`` maps the names
the engine and the CLI accept (``"ks"``, ``"psi"``, ...) to the classes.
"""

from driftline.drift.univariate._base import UnivariateResult, UnivariateTest
from driftline.drift.univariate._registry import METHODS, choose_method, make_test
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

__all__ = [
    "METHODS",
    "AndersonDarling",
    "ChiSquare",
    "CramerVonMises",
    "Hellinger",
    "JensenShannon",
    "KLDivergence",
    "KolmogorovSmirnov",
    "PopulationStabilityIndex",
    "ProportionZTest",
    "UnivariateResult",
    "UnivariateTest",
    "Wasserstein",
    "choose_method",
    "make_test",
]
