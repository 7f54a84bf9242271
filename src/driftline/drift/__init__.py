"""Drift: profiles, univariate tests and dataset-level decisions (pure computation, no I/O).

``compare(reference, current)`` is the front door; ``Profile`` is the stored reference;
``univariate`` holds the tests (``univariate.KolmogorovSmirnov()``, ...), ``multivariate``
the dataset-wide detectors (domain classifier, PCA reconstruction, MMD);
``ConceptDriftDetector`` is the seed's windowed API on top of the engine; ``streaming`` holds
the river-style detectors (``drift.ADWIN()``, ``drift.PageHinkley()``, ...), re-exported here;
``profile_dask`` profiles a Dask DataFrame on a cluster (the ``dask`` extra).
"""

from driftline.drift import multivariate, streaming, univariate
from driftline.drift.calibration import CalibratedThresholds, calibrate
from driftline.drift.compare import compare
from driftline.drift.concept import ConceptDriftDetector, ConceptDriftResult
from driftline.drift.dask_profile import profile_dask
from driftline.drift.feature_profiles import CategoricalProfile, NumericProfile, UnsupportedProfile
from driftline.drift.profile import Profile
from driftline.drift.report import DriftReport, FeatureDrift
from driftline.drift.sketch import QuantileSketch
from driftline.drift.streaming import (
    ADWIN,
    CUSUM,
    DDM,
    EDDM,
    HDDM_A,
    KSWIN,
    PageHinkley,
    RealTimeDriftDetector,
    StreamingDetector,
    WindowCheck,
)
from driftline.drift.univariate import UnivariateResult, UnivariateTest, choose_method

__all__ = [
    "ADWIN",
    "CUSUM",
    "DDM",
    "EDDM",
    "HDDM_A",
    "KSWIN",
    "CalibratedThresholds",
    "CategoricalProfile",
    "ConceptDriftDetector",
    "ConceptDriftResult",
    "DriftReport",
    "FeatureDrift",
    "NumericProfile",
    "PageHinkley",
    "Profile",
    "QuantileSketch",
    "RealTimeDriftDetector",
    "StreamingDetector",
    "UnivariateResult",
    "UnivariateTest",
    "UnsupportedProfile",
    "WindowCheck",
    "calibrate",
    "choose_method",
    "compare",
    "multivariate",
    "profile_dask",
    "streaming",
    "univariate",
]
