"""Multivariate drift detectors: ``compare(reference, current) -> MultivariateResult``.

They see what per-feature tests miss (a changed relation between features), at the price of
fitting a model or a kernel on a sample of rows.
"""

from driftline.drift.multivariate._base import MultivariateResult
from driftline.drift.multivariate.domain_classifier import DomainClassifier
from driftline.drift.multivariate.mmd import MMD
from driftline.drift.multivariate.pca_reconstruction import PCAReconstruction

__all__ = ["MMD", "DomainClassifier", "MultivariateResult", "PCAReconstruction"]
