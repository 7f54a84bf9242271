"""Champion/challenger on a labelled dataset version: predict, compare, store the evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from driftline._canonical import canonical_json
from driftline.exceptions import ValidationError
from driftline.ids import uuid7
from driftline.store import iso_utc
from driftline.store._training_tables import comparisons
from driftline.training._compare import Comparison, compare

if TYPE_CHECKING:
    from driftline.data import Datasets, DatasetVersion
    from driftline.registry import ModelVersion, Registry

__all__ = ["compare_versions"]


def compare_versions(
    registry: Registry,
    datasets: Datasets,
    *,
    name: str,
    challenger: int,
    champion: int,
    data: str | DatasetVersion,
    metric: str = "accuracy",
    slices: Sequence[str] = (),
    **options: Any,
) -> Comparison:
    """Compare two versions of ``name`` on a dataset version and store the decision."""
    version = datasets.get(data) if isinstance(data, str) else data
    frame = datasets.load(version)
    new, old = registry.get(f"{name}/{challenger}"), registry.get(f"{name}/{champion}")
    target = _target(new)
    for column in (target, *slices):
        if column not in frame.columns:
            raise ValidationError(f"column {column!r} is not in dataset {version.ref}")
    new_model, old_model = registry.load(new), registry.load(old)
    features_new = new.signature.validate(frame.drop(columns=[target])) if new.signature else frame
    features_old = old.signature.validate(frame.drop(columns=[target])) if old.signature else frame
    needs_proba = metric in ("roc_auc", "log_loss", "brier")
    result = compare(
        frame[target].to_numpy(),
        old_model.predict(features_old),
        new_model.predict(features_new),
        metric=metric,
        champion_proba=old_model.predict_proba(features_old) if needs_proba else None,
        challenger_proba=new_model.predict_proba(features_new) if needs_proba else None,
        slices={s: frame[s].to_numpy() for s in slices} or None,
        labels=new_model.classes,
        **options,
    )
    _store(
        registry, result, name=name, challenger=challenger, champion=champion, dataset_id=version.id
    )
    return result


def _target(version: ModelVersion) -> str:
    if version.signature is None or not version.signature.outputs:
        raise ValidationError(
            f"{version.uri} has no output column in its signature, so the label column is "
            "unknown; register it with --data and --target"
        )
    return version.signature.outputs[0].name


def _store(
    registry: Registry,
    result: Comparison,
    *,
    name: str,
    challenger: int,
    champion: int,
    dataset_id: str,
) -> None:
    row = {
        "id": str(uuid7()),
        "model_name": name,
        "challenger_version": challenger,
        "champion_version": champion,
        "dataset_version_id": dataset_id,
        "metric": result.metric,
        "promote": bool(result.promote),
        "evidence": canonical_json(result.to_dict()).decode(),
        "created_at": iso_utc(registry.clock()),
        "created_by": registry.audit.actor,
    }
    with registry.store.write() as conn:
        conn.execute(insert(comparisons).values(**row))
        registry.audit.append(
            conn,
            action="model.compare",
            subject=f"model/{name}",
            payload={
                "comparison_id": row["id"],
                "challenger": challenger,
                "champion": champion,
                "metric": result.metric,
                "difference": result.difference,
                "ci_low": result.ci_low,
                "promote": bool(result.promote),
            },
        )
