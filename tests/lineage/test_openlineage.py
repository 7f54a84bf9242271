"""OpenLineage export: every event validates against the vendored schema, facets say the truth."""

from __future__ import annotations

import copy
import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from driftline.exceptions import ValidationError
from driftline.lineage import PRODUCER, Lineage, validate_event

SPEC = Path(__file__).resolve().parents[2] / "src" / "driftline" / "lineage" / "openlineage_spec"
DATA_HASH = "3f" * 32
MODEL_HASH = "7a" * 32


def _schema_id(file: str) -> str:
    return json.loads((SPEC / file).read_text())["$id"]


def record_pipeline(lineage: Lineage) -> dict[str, str]:
    """dataset -> train -> model -> deploy -> deployment, plus a failed evaluation run."""
    lineage.add_node(
        "ds-credit-3",
        "dataset_version",
        "credit",
        version="3",
        content_hash=DATA_HASH,
        attributes={
            "columns": [
                {"name": "age", "logical_type": "numeric", "nullable": False},
                {"name": "job", "logical_type": "categorical"},
            ],
            "source_uri": "file:///data/credit.csv",
            "rows": 1000,
        },
    )
    with lineage.run("train_credit", inputs=["ds-credit-3"], parameters={"C": 0.5}) as train:
        lineage.add_node(
            "mv-credit-1", "model_version", "credit-clf", version="1", content_hash=MODEL_HASH
        )
        train.add_output("mv-credit-1")
    with lineage.run("deploy", inputs=["mv-credit-1"], attributes={"job_type": "DEPLOY"}) as dep:
        lineage.add_node("dep-prod", "deployment", "prod", attributes={"replicas": 2})
        dep.add_output("dep-prod")
    with pytest.raises(RuntimeError), lineage.run("evaluate", inputs=["mv-credit-1"]) as ev:
        raise RuntimeError("holdout set missing")
    return {"train": train.id, "deploy": dep.id, "evaluate": ev.id}


def _by_run(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        grouped[event["run"]["runId"]].append(event)
    return grouped


def test_every_event_validates_and_each_run_starts_then_ends(lineage: Lineage) -> None:
    runs = record_pipeline(lineage)
    events = lineage.openlineage_events()
    assert len(events) == 6
    for event in events:
        assert validate_event(event) == ()
        assert event["producer"] == PRODUCER == "https://github.com/driftline/driftline"
        assert event["schemaURL"] == _schema_id("OpenLineage.json") + "#/$defs/RunEvent"
    grouped = _by_run(events)
    assert set(grouped) == set(runs.values())
    for run_id, run_events in grouped.items():
        assert uuid.UUID(run_id).version == 7
        assert run_events[0]["eventType"] == "START"
        assert len(run_events) == 2
    assert grouped[runs["evaluate"]][1]["eventType"] == "FAIL"
    assert grouped[runs["train"]][1]["eventType"] == "COMPLETE"
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)


def test_dataset_facets_carry_hash_schema_and_source(lineage: Lineage) -> None:
    runs = record_pipeline(lineage)
    start, complete = lineage.openlineage_events([runs["train"]])
    assert start["outputs"] == []  # outputs are reported once the run has ended
    (dataset,) = complete["inputs"]
    assert (dataset["namespace"], dataset["name"]) == ("driftline", "credit")
    facets = dataset["facets"]
    assert facets["version"]["datasetVersion"] == DATA_HASH
    assert facets["version"]["_schemaURL"] == (
        _schema_id("facets/DatasetVersionDatasetFacet.json") + "#/$defs/DatasetVersionDatasetFacet"
    )
    assert facets["schema"]["fields"] == [
        {"name": "age", "type": "numeric", "ordinal_position": 1},
        {"name": "job", "type": "categorical", "ordinal_position": 2},
    ]
    assert facets["dataSource"]["uri"] == "file:///data/credit.csv"
    assert facets["driftline_node"]["nodeId"] == "ds-credit-3"
    assert facets["driftline_node"]["attributes"]["rows"] == 1000
    run_facets = complete["run"]["facets"]
    assert run_facets["executionParameters"]["parameters"] == [{"key": "C", "value": "0.5"}]
    assert complete["job"] == {
        "namespace": "driftline",
        "name": "train_credit",
        "facets": complete["job"]["facets"],
    }


