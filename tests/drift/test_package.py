"""The public surface of driftline.drift and what importing it pulls in."""

from __future__ import annotations

import subprocess
import sys

import driftline.drift as drift


def test_public_names() -> None:
    assert sorted(drift.__all__) == sorted(
        [
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
    )
    for name in drift.__all__:
        assert getattr(drift, name) is not None


def test_import_pulls_no_database_web_or_plotting_library() -> None:
    code = (
        "import sys, driftline.drift; "
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'starlette', 'matplotlib', 'plotly', "
        "'uvicorn', 'alembic', 'polars', 'sklearn', 'dask', 'distributed') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
