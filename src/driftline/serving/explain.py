"""One query from a served prediction back to the bytes its model was trained on.

``explain_prediction`` finds the prediction in the log (its UUIDv7 id says which hour to
read), then walks the lineage graph upstream from the model version that answered: the run
that trained it, the dataset versions (with content hashes) it read, and, for a retrained
model, the retrain decision and the drift events that caused it to exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftline.exceptions import NotFoundError, ValidationError
from driftline.ids import uuid7_time_ms

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["explain_prediction"]

_KINDS = ("run", "dataset_version", "retrain_decision", "drift_event", "quality_result")


def explain_prediction(
    workspace: Workspace, prediction_id: str, *, predictions_dir: Path | None = None
) -> dict[str, Any]:
    """The prediction, the model version that made it, and everything upstream of it."""
    from driftline.predlog import read_predictions

    try:
        moment = datetime.fromtimestamp(uuid7_time_ms(prediction_id) / 1000, UTC)
    except ValueError as exc:
        raise ValidationError(f"{prediction_id!r} is not a prediction id (a UUIDv7)") from exc
    folder = predictions_dir or workspace.home / "predictions"
    if not folder.exists():
        raise NotFoundError(f"no prediction log at {folder}")
    rows = read_predictions(
        folder, since=moment - timedelta(hours=1), until=moment + timedelta(hours=1)
    )
    match = rows[rows["prediction_id"] == prediction_id] if len(rows) else rows
    if match.empty:
        raise NotFoundError(
            f"prediction {prediction_id} is not in the log at {folder} (is its segment "
            "closed yet, or was it sampled out?)"
        )
    row = match.iloc[0]
    version = workspace.registry.get(f"{row['model']}/{int(row['version'])}")
    graph = workspace.lineage.upstream(version.id)
    # Nearest first: the run that trained this version, its data, the decision and the
    # drift behind it; further hops reach back through earlier generations of the model.
    upstream: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _KINDS}
    for node in sorted(graph.nodes, key=lambda n: (graph.hops.get(n.id, 0), n.id)):
        if str(node.kind) in upstream:
            upstream[str(node.kind)].append(
                {
                    "id": node.id,
                    "name": node.name,
                    "version": node.version,
                    "content_hash": node.content_hash,
                    "attributes": node.attributes,
                    "hops": graph.hops.get(node.id, 0),
                }
            )
    return {
        "prediction": {
            "id": prediction_id,
            "time": row["time"].isoformat(),
            "model": row["model"],
            "version": int(row["version"]),
            "route": row.get("route"),
            "prediction": _plain(row["prediction"]),
        },
        "model_version": {
            "uri": version.uri,
            "id": version.id,
            "flavor": version.flavor,
            "sha256": version.artifact_sha256,
            "run_id": version.run_id,
            "created_at": version.created_at,
        },
        **{f"{kind}s": nodes for kind, nodes in upstream.items()},
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
