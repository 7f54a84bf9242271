"""Schema inference: a logical type and observed values for every column."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ColumnSchema", "LogicalType", "infer_schema"]

LogicalType = Literal["numeric", "categorical", "boolean", "datetime", "text"]

# A string column is categorical when it has few distinct values, either absolutely or
# relative to its size; otherwise it is free text. The categories are kept when categorical.
MAX_CATEGORIES = 50
MAX_CATEGORY_SHARE = 0.05


@dataclass(frozen=True)
class ColumnSchema:
    """One column: its logical type, nullability and what values were observed."""

    name: str
    logical_type: LogicalType
    arrow_type: str
    nullable: bool
    null_count: int
    min: Any = None
    max: Any = None
    categories: list[str] = field(default_factory=list)
    distinct: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSchema:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**data)


def infer_schema(table: pa.Table) -> list[ColumnSchema]:
    """The schema of a canonical table (see :func:`driftline.data.canonicalize`)."""
    return [_infer_column(name, table.column(name)) for name in table.column_names]


def _infer_column(name: str, column: pa.ChunkedArray) -> ColumnSchema:
    kind = column.type
    nulls = column.null_count
    base: dict[str, Any] = {
        "name": name,
        "arrow_type": str(kind),
        "nullable": nulls > 0,
        "null_count": nulls,
    }
    if pa.types.is_boolean(kind):
        return ColumnSchema(logical_type="boolean", **base)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        low, high = _min_max(column)
        return ColumnSchema(logical_type="numeric", min=low, max=high, **base)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        low, high = _min_max(column)
        return ColumnSchema(
            logical_type="datetime",
            min=low.isoformat() if low is not None else None,
            max=high.isoformat() if high is not None else None,
            **base,
        )
    distinct = pc.count_distinct(column, mode="only_valid").as_py()
    non_null = len(column) - nulls
    if distinct <= MAX_CATEGORIES or distinct <= MAX_CATEGORY_SHARE * non_null:
        values = pc.unique(column.drop_null()).to_pylist()
        categories = sorted(str(value) for value in values)
        return ColumnSchema(
            logical_type="categorical",
            categories=categories[: MAX_CATEGORIES * 4],
            distinct=distinct,
            **base,
        )
    return ColumnSchema(logical_type="text", distinct=distinct, **base)


def _min_max(column: pa.ChunkedArray) -> tuple[Any, Any]:
    if column.null_count == len(column):
        return None, None
    result = pc.min_max(column)
    return result["min"].as_py(), result["max"].as_py()
