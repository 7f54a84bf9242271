"""The vendored schema is the shared spec, unchanged; driftline's own facets fit into it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import driftline.lineage
from driftline.lineage import SCHEMA_URL, NodeKind
from driftline.lineage._spec import CUSTOM_DIR, SPEC_DIR, catalog, facet_schema

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "openlineage"


def test_public_api_is_curated() -> None:
    assert sorted(driftline.lineage.__all__) == sorted(
        [
            "PRODUCER", "SCHEMA_URL", "ConsoleTransport", "Direction", "Edge", "EventCheck",
            "FileTransport", "HttpTransport", "Lineage", "LineageGraph", "LineagePath",
            "LineageTracker", "MemoryTransport", "Node", "NodeKind", "Relation", "RunHandle",
            "RunInfo", "RunStatus", "SchemaProblem", "Transport", "ValidationReport",
            "validate_event", "validate_file",
        ]
    )  # fmt: skip


def test_vendored_files_are_the_shared_spec_unchanged() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"shared spec not found at {SHARED}")
    shared = sorted(p.relative_to(SHARED) for p in SHARED.rglob("*") if p.is_file())
    vendored = sorted(p.relative_to(SPEC_DIR) for p in SPEC_DIR.rglob("*") if p.is_file())
    assert vendored == shared
    for relative in shared:
        assert (SPEC_DIR / relative).read_bytes() == (SHARED / relative).read_bytes(), relative
    assert "Apache License" in (SPEC_DIR / "LICENSE").read_text()


def test_event_schema_url_is_the_vendored_core() -> None:
    core = json.loads((SPEC_DIR / "OpenLineage.json").read_text())
    assert core["$id"] + "#/$defs/RunEvent" == SCHEMA_URL
    assert "RunEvent" in core["$defs"]


def test_every_facet_file_is_indexed_with_a_resolvable_schema_url() -> None:
    files = {p.name for p in (SPEC_DIR / "facets").glob("*.json")} | {
        p.name for p in CUSTOM_DIR.glob("*.json")
    }
    indexed = {s.file for group in catalog().facets.values() for s in group}
    assert indexed == files
    for group in catalog().facets.values():
        for schema in group:
            resolved = catalog().registry.resolver().lookup(schema.schema_url)
            assert resolved.contents is schema.contents["$defs"][schema.definition]
            assert schema.places, schema.file


@pytest.mark.parametrize(
    ("name", "place", "file"),
    [
        ("dataQualityMetrics", "input", "DataQualityMetricsInputDatasetFacet.json"),
        ("dataQualityMetrics", "dataset", "DataQualityMetricsDatasetFacet.json"),
        ("tags", "run", "TagsRunFacet.json"),
        ("tags", "job", "TagsJobFacet.json"),
        ("tags", "dataset", "TagsDatasetFacet.json"),
        ("ownership", "job", "OwnershipJobFacet.json"),
        ("documentation", "dataset", "DocumentationDatasetFacet.json"),
        ("dataQualityAssertions", "dataset", "DataQualityAssertionsDatasetFacet.json"),
        ("driftline_node", "dataset", "DriftlineNodeDatasetFacet.json"),
    ],
)
def test_facets_are_chosen_by_name_and_place(name: str, place: str, file: str) -> None:
    schema = facet_schema(name, place)
    assert schema is not None and schema.file == file
    assert facet_schema("acme_custom", place) is None


def test_driftline_node_facet_lists_every_node_kind() -> None:
    contents = json.loads((CUSTOM_DIR / "DriftlineNodeDatasetFacet.json").read_text())
    kinds = contents["$defs"]["DriftlineNodeDatasetFacet"]["allOf"][1]["properties"]["kind"]
    assert kinds["enum"] == [kind.value for kind in NodeKind]
