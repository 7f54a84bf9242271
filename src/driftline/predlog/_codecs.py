"""Row codecs: how a prediction or feedback row is checked, partitioned and turned into Arrow."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import numpy as np
import orjson
import pyarrow as pa

from driftline.exceptions import ValidationError
from driftline.ids import uuid7
from driftline.predlog._segments import (
    ARROW,
    HOUR_US,
    PARQUET,
    datetime_to_us,
    hour_label,
)

__all__ = [
    "ARROW_ERRORS",
    "FEATURE_PREFIX",
    "META_FEATURES",
    "META_PREDICTION",
    "PROBABILITIES",
    "SCALARS",
    "TIME",
    "ChunkCodec",
    "Codec",
    "Encoded",
    "FeedbackCodec",
    "PredictionCodec",
    "features_json",
    "to_json",
]

FEATURE_PREFIX = "f_"
META_KIND = b"driftline.log"
META_PREDICTION = b"driftline.prediction_encoding"
META_FEATURES = b"driftline.features"
_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
TIME = pa.timestamp("us", tz="UTC")
PROBABILITIES = pa.list_(pa.float64())
SCALARS = (str, bool, int, float, np.generic)
ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)
# Every prediction segment column but the features, in file order.
BASE_COLUMNS = (
    "prediction_id",
    "time",
    "model",
    "version",
    "route",
    "latency_ms",
    "prediction",
    "probabilities",
)


def to_json(value: Any) -> str | None:
    """``value`` as JSON text (None stays None, NaN becomes null)."""
    return None if value is None else orjson.dumps(value, option=_JSON_OPTIONS).decode()


def features_json(columns: Sequence[pa.Array | pa.ChunkedArray], names: Sequence[str]) -> pa.Array:
    """The JSON text of each row's features, rebuilt from typed feature columns."""
    keys = list(names)
    values = [column.to_pylist() for column in columns]
    texts = [
        orjson.dumps(dict(zip(keys, row, strict=True)), option=_JSON_OPTIONS)
        for row in zip(*values, strict=True)
    ]
    return pa.array([t.decode() for t in texts], pa.string())


