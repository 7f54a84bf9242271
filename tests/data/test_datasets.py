from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import polars as pl
import pytest

from driftline import Workspace
from driftline.exceptions import NotFoundError, ValidationError


def test_csv_and_parquet_of_the_same_data_share_one_version(
    workspace: Workspace, datasets: Path, tmp_path: Path
) -> None:
    from_csv = workspace.datasets.add(datasets / "elec2.csv.gz", name="elec2")
    parquet = tmp_path / "elec2.parquet"
    pd.read_csv(datasets / "elec2.csv.gz").to_parquet(parquet, row_group_size=4096)
    from_parquet = workspace.datasets.add(parquet, name="elec2")
    assert from_parquet.id == from_csv.id and from_parquet.existed
    assert (from_csv.version, from_csv.rows) == (1, 45_312)
    assert workspace.datasets.list("elec2") == [from_csv]
    actions = [e.action for e in workspace.audit.entries()]
    assert actions.count("dataset.register") == 1
    node = workspace.lineage.node(from_csv.id)
    assert (node.kind, node.content_hash) == ("dataset_version", from_csv.sha256)


def test_versions_count_up_and_refs_resolve(workspace: Workspace) -> None:
    a = workspace.datasets.add(pd.DataFrame({"x": [1, 2]}), name="d")
    b = workspace.datasets.add(pl.DataFrame({"x": [1, 3]}), name="d")
    assert (a.version, b.version) == (1, 2)
    assert workspace.datasets.get("d") == b
    assert workspace.datasets.get("d:1") == a
    assert workspace.datasets.get(a.id) == a
    with pytest.raises(NotFoundError, match="'d:3'"):
        workspace.datasets.get("d:3")
    with pytest.raises(ValidationError, match="not a number"):
        workspace.datasets.get("d:latest")


def test_load_round_trips_through_the_verified_artifact(
    workspace: Workspace, datasets: Path
) -> None:
    version = workspace.datasets.add(datasets / "california_housing.csv.gz", name="housing")
    loaded = workspace.datasets.load(version)
    original = pd.read_csv(datasets / "california_housing.csv.gz")
    assert loaded.shape == original.shape
    np.testing.assert_allclose(loaded["total_bedrooms"], original["total_bedrooms"])
    pdt.assert_series_equal(
        loaded["ocean_proximity"].astype(object),
        original["ocean_proximity"].astype(object),
        check_dtype=False,
    )
    bedrooms = next(c for c in version.columns if c.name == "total_bedrooms")
    assert bedrooms.nullable and bedrooms.null_count == int(original["total_bedrooms"].isna().sum())
    assert workspace.datasets.load(version.ref, format="arrow").num_rows == 20_640


def test_schema_inference(workspace: Workspace) -> None:
    df = pd.DataFrame(
        {
            "n": [1.5, 2.5, None, 4.0] * 50,
            "cat": ["a", "b", "a", "c"] * 50,
            "txt": [f"free text {i}" for i in range(200)],
            "b": [True, False] * 100,
            "t": pd.date_range("2024-01-01", periods=200, freq="h"),
        }
    )
    version = workspace.datasets.add(df, name="typed")
    kinds = {c.name: c.logical_type for c in version.columns}
    assert kinds == {
        "n": "numeric",
        "cat": "categorical",
        "txt": "text",
        "b": "boolean",
        "t": "datetime",
    }
    by_name = {c.name: c for c in version.columns}
    assert (by_name["n"].min, by_name["n"].max, by_name["n"].null_count) == (1.5, 4.0, 50)
    assert by_name["cat"].categories == ["a", "b", "c"]
    assert by_name["t"].min.startswith("2024-01-01T00:00:00")


def test_corrupted_artifact_is_never_loaded(workspace: Workspace) -> None:
    version = workspace.datasets.add(pd.DataFrame({"x": range(100)}), name="x")
    path = workspace.artifacts.local_path(version.artifact_sha256)
    path.write_bytes(path.read_bytes()[:-10])
    from driftline.exceptions import IntegrityError

    with pytest.raises(IntegrityError, match=str(path)):
        workspace.datasets.load(version)


@pytest.mark.parametrize(
    ("content", "error", "match"),
    [
        ("", ValidationError, "is empty"),
        ("a,b\n", ValidationError, "no rows"),
        ("a,b\n1,2\n3\n", ValidationError, "line 3: Expected 2 columns, got 1"),
        (
            "a,b\n" + "".join(f"{i},{i}\n" for i in range(300)) + "7,oops\n",
            ValidationError,
            "line 302, column 'b': value 'oops'",
        ),
    ],
    ids=["empty", "header-only", "ragged", "mixed-types"],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    workspace: Workspace, tmp_path: Path, content: str, error: type, match: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(error, match=match) as info:
        workspace.datasets.add(path, name="bad")
    assert str(path) in str(info.value)
    assert workspace.datasets.list() == []
    assert workspace.artifacts.stats()["count"] == 0
    assert workspace.audit.head()[0] == 0


def test_missing_markers_and_mixed_columns_can_be_allowed(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "m.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("a,b\n" + "".join(f"{i},{i}\n" for i in range(300)) + "7,?\n")
    as_missing = workspace.datasets.add(path, name="m", null_values=["?"])
    assert next(c for c in as_missing.columns if c.name == "b").logical_type == "numeric"
    as_text = workspace.datasets.add(path, name="m", allow_mixed=True)
    assert as_text.version == 2


def test_paths_and_names_that_cannot_work(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.csv"):
        workspace.datasets.add(tmp_path / "nope.csv", name="x")
    with pytest.raises(ValidationError, match="not a file"):
        workspace.datasets.add(tmp_path, name="x")
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(ValidationError, match="unknown format"):
        workspace.datasets.add(tmp_path / "data.json", name="x")
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(ValidationError, match="not a readable Parquet"):
        workspace.datasets.add(tmp_path / "fake.parquet", name="x")
    with pytest.raises(ValidationError, match="dataset name"):
        workspace.datasets.add(pd.DataFrame({"x": [1]}), name="../etc")
    with pytest.raises(ValidationError, match="cannot read data of type"):
        workspace.datasets.add(42, name="x")
