"""From a trained model (or a model file) to a registered version, and back to a predictor.

Registration smoke-tests the model on a few rows of its training data in signature order,
so a model that cannot predict on the data it claims to take is refused before anything is
stored. Loading reads the artifact through the artifact store, which checks its sha256
before the flavor sees a byte (pickle runs code; see :mod:`driftline.registry.flavors`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftline.exceptions import ValidationError
from driftline.registry._records import ModelVersion
from driftline.registry._signature import Signature

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from driftline.registry._registry import Registry
    from driftline.registry.flavors import LoadedModel, SavedModel

__all__ = ["load_model", "register_model"]

_SMOKE_ROWS = 5


def register_model(
    registry: Registry,
    name: str,
    saved: SavedModel,
    *,
    frame: pd.DataFrame | None = None,
    target: str | None = None,
    dataset: Any = None,
    signature: Signature | None = None,
    profile: bool = True,
    conn: Connection | None = None,
    **fields: Any,
) -> ModelVersion:
    """Register ``saved`` with a signature and reference profile taken from ``frame``."""
    inputs = _inputs(frame, target)
    if signature is None and frame is not None:
        signature = Signature.from_frame(frame, target=target)
    elif signature is None and dataset is not None:
        signature = Signature.from_schema(dataset.columns, target=target)
    if inputs is not None and signature is not None:
        _smoke_test(saved, signature.validate(inputs.head(_SMOKE_ROWS)))
    reference = _profile_bytes(inputs) if profile and inputs is not None else None
    return registry.register_saved(
        name,
        flavor=saved.flavor,
        data=saved.data,
        flavor_meta=saved.meta,
        signature=signature,
        dataset_version_id=getattr(dataset, "id", None),
        reference_profile=reference,
        conn=conn,
        **fields,
    )


def load_model(registry: Registry, ref: str | ModelVersion) -> tuple[ModelVersion, LoadedModel]:
    """The version and its model, loaded only after its bytes matched the registered hash."""
    from driftline.registry.flavors import get_flavor

    version, data = registry.load_bytes(ref)
    return version, get_flavor(version.flavor).load(data, version.flavor_meta)


def saved_from(model: Any, flavor: str | None) -> SavedModel:
    """Serialise an in-memory model with ``flavor`` (or the one that recognises it)."""
    from driftline.registry.flavors import flavor_for, get_flavor

    return (get_flavor(flavor) if flavor else flavor_for(model)).save(model)


def saved_from_file(path: str | Path, flavor: str) -> SavedModel:
    """Read a model file written by its library's own save function."""
    from driftline.registry.flavors import get_flavor

    return get_flavor(flavor).from_file(path)


def _inputs(frame: pd.DataFrame | None, target: str | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    if target is not None and target not in frame.columns:
        raise ValidationError(
            f"target column {target!r} is not in the data (columns: {', '.join(map(str, frame))})"
        )
    return frame.drop(columns=[target]) if target else frame


def _smoke_test(saved: SavedModel, sample: pd.DataFrame) -> None:
    from driftline.registry.flavors import get_flavor

    model = get_flavor(saved.flavor).load(saved.data, saved.meta)
    try:
        predictions = model.predict(sample)
    except Exception as exc:  # whatever the library raises: the model and data disagree
        raise ValidationError(
            f"the model cannot predict on its data's columns ({', '.join(sample.columns)}): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; check the "
            "target column and that the model was trained on these features"
        ) from exc
    if len(predictions) != len(sample):
        raise ValidationError(
            f"the model returned {len(predictions)} predictions for {len(sample)} rows"
        )


def _profile_bytes(inputs: pd.DataFrame) -> bytes:
    from driftline.drift import Profile

    return Profile().fit(inputs).to_json().encode()