def _time_us(row: Mapping[str, Any], now_us: int) -> int:
    value = row.get("time")
    if value is None:
        return now_us
    if isinstance(value, datetime):
        return datetime_to_us(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value * 1_000_000)  # seconds since the epoch
    if isinstance(value, str):
        try:
            return datetime_to_us(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise ValidationError(
        f"row field 'time' must be a datetime, epoch seconds or ISO text, got {value!r}"
    )


@dataclass(frozen=True, slots=True)
class Encoded:
    """One chunk of rows as Arrow, with how its prediction and features were stored.

    With ``feature_names`` the table has typed ``f_<name>`` columns and no ``features``
    JSON column (it is rebuilt from them if the segment cannot stay typed); without, it has
    the ``features`` JSON column only.
    """

    table: pa.Table
    prediction_json: bool = False
    feature_names: tuple[str, ...] | None = None


class Codec(Protocol):
    """What the segment writer needs to know about one kind of log."""

    kind: str
    #: The segment files' format: ``.parquet`` (write_segment) or ``.arrow`` (SegmentFile).
    suffix: str

    def prepare(self, row: Mapping[str, Any], now_us: int) -> tuple[tuple[Any, ...], int, int]:
        """Check ``row``; return its partition key, its hour and its time in microseconds."""
        ...

    def encode(self, rows: Sequence[Mapping[str, Any]], times: Sequence[int]) -> Encoded:
        """Encode rows of one partition."""
        ...

    def finish(self, batches: Sequence[Encoded]) -> pa.Table:
        """Join a segment's chunks into the table that is written."""
        ...

    def directory(self, root: Path, key: tuple[Any, ...]) -> Path:
        """The folder a partition's segments go to."""
        ...


class ChunkCodec(Codec, Protocol):
    """A codec that also takes columnar chunks of rows (one partition per chunk)."""

    def prepare_chunk(self, chunk: Any, now_us: int) -> tuple[tuple[Any, ...], int, int]:
        """Check ``chunk``; return its partition key, its hour and its time in microseconds."""
        ...

    def encode_chunks(self, chunks: Sequence[Any], times: Sequence[int]) -> Encoded:
        """Encode chunks of one partition (``times``: one per chunk)."""
        ...


class PredictionCodec:
    """Prediction rows, partitioned by model, version and hour."""

    kind = "predictions"
    # The busiest log: Arrow IPC costs the serving machine a quarter of Parquet's CPU;
    # compact_log turns closed segments into Parquet later, off the request path.
    suffix = ARROW

    def prepare(self, row: Mapping[str, Any], now_us: int) -> tuple[tuple[Any, ...], int, int]:
        """Check model and version; partition by (model, version, hour)."""
        model, version = row.get("model"), row.get("version")
        if not isinstance(model, str) or not model:
            raise ValidationError(
                f"prediction row field 'model' must be a non-empty string, got {model!r}"
            )
        if isinstance(version, bool) or not isinstance(version, int | np.integer):
            raise ValidationError(f"prediction row field 'version' must be an int, got {version!r}")
        time_us = _time_us(row, now_us)
        hour = time_us // HOUR_US
        return (model, int(version), hour), hour, time_us

    def encode(self, rows: Sequence[Mapping[str, Any]], times: Sequence[int]) -> Encoded:
        """Arrow columns for rows that share one partition."""
        first = rows[0]
        n = len(rows)
        predictions = [r.get("prediction") for r in rows]
        native = all(v is None or isinstance(v, SCALARS) for v in predictions)
        prediction = None
        if native:
            try:
                prediction = pa.array(predictions)
            except ARROW_ERRORS:
                native = False
        if prediction is None:
            prediction = pa.array([to_json(v) for v in predictions], pa.string())
        features = [r.get("features") for r in rows]
        columns: dict[str, pa.Array] = {
            "prediction_id": pa.array(
                [str(r.get("prediction_id") or uuid7()) for r in rows], pa.string()
            ),
            "time": pa.array(times, TIME),
            "model": pa.array([first["model"]] * n, pa.string()),
            "version": pa.array([int(first["version"])] * n, pa.int64()),
            "route": pa.array([r.get("route") for r in rows], pa.string()),
            "latency_ms": pa.array([r.get("latency_ms") for r in rows], pa.float64()),
            "prediction": prediction,
            "probabilities": pa.array([r.get("probabilities") for r in rows], PROBABILITIES),
        }
        names = _typed_features(features, columns)
        if names is None:
            columns["features"] = pa.array([to_json(f) for f in features], pa.string())
        return Encoded(pa.table(columns), prediction_json=not native, feature_names=names)

    def finish(self, batches: Sequence[Encoded]) -> pa.Table:
        """Concatenate chunks; fall back to JSON predictions or JSON-only features if they clash."""
        as_json = any(b.prediction_json for b in batches)
        names = batches[0].feature_names
        typed = names is not None and all(b.feature_names == names for b in batches)
        attempts = dict.fromkeys([(as_json, typed), (True, typed), (as_json, False), (True, False)])
        for json_predictions, typed_features in attempts:
            try:
                table = _join(batches, json_predictions, names if typed_features else None)
            except ARROW_ERRORS:
                continue
            metadata = {
                META_KIND: self.kind.encode(),
                META_PREDICTION: b"json" if json_predictions else b"native",
            }
            if typed_features:
                metadata[META_FEATURES] = orjson.dumps(names)
            return table.replace_schema_metadata(metadata)
        raise ValidationError(
            "prediction rows could not be encoded"
        )  # unreachable: JSON always fits

    def directory(self, root: Path, key: tuple[Any, ...]) -> Path:
        """``root/model=<name>/version=<v>/hour=<YYYYMMDDHH>``, the name percent-encoded."""
        model, version, hour = key
        return (
            root
            / f"model={quote(model, safe='')}"
            / f"version={version}"
            / f"hour={hour_label(hour)}"
        )


def _typed_features(features: list[Any], columns: dict[str, pa.Array]) -> tuple[str, ...] | None:
    """Add one typed ``f_<name>`` column per feature when every row has the same feature names."""
    first = features[0]
    if not isinstance(first, Mapping) or not first:
        return None
    keys = first.keys()
    if not all(isinstance(f, Mapping) and f.keys() == keys for f in features):
        return None
    names = tuple(str(k) for k in keys)
    typed: dict[str, pa.Array] = {}
    for key, name in zip(keys, names, strict=True):
        try:
            typed[FEATURE_PREFIX + name] = pa.array(list(map(itemgetter(key), features)))
        except ARROW_ERRORS:
            return None
    columns.update(typed)
    return names


def _join(
    batches: Sequence[Encoded], json_predictions: bool, names: tuple[str, ...] | None
) -> pa.Table:
    """One table from a segment's chunks: typed features only, or JSON features only."""
    wanted = [FEATURE_PREFIX + n for n in names] if names is not None else ["features"]
    tables = []
    for batch in batches:
        table = batch.table
        if names is None and batch.feature_names is not None:
            typed = [table.column(FEATURE_PREFIX + n) for n in batch.feature_names]
            table = table.append_column("features", features_json(typed, batch.feature_names))
        table = table.select([*BASE_COLUMNS, *wanted])
        if json_predictions and not batch.prediction_json:
            values = [to_json(v) for v in table.column("prediction").to_pylist()]
            index = table.schema.get_field_index("prediction")
            table = table.set_column(index, "prediction", pa.array(values, pa.string()))
        tables.append(table)
    return pa.concat_tables(tables, promote_options="permissive")


class FeedbackCodec:
    """Feedback rows (labels by prediction id), partitioned by hour."""

    kind = "feedback"
    suffix = PARQUET

    def prepare(self, row: Mapping[str, Any], now_us: int) -> tuple[tuple[Any, ...], int, int]:
        """Check prediction_id, label and value; partition by hour."""
        pid = row.get("prediction_id")
        if pid is None or not str(pid):
            raise ValidationError("feedback row field 'prediction_id' is required")
        if "label" not in row:
            raise ValidationError(f"feedback row for prediction {pid} has no field 'label'")
        label = row["label"]
        if label is not None and not isinstance(label, SCALARS):
            raise ValidationError(
                f"feedback row field 'label' must be a JSON scalar (string, number, bool), "
                f"got {type(label).__name__} for prediction {pid}"
            )
        value = row.get("value")
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float | np.number)
        ):
            raise ValidationError(f"feedback row field 'value' must be a number, got {value!r}")
        time_us = _time_us(row, now_us)
        hour = time_us // HOUR_US
        return (hour,), hour, time_us

    def encode(self, rows: Sequence[Mapping[str, Any]], times: Sequence[int]) -> Encoded:
        """Arrow columns; label and extra as JSON text."""
        columns = {
            "prediction_id": pa.array([str(r["prediction_id"]) for r in rows], pa.string()),
            "time": pa.array(times, TIME),
            "label": pa.array([to_json(r["label"]) for r in rows], pa.string()),
            "value": pa.array([r.get("value") for r in rows], pa.float64()),
            "extra": pa.array([to_json(r.get("extra")) for r in rows], pa.string()),
        }
        return Encoded(pa.table(columns))

    def finish(self, batches: Sequence[Encoded]) -> pa.Table:
        """Concatenate chunks (their schema is fixed)."""
        table = pa.concat_tables([b.table for b in batches])
        return table.replace_schema_metadata({META_KIND: self.kind.encode()})

    def directory(self, root: Path, key: tuple[Any, ...]) -> Path:
        """``root/hour=<YYYYMMDDHH>``."""
        return root / f"hour={hour_label(key[0])}"
