"""Build OpenLineage run events from lineage nodes.

Each run gives a START event (its inputs, parameters) and, once it ended, one COMPLETE, FAIL
or ABORT event (inputs and outputs, the error). Every lineage node a run reads or writes is an
OpenLineage dataset: dataset versions by name with their content hash as the ``version``
facet, other kinds named ``kind/name`` with custom ``driftline_*`` facets that say what they
are, since OpenLineage has no model version or deployment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from driftline._canonical import canonical_json
from driftline._version import __version__
from driftline.exceptions import ValidationError
from driftline.lineage._model import Node, NodeKind, RunInfo, RunStatus
from driftline.lineage._spec import RUN_EVENT_URL, facet_schema

__all__ = ["PRODUCER", "run_events", "schema_fields"]

PRODUCER = "https://github.com/driftline/driftline"


def _facet(name: str, place: str, body: Mapping[str, Any]) -> dict[str, Any]:
    schema = facet_schema(name, place)
    if schema is None:  # pragma: no cover - every facet built here has a schema file
        raise ValidationError(f"no schema for facet {name!r}")
    return {"_producer": PRODUCER, "_schemaURL": schema.schema_url, **body}


def _column(index: int, name: object, spec: object, where: str) -> dict[str, Any]:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{where}[{index}] has no column name (a non-empty string)")
    field: dict[str, Any] = {"name": name, "ordinal_position": index + 1}
    if isinstance(spec, str):
        field["type"] = spec
    elif isinstance(spec, Mapping):
        kind = spec.get("type") or spec.get("logical_type") or spec.get("dtype")
        if isinstance(kind, str):
            field["type"] = kind
        if isinstance(spec.get("description"), str):
            field["description"] = spec["description"]
    return field


def schema_fields(attributes: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The ``schema`` facet fields from a node's ``columns`` attribute, if it has one.

    ``columns`` is either a list of ``{"name": ..., "type"|"logical_type"|"dtype": ...}``
    or a mapping of column name to a type name (or to such a dict).

    >>> schema_fields({"columns": {"age": "numeric"}})
    [{'name': 'age', 'ordinal_position': 1, 'type': 'numeric'}]
    """
    columns = attributes.get("columns")
    where = "attribute 'columns'"
    if columns is None:
        return None
    if isinstance(columns, Mapping):
        return [_column(i, k, v, where) for i, (k, v) in enumerate(columns.items())]
    if isinstance(columns, Sequence) and not isinstance(columns, str):
        fields = []
        for i, item in enumerate(columns):
            if not isinstance(item, Mapping):
                raise ValidationError(f"{where}[{i}] must be a mapping with a 'name'")
            fields.append(_column(i, item.get("name"), item, where))
        return fields
    raise ValidationError(f"{where} must be a list of columns or a mapping name -> type")


def _dataset_facets(node: Node) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if node.kind is NodeKind.DATASET_VERSION:
        version = node.content_hash or node.version
    else:
        version = node.version or node.content_hash
    if version:
        facets["version"] = _facet("version", "dataset", {"datasetVersion": version})
    fields = schema_fields(node.attributes)
    if fields is not None:
        facets["schema"] = _facet("schema", "dataset", {"fields": fields})
    source = node.attributes.get("source_uri")
    if isinstance(source, str) and "://" in source:
        facets["dataSource"] = _facet("dataSource", "dataset", {"name": source, "uri": source})
    facets["driftline_node"] = _facet(
        "driftline_node",
        "dataset",
        {
            "nodeId": node.id,
            "kind": str(node.kind),
            "createdAt": node.created_at,
            "attributes": dict(node.attributes),
        },
    )
    facets.update(_kind_facet(node))
    return facets


def _kind_facet(node: Node) -> dict[str, Any]:
    extra = {k: v for k, v in (("version", node.version),) if v is not None}
    if node.kind is NodeKind.MODEL_VERSION:
        if node.content_hash is not None:
            extra["contentHash"] = node.content_hash
        body = {"modelName": node.name, **extra}
        return {"driftline_model_version": _facet("driftline_model_version", "dataset", body)}
    if node.kind is NodeKind.DEPLOYMENT:
        body = {"deploymentName": node.name, **extra}
        return {"driftline_deployment": _facet("driftline_deployment", "dataset", body)}
    return {}


def _dataset(node: Node, namespace: str) -> dict[str, Any]:
    name = node.name if node.kind is NodeKind.DATASET_VERSION else f"{node.kind}/{node.name}"
    return {"namespace": namespace, "name": name, "facets": _dataset_facets(node)}


def _parameter_value(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value).decode()


def _run_facets(info: RunInfo, status: RunStatus) -> dict[str, Any]:
    facets: dict[str, Any] = {
        "processing_engine": _facet(
            "processing_engine", "run", {"name": "driftline", "version": __version__}
        )
    }
    if info.parameters:
        parameters = [
            {"key": str(k), "value": _parameter_value(v)} for k, v in info.parameters.items()
        ]
        facets["executionParameters"] = _facet(
            "executionParameters", "run", {"parameters": parameters}
        )
    if status in (RunStatus.FAIL, RunStatus.ABORT) and info.error_message:
        body = {"message": info.error_message, "programmingLanguage": "PYTHON"}
        if info.error_trace:
            body["stackTrace"] = info.error_trace
        facets["errorMessage"] = _facet("errorMessage", "run", body)
    return facets


def _event(
    run: Node,
    info: RunInfo,
    status: RunStatus,
    time: str,
    inputs: Sequence[Node],
    outputs: Sequence[Node],
    namespace: str,
) -> dict[str, Any]:
    job_type = run.attributes.get("job_type")
    job_facets = {
        "jobType": _facet(
            "jobType",
            "job",
            {
                "processingType": "BATCH",
                "integration": "DRIFTLINE",
                "jobType": job_type if isinstance(job_type, str) else "JOB",
            },
        )
    }
    return {
        "eventType": str(status),
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_URL,
        "run": {"runId": run.id, "facets": _run_facets(info, status)},
        "job": {"namespace": namespace, "name": run.name, "facets": job_facets},
        "inputs": [_dataset(node, namespace) for node in inputs],
        "outputs": [_dataset(node, namespace) for node in outputs],
    }


def run_events(
    run: Node, inputs: Sequence[Node], outputs: Sequence[Node], *, namespace: str
) -> list[dict[str, Any]]:
    """The START event of ``run`` and, if it has ended, its COMPLETE/FAIL/ABORT event.

    The START event lists the inputs only: outputs are known for sure once the run ends.
    """
    info = run.run
    if run.kind is not NodeKind.RUN or info is None:
        raise ValidationError(f"lineage node {run.id!r} is a {run.kind}, not a run")
    events = [_event(run, info, RunStatus.START, info.started_at, inputs, [], namespace)]
    if info.status is not RunStatus.START and info.ended_at is not None:
        events.append(_event(run, info, info.status, info.ended_at, inputs, outputs, namespace))
    return events
