"""The model registry: versions, signatures, aliases with history, verified artifacts."""

from driftline.registry._records import AliasChange, ModelVersion
from driftline.registry._registry import Registry
from driftline.registry._signature import ColumnSpec, Signature
from driftline.registry._uri import ModelRef, parse_model_ref

__all__ = [
    "AliasChange",
    "ColumnSpec",
    "ModelRef",
    "ModelVersion",
    "Registry",
    "Signature",
    "parse_model_ref",
]