def test_model_versions_and_deployments_get_driftline_facets(lineage: Lineage) -> None:
    runs = record_pipeline(lineage)
    _, complete = lineage.openlineage_events([runs["deploy"]])
    (model,) = complete["inputs"]
    (deployment,) = complete["outputs"]
    assert model["name"] == "model_version/credit-clf"
    assert model["facets"]["version"]["datasetVersion"] == "1"
    assert model["facets"]["driftline_model_version"] == {
        "_producer": PRODUCER,
        "_schemaURL": model["facets"]["driftline_model_version"]["_schemaURL"],
        "modelName": "credit-clf",
        "version": "1",
        "contentHash": MODEL_HASH,
    }
    assert deployment["facets"]["driftline_deployment"]["deploymentName"] == "prod"
    assert deployment["facets"]["driftline_node"]["kind"] == "deployment"
    assert complete["job"]["facets"]["jobType"]["jobType"] == "DEPLOY"


def test_failed_run_reports_its_error(lineage: Lineage) -> None:
    runs = record_pipeline(lineage)
    _, fail = lineage.openlineage_events([runs["evaluate"]])
    error = fail["run"]["facets"]["errorMessage"]
    assert error["message"] == "RuntimeError: holdout set missing"
    assert error["programmingLanguage"] == "PYTHON"
    assert 'raise RuntimeError("holdout set missing")' in error["stackTrace"]
    assert validate_event(fail) == ()


def test_a_running_run_has_only_its_start(lineage: Lineage) -> None:
    lineage.add_node("d", "dataset_version", "d")
    handle = lineage.start_run("stream", inputs=["d"])
    (start,) = lineage.openlineage_events([handle.id])
    assert start["eventType"] == "START" and validate_event(start) == ()


def test_events_for_a_walked_graph_and_bad_run_lists(lineage: Lineage) -> None:
    runs = record_pipeline(lineage)
    graph = lineage.upstream("dep-prod")
    ids = {event["run"]["runId"] for event in lineage.openlineage_events(graph)}
    assert ids == {runs["train"], runs["deploy"]}
    with pytest.raises(ValidationError, match="'ds-credit-3' is not a run"):
        lineage.openlineage_events(["ds-credit-3"])


def test_column_types_that_are_not_text_are_left_out(lineage: Lineage) -> None:
    lineage.add_node("d", "dataset_version", "d", attributes={"columns": {"a": {"type": 3}}})
    with lineage.run("job", inputs=["d"]) as run:
        pass
    start, _ = lineage.openlineage_events([run.id])
    assert start["inputs"][0]["facets"]["schema"]["fields"] == [
        {"name": "a", "ordinal_position": 1}
    ]


def test_an_event_that_does_not_validate_is_refused(
    lineage: Lineage, monkeypatch: pytest.MonkeyPatch
) -> None:
    with lineage.run("job") as run:
        pass
    monkeypatch.setattr("driftline.lineage._openlineage.PRODUCER", "driftline (no scheme)")
    with pytest.raises(ValidationError, match=rf"START event of run {run.id} .* at \$.producer"):
        lineage.openlineage_events([run.id])
    assert len(lineage.openlineage_events([run.id], validate=False)) == 2


def _event() -> dict[str, Any]:
    return {
        "eventType": "START",
        "eventTime": "2026-03-01T12:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "01890a5d-ac96-774b-bcce-b302099a8057"},
        "job": {"namespace": "ns", "name": "job"},
        "inputs": [{"namespace": "ns", "name": "d", "facets": {}, "inputFacets": {}}],
    }


