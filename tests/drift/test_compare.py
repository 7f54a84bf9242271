"""compare(): the report contract, signals, corrections and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from driftline.drift import Profile, compare, univariate
from driftline.exceptions import ValidationError

CONTRACT_FEATURE_KEYS = {
    "method",
    "statistic",
    "p_value",
    "threshold",
    "drift_detected",
    "missing_share_ref",
    "missing_share_cur",
    "unseen_share",
}


def _frames(n: int = 3_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "stable": rng.normal(size=n),
            "shifted": rng.normal(size=n),
            "color": rng.choice(["red", "green", "blue"], n),
        }
    )
    cur = pd.DataFrame(
        {
            "stable": rng.normal(size=n),
            "shifted": rng.normal(0.8, 1.0, n),
            "color": rng.choice(["red", "green", "blue"], n),
        }
    )
    return ref, cur


def test_report_has_the_cli_contract_keys_and_is_json() -> None:
    ref, cur = _frames()
    report = compare(ref, cur)
    out = report.to_dict()
    assert {"drift_detected", "drift_share", "correction", "features"} <= set(out)
    for feature in out["features"].values():
        assert set(feature) >= CONTRACT_FEATURE_KEYS
    assert json.loads(report.to_json()) == json.loads(json.dumps(out))
    assert out["drift_detected"] is True and out["correction"] == "bonferroni"
    assert report.drifted_features == ("shifted",)
    assert out["drift_share"] == pytest.approx(1 / 3)
    assert "shifted" in report.summary() and "DRIFT" in report.summary()


def test_auto_method_follows_the_documented_rule() -> None:
    rng = np.random.default_rng(1)
    small = {
        "x": rng.normal(size=500),
        "c": rng.choice(["a", "b", "c"], 500),
        "b": rng.choice(["y", "n"], 500),
    }
    large = {k: np.concatenate([v, v, v]) for k, v in small.items()}
    methods = {n: f.method for n, f in compare(small, small).features.items()}
    assert methods == {"x": "ks", "c": "chisquare", "b": "ztest"}
    methods = {n: f.method for n, f in compare(large, large).features.items()}
    assert methods == {"x": "wasserstein", "c": "jensenshannon", "b": "jensenshannon"}


def test_values_equal_the_univariate_tests_and_scipy() -> None:
    ref, cur = _frames(800)
    report = compare(ref, cur, method="ks", columns=["stable", "shifted"])
    for name in ("stable", "shifted"):
        expected = stats.ks_2samp(ref[name], cur[name])
        feature = report.features[name]
        assert feature.statistic == pytest.approx(expected.statistic, abs=1e-12)
        assert feature.p_value == pytest.approx(expected.pvalue, abs=1e-12)
        assert feature.threshold == pytest.approx(0.05 / 4)  # 2 KS + 2 missing-share tests


def test_stored_profile_gives_the_raw_result_when_exact() -> None:
    ref, cur = _frames(2_000)
    raw = compare(ref, cur, method="ks")
    stored = Profile.from_json(raw.reference_profile.to_json())
    again = compare(stored, cur, method="ks")
    assert again.to_dict() == raw.to_dict()


def test_stored_sketch_profile_reports_its_error_bound() -> None:
    ref, cur = _frames(30_000)
    profile = Profile(max_exact=1_000, sketch_size=256).fit(ref)
    report = compare(profile, cur, method="ks")
    shifted = report.features["shifted"]
    assert shifted.approximate and shifted.error_bound is not None
    exact = stats.ks_2samp(ref["shifted"], cur["shifted"]).statistic
    assert abs(shifted.statistic - exact) <= shifted.error_bound


def test_missing_share_is_its_own_signal() -> None:
    rng = np.random.default_rng(2)
    ref = {"x": rng.normal(size=5_000)}
    values = rng.normal(size=5_000)
    values[:1_500] = np.nan  # 30% missing, same distribution otherwise
    report = compare(ref, {"x": values})
    x = report.features["x"]
    assert x.missing_share_ref == 0.0 and x.missing_share_cur == pytest.approx(0.3)
    assert x.missing_drift and not x.distribution_drift and x.drift_detected
    assert x.signals == ("missing",)
    assert x.n_current == 3_500  # the distribution test used the values that are there


def test_small_missing_change_is_not_flagged() -> None:
    rng = np.random.default_rng(3)
    ref = rng.normal(size=200_000)
    cur = rng.normal(size=200_000)
    cur[:600] = np.nan  # 0.3% missing: significant at this size, but below min_missing_change
    x = compare({"x": ref}, {"x": cur}).features["x"]
    assert x.missing_p_value is not None and x.missing_p_value < 1e-10
    assert not x.missing_drift


def test_new_category_is_reported_not_an_instant_alarm() -> None:
    rng = np.random.default_rng(4)
    ref = {"c": rng.choice(["a", "b", "c"], 600)}
    cur_values = rng.choice(["a", "b", "c"], 600).astype(object)
    cur_values[0] = "brand-new"
    report = compare(ref, {"c": cur_values}, method="chisquare")
    c = report.features["c"]
    assert c.unseen_share == pytest.approx(1 / 600)
    assert not c.unseen_drift and not c.drift_detected
    cur_values[:60] = "brand-new"
    c = compare(ref, {"c": cur_values}, method="chisquare").features["c"]
    assert c.unseen_drift and c.unseen_share == pytest.approx(0.1)


def test_corrections() -> None:
    rng = np.random.default_rng(5)
    n = 400
    ref = {f"f{i}": rng.normal(size=n) for i in range(10)}
    cur = {f"f{i}": rng.normal(0.25 if i < 3 else 0.0, 1.0, n) for i in range(10)}
    bonf = compare(ref, cur, method="ks", correction="bonferroni")
    fdr = compare(ref, cur, method="ks", correction="fdr")
    share = compare(ref, cur, method="ks", correction="share", share_threshold=0.5)
    ps = [bonf.features[f"f{i}"].p_value for i in range(10)] + [1.0] * 10  # missing tests
    m = len(ps)
    assert bonf.features["f0"].threshold == pytest.approx(0.05 / m)
    ordered = np.sort(ps)
    passing = [i for i in range(m) if ordered[i] <= (i + 1) * 0.05 / m]
    expected_cut = (passing[-1] + 1) * 0.05 / m if passing else 0.05 / m
    assert fdr.features["f0"].threshold == pytest.approx(expected_cut)
    assert len(fdr.drifted_features) >= len(bonf.drifted_features)
    assert share.features["f0"].threshold == 0.05
    assert share.drift_detected == (share.drift_share >= 0.5)


def test_test_instances_and_per_column_methods() -> None:
    ref, cur = _frames(2_000)
    report = compare(
        ref,
        cur,
        method={
            "stable": univariate.PopulationStabilityIndex(threshold=0.2),
            "shifted": "cramervonmises",
        },
        extra_methods=("ks", "psi"),
    )
    assert report.features["stable"].method == "psi"
    assert report.features["stable"].threshold == 0.2
    assert report.features["shifted"].method == "cramervonmises"
    assert set(report.features["shifted"].extra) == {"ks", "psi"}
    assert report.features["color"].method == "jensenshannon"
    assert set(report.features["color"].extra) == {"psi"}


@pytest.mark.parametrize(
    ("reference", "current", "message"),
    [
        ({"x": []}, {"x": [1.0]}, "reference has no rows"),
        ({"x": [1.0, 2.0]}, {"y": [1.0, 2.0]}, r"lacks the reference columns \['x'\]"),
        ({"x": [1.0, 2.0]}, {"x": [1.0]}, None),
    ],
)
def test_bad_frames(reference, current, message) -> None:
    if message is None:
        report = compare(reference, current)
        assert not report.features["x"].testable
        assert "needs at least 5" in report.features["x"].reason
        return
    with pytest.raises(ValidationError, match=message):
        compare(reference, current)


def test_bad_arguments_are_validation_errors() -> None:
    ref, cur = _frames(100)
    with pytest.raises(ValidationError, match="unknown correction"):
        compare(ref, cur, correction="holm")
    with pytest.raises(ValidationError, match="unknown drift method 'kss'"):
        compare(ref, cur, method="kss")
    with pytest.raises(ValidationError, match="alpha"):
        compare(ref, cur, alpha=1.5)
    with pytest.raises(ValidationError, match=r"\['nope'\] are not in the reference"):
        compare(ref, cur, columns=["nope"])
    with pytest.raises(ValidationError, match="not fitted"):
        compare(Profile(), cur)


def test_degenerate_columns_are_documented_not_a_crash() -> None:
    n = 200
    rng = np.random.default_rng(6)
    ref = pd.DataFrame(
        {
            "all_nan": np.full(n, np.nan),
            "constant": np.ones(n),
            "inf": rng.normal(size=n),
            "text_in_numeric": rng.normal(size=n),
            "when": pd.date_range("2024-01-01", periods=n),
        }
    )
    cur = ref.copy()
    cur["constant"] = 2.0
    cur.loc[:19, "inf"] = np.inf
    cur["text_in_numeric"] = ["oops"] * n
    report = compare(ref, cur)
    f = report.features
    assert not f["all_nan"].testable and "0 non-missing" in f["all_nan"].reason
    assert f["constant"].testable and f["constant"].drift_detected  # 1 -> 2 is drift
    assert f["inf"].missing_share_cur == pytest.approx(0.1) and f["inf"].missing_drift
    assert not f["text_in_numeric"].testable
    assert "numeric" in f["text_in_numeric"].reason and "categorical" in f["text_in_numeric"].reason
    assert not f["when"].testable and "not tested" in f["when"].reason
    text = report.to_json()
    assert "NaN" not in text and "Infinity" not in text


def test_extra_current_columns_are_listed() -> None:
    ref, cur = _frames(100)
    cur["new_col"] = 1
    assert compare(ref, cur).extra_columns == ("new_col",)


def test_identifier_like_columns_are_skipped_in_auto_mode() -> None:
    ids = [f"user-{i}" for i in range(500)]
    report = compare({"id": ids}, {"id": [f"user-{i}" for i in range(500, 1000)]})
    feature = report.features["id"]
    assert not feature.testable and "identifier" in feature.reason
    assert feature.unseen_share is None and not feature.drift_detected


def test_every_input_type_and_a_current_profile_give_one_report() -> None:
    import polars as pl
    import pyarrow as pa

    ref, cur = _frames(1_500, seed=7)
    expected = compare(ref, cur).to_dict()
    as_polars = compare(pl.from_pandas(ref), pl.from_pandas(cur)).to_dict()
    as_arrow = compare(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur)).to_dict()
    assert as_polars == expected and as_arrow == expected
    numeric = ["stable", "shifted"]
    from_numpy = compare(
        ref[numeric].to_numpy(), cur[numeric].to_numpy(), feature_names=numeric
    ).to_dict()
    assert from_numpy["features"] == compare(ref[numeric], cur[numeric]).to_dict()["features"]
    reference = Profile().fit(ref)
    window = reference.profile_like(cur)
    both_profiles = compare(reference, window)
    assert both_profiles.drifted_features == ("shifted",)
    assert both_profiles.features["stable"].statistic == pytest.approx(
        expected["features"]["stable"]["statistic"], abs=1e-12
    )
