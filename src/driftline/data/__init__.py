"""Dataset versions: content-hashed, schema-inferred, loadable as pandas or Arrow."""

from driftline.data._canonical import canonicalize, content_hash
from driftline.data._datasets import Datasets, DatasetVersion, parse_ref
from driftline.data._quality_runs import QualityRuns, StoredQualityResult
from driftline.data._readers import read_table
from driftline.data._schema import ColumnSchema, infer_schema

__all__ = [
    "ColumnSchema",
    "DatasetVersion",
    "Datasets",
    "QualityRuns",
    "StoredQualityResult",
    "canonicalize",
    "content_hash",
    "infer_schema",
    "parse_ref",
    "read_table",
]
