from __future__ import annotations

from pathlib import Path

import pandas as pd

from driftline import Workspace
from driftline.quality import AllowedValues, Completeness, Suite, ValueRange


def test_results_are_stored_and_linked_to_the_dataset_version(
    workspace: Workspace, datasets: Path
) -> None:
    version = workspace.datasets.add(datasets / "california_housing.csv.gz", name="housing")
    suite = Suite(
        [
            Completeness("total_bedrooms", max_missing=0.005),
            ValueRange("housing_median_age", min=0, max=100),
        ]
    )
    result, stored = workspace.quality.check(version, suite)
    assert not result.passed  # total_bedrooms is about 1% missing
    assert stored.dataset_version_id == version.id
    assert workspace.quality.latest(version.id) == stored
    downstream = workspace.lineage.downstream(version.id)
    assert stored.id in downstream.ids
    assert downstream.node(stored.id).kind == "quality_result"


def test_a_file_whose_content_is_registered_links_to_that_version(
    workspace: Workspace, tmp_path: Path
) -> None:
    frame = pd.DataFrame({"plan": ["free", "pro", "team"] * 10})
    version = workspace.datasets.add(frame, name="plans")
    path = tmp_path / "plans.parquet"
    frame.to_parquet(path)
    _, stored = workspace.quality.check(
        path, Suite([AllowedValues("plan", values={"free", "pro"})])
    )
    assert stored.dataset_version_id == version.id
    assert stored.result["passed"] is False
    other = tmp_path / "other.parquet"
    pd.DataFrame({"plan": ["free"]}).to_parquet(other)
    _, unlinked = workspace.quality.check(other, Suite([AllowedValues("plan", values={"free"})]))
    assert unlinked.dataset_version_id is None and unlinked.passed


def test_walk_from_data_reaches_everything_downstream(workspace: Workspace) -> None:
    data = workspace.datasets.add(pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), name="d")
    _, quality = workspace.quality.check(data, Suite([Completeness("x")]))
    model = workspace.registry.register_saved(
        "m", flavor="python", data=b"model", flavor_meta={}, dataset_version_id=data.id
    )
    reached = workspace.lineage.downstream(data.id).ids
    assert {quality.id, model.id} <= reached
    assert data.id in workspace.lineage.upstream(model.id).ids
