"""Multivariate detectors and the HTML report."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from driftline.drift import compare
from driftline.drift.multivariate import MMD, DomainClassifier, PCAReconstruction
from driftline.exceptions import ValidationError


def _same_marginals_new_relation(n: int, seed: int) -> tuple[dict, dict]:
    """b follows a in the reference and opposes it in the current: marginals do not move."""
    rng = np.random.default_rng(seed)
    a, c = rng.normal(size=n), rng.normal(size=n)
    ref = {"a": a, "b": a + rng.normal(0, 0.3, n), "noise": rng.normal(size=n)}
    cur = {"a": c, "b": -c + rng.normal(0, 0.3, n), "noise": rng.normal(size=n)}
    return ref, cur


def _calm(n: int, seed: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    make = lambda: {"a": rng.normal(size=n), "k": rng.choice(["x", "y", "z"], n)}  # noqa: E731
    return make(), make()


def test_univariate_tests_miss_what_multivariate_detectors_see() -> None:
    ref, cur = _same_marginals_new_relation(600, 0)
    assert not compare(ref, cur, method="ks").features["a"].drift_detected
    for detector in (DomainClassifier(max_iter=50), PCAReconstruction(), MMD(n_permutations=100)):
        result = detector.compare(ref, cur)
        assert result.drift_detected, (detector.name, result)


@pytest.mark.parametrize("seed", [1, 2])
def test_detectors_stay_quiet_on_samples_of_one_distribution(seed: int) -> None:
    ref, cur = _calm(500, seed)
    # at a 1% level a false alarm on one of these fixed seeds is a 1-in-100 event per detector
    detectors = (
        DomainClassifier(max_iter=50),
        PCAReconstruction(threshold=0.01),
        MMD(n_permutations=100, threshold=0.01),
    )
    for detector in detectors:
        result = detector.compare(ref, cur)
        assert not result.drift_detected, (detector.name, result)


def test_domain_classifier_reports_an_interval_and_the_driving_feature() -> None:
    rng = np.random.default_rng(3)
    n = 800
    ref = {"a": rng.normal(size=n), "b": rng.normal(size=n), "k": rng.choice(["x", "y"], n)}
    cur = {"a": rng.normal(size=n), "b": rng.normal(1.0, 1.0, n), "k": rng.choice(["x", "y"], n)}
    result = DomainClassifier(max_iter=50).compare(ref, cur)
    assert result.ci is not None
    low, high = result.ci
    assert low < result.statistic < high and result.statistic > 0.6
    assert max(result.feature_importances, key=result.feature_importances.get) == "b"


def test_mmd_p_value_is_a_permutation_p_value() -> None:
    ref, cur = _calm(100, 4)
    result = MMD(n_permutations=49, max_rows=100).compare(ref, cur)
    assert result.p_value is not None
    assert (result.p_value * 50) == pytest.approx(round(result.p_value * 50))
    assert result.p_value >= 1 / 50


def test_multivariate_bad_input() -> None:
    with pytest.raises(ValidationError, match="not in both"):
        MMD().compare({"a": [1.0, 2.0]}, {"b": [1.0, 2.0]})
    with pytest.raises(ValidationError, match="variance"):
        PCAReconstruction(variance=1.5).compare({"a": [1.0] * 20}, {"a": [1.0] * 20})


def test_html_report_is_one_self_contained_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ref = {"x": rng.normal(size=2000), "c": rng.choice(["a", "b", "<c>"], 2000)}
    cur = {"x": rng.normal(0.5, 1.0, 2000), "c": rng.choice(["a", "b", "new"], 2000)}
    report = compare(ref, cur)
    path = report.to_html(tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "DRIFT DETECTED" in text
    assert text.count("<svg") == 3  # x: histogram + ECDF; c: histogram
    assert "&lt;c&gt;" in text and "<c>" not in text  # labels are escaped
    assert not re.search(r"(src|href)=['\"]https?://", text)  # nothing loaded from the network
    assert "<script" not in text
