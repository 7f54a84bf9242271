"""profile_dask: partition profiles merged on a Dask cluster equal the in-memory profile."""

from __future__ import annotations

from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from driftline.drift import NumericProfile, Profile, compare, profile_dask
from driftline.drift.dask_profile import sketch_edges
from driftline.drift.feature_profiles import quantile_edges, sorted_bin_counts
from driftline.drift.sketch import QuantileSketch
from driftline.exceptions import ValidationError

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
CODES = ("SEX", "EDUCATION", "MARRIAGE")  # integer codes of categories: profiled as labels


def _credit() -> pd.DataFrame:
    path = DATASETS / "credit_default_taiwan.csv.gz"
    if not path.is_file():
        pytest.skip(f"shared dataset {path} not found")
    frame = pd.read_csv(path).drop(columns=["ID"])
    for name in CODES:
        frame[name] = frame[name].map(lambda v: f"code_{v}")
    frame.loc[frame.index % 97 == 0, "BILL_AMT1"] = np.nan  # missing values travel too
    frame.loc[frame.index % 89 == 0, "EDUCATION"] = None
    return frame


def _assert_same_profile(got: Profile, expected: Profile) -> None:
    assert got.n_rows_ == expected.n_rows_
    assert list(got.features_) == list(expected.features_)
    for name, want in expected.features_.items():
        have = got[name]
        assert type(have) is type(want), name
        if isinstance(want, NumericProfile):
            assert isinstance(have, NumericProfile)
            counts = (have.count, have.missing, have.infinite, have.minimum, have.maximum)
            assert counts == (want.count, want.missing, want.infinite, want.minimum, want.maximum)
            np.testing.assert_array_equal(have.edges, want.edges, err_msg=name)
            np.testing.assert_array_equal(have.bin_counts, want.bin_counts, err_msg=name)
            assert have.mean == pytest.approx(want.mean, rel=1e-12, abs=1e-12), name
            assert have.m2 == pytest.approx(want.m2, rel=1e-9), name
            assert have.sketch.is_exact and want.sketch.is_exact
            np.testing.assert_array_equal(have.sketch.levels[0], want.sketch.levels[0])
        else:
            assert have.to_dict() == want.to_dict(), name  # categorical counts: exactly


@pytest.mark.slow
def test_profile_on_a_two_worker_cluster_equals_the_in_memory_profile() -> None:
    from distributed import Client, LocalCluster, get_task_stream

    frame = _credit()
    reference, current = frame.iloc[:20_000], frame.iloc[20_000:].copy()
    current["AGE"] += 3  # a drift the report must find
    template = Profile(max_exact=50_000)  # every column fits the exact sample: exact edges
    expected = Profile(max_exact=50_000).fit(reference)
    ddf = dd.from_pandas(reference, npartitions=6)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
        get_task_stream(client) as stream,
    ):
        got = profile_dask(ddf, profile=template)
        workers = set(client.scheduler_info()["workers"])
    ran_on = {task["worker"] for task in stream.data}
    assert ran_on and ran_on <= workers  # the partitions were profiled on the cluster
    assert not hasattr(template, "features_")  # the template stays unfitted
    _assert_same_profile(got, expected)

    want = compare(expected, current)
    have = compare(got, current)
    assert have.drift_detected == want.drift_detected
    assert have.drifted_features == want.drifted_features
    assert "AGE" in have.drifted_features
    for name, feature in want.features.items():
        other = have.features[name]
        assert (other.method, other.drift_detected, other.signals) == (
            feature.method,
            feature.drift_detected,
            feature.signals,
        ), name
        assert other.statistic == pytest.approx(feature.statistic, rel=1e-9, abs=1e-12), name
        if feature.p_value is not None:
            assert other.p_value == pytest.approx(feature.p_value, rel=1e-9, abs=1e-300)


def test_local_scheduler_gives_the_same_profile_and_empty_partitions_are_skipped() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=3_000),
            "k": rng.integers(0, 4, 3_000).astype(float),
            "c": rng.choice(["a", "b", "c"], 3_000),
        }
    )
    ddf = dd.from_pandas(frame, npartitions=5)
    got = profile_dask(ddf, profile=Profile(n_bins=7), split_every=2, scheduler="sync")
    _assert_same_profile(got, Profile(n_bins=7).fit(frame))
    # sorted by x and filtered on x > 0: the first partitions end up with no rows at all
    ordered = frame.sort_values("x").reset_index(drop=True)
    ddf = dd.from_pandas(ordered, npartitions=6)
    ddf = ddf[ddf["x"] > 0.0]
    assert 0 in ddf.map_partitions(len).compute(scheduler="sync").tolist()
    got = profile_dask(ddf, scheduler="sync")
    _assert_same_profile(got, Profile().fit(ordered[ordered["x"] > 0.0]))


def test_edges_beyond_the_exact_sample_stay_within_the_sketch_rank_error() -> None:
    rng = np.random.default_rng(7)
    values = rng.lognormal(0.0, 1.0, 40_000)  # continuous: no ties, no merged edges
    frame = pd.DataFrame({"x": values})
    template = Profile(n_bins=10, max_exact=1_000, sketch_size=256)
    got = profile_dask(dd.from_pandas(frame, npartitions=8), profile=template, scheduler="sync")
    feature = got["x"]
    assert isinstance(feature, NumericProfile)
    ordered = np.sort(values)
    n, error = len(ordered), int(feature.sketch.rank_error)
    assert not feature.sketch.is_exact and 0 < error < 0.05 * n  # the bound says something
    exact = quantile_edges(ordered, 10)
    assert len(feature.edges) == len(exact) == 9
    for i, edge in enumerate(feature.edges, start=1):
        rank = (i * n) // 10 + 1  # 1-based rank of the in-memory edge
        low, high = ordered[max(rank - error, 1) - 1], ordered[min(rank + error, n) - 1]
        assert low <= edge <= high, (i, edge, low, high)
    # the counts are exact counts on those edges
    np.testing.assert_array_equal(feature.bin_counts, sorted_bin_counts(ordered, feature.edges))
    assert feature.mean == pytest.approx(values.mean(), rel=1e-12)


def test_sketch_edges_equal_quantile_edges_while_exact() -> None:
    values = np.random.default_rng(0).normal(size=999)
    sketch = QuantileSketch.from_values(values, max_exact=1_000)
    np.testing.assert_array_equal(sketch_edges(sketch, 8), quantile_edges(np.sort(values), 8))
    with pytest.raises(ValidationError, match="n_bins"):
        sketch_edges(QuantileSketch.from_values(values, k=16, max_exact=10), 0)


def test_bad_inputs_raise_clear_errors() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValidationError, match=r"needs a dask\.dataframe\.DataFrame"):
        profile_dask(frame)
    ddf = dd.from_pandas(frame, npartitions=1)
    with pytest.raises(ValidationError, match="split_every"):
        profile_dask(ddf, split_every=1)
    with pytest.raises(ValidationError, match="no rows"):
        profile_dask(ddf[ddf["x"] > 5.0], scheduler="sync")
    numbers, words = pd.DataFrame({"v": [1.0, 2.0]}), pd.DataFrame({"v": ["a", "b"]})
    parts = [dask.delayed(numbers), dask.delayed(words)]
    mixed = dd.from_delayed(parts, meta=numbers, verify_meta=False)
    with pytest.raises(ValidationError, match="column 'v' is numeric in one partition"):
        profile_dask(mixed, scheduler="sync")
