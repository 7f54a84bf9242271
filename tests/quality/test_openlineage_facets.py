"""QualityResult.to_openlineage_facets() against the vendored OpenLineage schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from referencing import Registry, Resource

import driftline.lineage
from driftline.quality import Completeness, Freshness, RowCount, Suite, Uniqueness, ValueRange

# The copy vendored in the package (a lineage test checks it equals ../shared/specs).
OPENLINEAGE_SPECS = Path(driftline.lineage.__file__).parent / "openlineage_spec"
NOW = datetime(2024, 5, 1, tzinfo=UTC)
FACET_FILES = {
    "dataQualityAssertions": ["DataQualityAssertionsDatasetFacet.json"],
    "dataQualityMetrics": [
        "DataQualityMetricsInputDatasetFacet.json",
        "DataQualityMetricsDatasetFacet.json",
    ],
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    paths = [OPENLINEAGE_SPECS / "OpenLineage.json", *(OPENLINEAGE_SPECS / "facets").glob("*.json")]
    resources = []
    for path in paths:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def _validators(registry: Registry, facet: str) -> list[jsonschema.Draft202012Validator]:
    out = []
    for name in FACET_FILES[facet]:
        schema = json.loads((OPENLINEAGE_SPECS / "facets" / name).read_text())
        out.append(jsonschema.Draft202012Validator(schema, registry=registry))
    return out


@pytest.fixture(scope="module")
def facets() -> dict:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {"id": np.r_[np.arange(99), 5], "v": rng.normal(size=100), "t": [NOW] * 100}
    )
    frame.loc[3, "v"] = np.nan
    suite = Suite(
        [
            Completeness("v"),
            ValueRange("v", min=-1, max=1),
            Uniqueness("id"),
            RowCount(min=10),
            Freshness("1d", column="t"),
        ]
    )
    return suite.run(frame, clock=lambda: NOW).to_openlineage_facets()


@pytest.mark.parametrize("facet", sorted(FACET_FILES))
def test_facets_validate_against_their_own_schema(facets: dict, facet: str, registry) -> None:
    for validator in _validators(registry, facet):
        validator.validate({facet: facets[facet]})


def test_the_validation_is_not_vacuous(facets: dict, registry) -> None:
    broken = {k: v for k, v in facets["dataQualityAssertions"].items() if k != "_producer"}
    (validator,) = _validators(registry, "dataQualityAssertions")
    with pytest.raises(jsonschema.ValidationError, match="_producer"):
        validator.validate({"dataQualityAssertions": broken})
    bad_row_count = dict(facets["dataQualityMetrics"], rowCount="100")
    with pytest.raises(jsonschema.ValidationError):
        _validators(registry, "dataQualityMetrics")[0].validate(
            {"dataQualityMetrics": bad_row_count}
        )


def test_assertions_and_metrics_carry_the_results(facets: dict) -> None:
    assertions = facets["dataQualityAssertions"]
    assert assertions["_producer"] == "https://github.com/driftline/driftline"
    by_name = {a["name"]: a for a in assertions["assertions"]}
    assert by_name["completeness"] == by_name["completeness"] | {"column": "v", "success": False}
    assert by_name["unique"]["success"] is False and by_name["unique"]["column"] == "id"
    assert "column" not in by_name["row_count"]  # dataset-level assertion
    metrics = facets["dataQualityMetrics"]
    assert metrics["rowCount"] == 100
    assert metrics["columnMetrics"]["v"]["nullCount"] == 1
    assert metrics["columnMetrics"]["id"]["distinctCount"] == 99