def _facet(**body: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": "https://example.com/facet.json", **body}


@pytest.mark.parametrize(
    ("change", "path", "schema_path", "message"),
    [
        (
            lambda e: e.pop("run"),
            "$",
            "OpenLineage.json#/$defs/RunEvent/allOf/1/required",
            "'run' is a required property",
        ),
        (
            lambda e: e["run"].update(runId="run-1"),
            "$.run.runId",
            "OpenLineage.json#/$defs/RunEvent/allOf/1/properties/run/properties/runId/format",
            "is not a 'uuid'",
        ),
        (
            lambda e: e.update(eventTime="yesterday"),
            "$.eventTime",
            "OpenLineage.json#/$defs/RunEvent/allOf/0/properties/eventTime/format",
            "is not a 'date-time'",
        ),
        (
            lambda e: e.update(eventTime="2026-02-30T00:00:00Z"),
            "$.eventTime",
            "OpenLineage.json#/$defs/RunEvent/allOf/0/properties/eventTime/format",
            "is not a 'date-time'",
        ),
        (
            lambda e: e.update(producer="driftline"),
            "$.producer",
            "OpenLineage.json#/$defs/RunEvent/allOf/0/properties/producer/format",
            "is not a 'uri'",
        ),
        (
            lambda e: e.update(eventType="DONE"),
            "$.eventType",
            "OpenLineage.json#/$defs/RunEvent/allOf/1/properties/eventType/enum",
            "is not one of",
        ),
        (
            lambda e: e["inputs"][0]["facets"].update(schema={"fields": []}),
            "$.inputs[0].facets.schema",
            "OpenLineage.json#/$defs/RunEvent/allOf/1/properties/inputs/items/allOf/0/",
            "'_producer' is a required property",
        ),
        (
            lambda e: e["inputs"][0]["facets"].update(schema=_facet(fields=[{"type": "int"}])),
            "$.inputs[0].facets.schema.fields[0]",
            "facets/SchemaDatasetFacet.json#/properties/schema/allOf/1/properties/fields/items",
            "'name' is a required property",
        ),
        (
            lambda e: e["inputs"][0]["inputFacets"].update(dataQualityMetrics=_facet(rowCount=1)),
            "$.inputs[0].inputFacets.dataQualityMetrics",
            "facets/DataQualityMetricsInputDatasetFacet.json#/",
            "'columnMetrics' is a required property",
        ),
        (
            lambda e: e["inputs"][0]["facets"].update(dataQualityMetrics=_facet(rowCount=1)),
            "$.inputs[0].facets.dataQualityMetrics",
            "facets/DataQualityMetricsDatasetFacet.json#/",
            "'columnMetrics' is a required property",
        ),
        (
            lambda e: e["inputs"][0]["facets"].update(driftline_model_version=_facet(version="1")),
            "$.inputs[0].facets.driftline_model_version",
            "facets/DriftlineModelVersionDatasetFacet.json#/",
            "'modelName' is a required property",
        ),
        (
            lambda e: e["run"].update(facets={"errorMessage": _facet(message="x")}),
            "$.run.facets.errorMessage",
            "facets/ErrorMessageRunFacet.json#/",
            "'programmingLanguage' is a required property",
        ),
    ],
    ids=[
        "no-run",
        "run-id",
        "time",
        "feb-30",
        "producer",
        "event-type",
        "base-facet",
        "schema-facet",
        "dq-input",
        "dq-dataset",
        "driftline-facet",
        "error-facet",
    ],
)
def test_broken_events_name_the_place_and_the_rule(
    change: Any, path: str, schema_path: str, message: str
) -> None:
    event = _event()
    assert validate_event(event) == ()
    broken = copy.deepcopy(event)
    change(broken)
    first = validate_event(broken)[0]
    assert first.path == path
    assert first.schema_path.startswith(schema_path)
    assert message in first.message


def test_a_job_event_passes_the_root_schema_but_not_run_event() -> None:
    from jsonschema import Draft202012Validator

    from driftline.lineage._spec import catalog

    job_event = _event()
    del job_event["run"], job_event["eventType"]
    root = Draft202012Validator(catalog().core, registry=catalog().registry)
    assert root.is_valid(job_event)  # why the spec README says: validate against RunEvent
    assert validate_event(job_event)[0].message == "'run' is a required property"


def test_unknown_custom_facets_are_left_to_the_core_schema() -> None:
    event = _event()
    event["run"]["facets"] = {"acme_cost": _facet(dollars=3)}
    assert validate_event(event) == ()
    event["run"]["facets"] = {"acme_cost": {"dollars": 3}}
    assert "'_producer' is a required property" in validate_event(event)[0].message
