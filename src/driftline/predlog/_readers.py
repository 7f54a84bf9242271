"""Reading the logs back: closed segments only, as pandas DataFrames, and the feedback join."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftline.exceptions import NotFoundError, ValidationError

if TYPE_CHECKING:
    import pyarrow.dataset as ds
from driftline.predlog._codecs import (
    BASE_COLUMNS,
    FEATURE_PREFIX,
    META_FEATURES,
    META_PREDICTION,
    features_json,
)
from driftline.predlog._segments import (
    FORMATS,
    HOUR_US,
    PARQUET,
    PREFIX,
    datetime_to_us,
    parse_hour_label,
)

__all__ = [
    "FEEDBACK_COLUMNS",
    "PREDICTION_COLUMNS",
    "features_frame",
    "join_feedback",
    "read_feedback",
    "read_predictions",
]

PREDICTION_COLUMNS = (*BASE_COLUMNS, "features")
FEEDBACK_COLUMNS = ("prediction_id", "time", "label", "value", "extra")
_TIME = pa.timestamp("us", tz="UTC")


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise ValidationError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def _subdirs(folder: Path, field: str) -> Iterable[tuple[str, Path]]:
    prefix = f"{field}="
    for child in sorted(folder.iterdir()):
        if child.is_dir() and child.name.startswith(prefix):
            yield unquote(child.name[len(prefix) :]), child


def _hour_dirs(folder: Path, since: datetime | None, until: datetime | None) -> Iterable[Path]:
    low = None if since is None else datetime_to_us(since) // HOUR_US
    high = None if until is None else datetime_to_us(until) // HOUR_US
    for label, child in _subdirs(folder, "hour"):
        hour = parse_hour_label(label)
        if hour is None or (low is not None and hour < low) or (high is not None and hour > high):
            continue
        yield child


def _segments(folders: Iterable[Path]) -> list[Path]:
    """The segment files in ``folders``; a segment compacted to Parquet is read from there.

    Only renamed, complete files match: temporaries are hidden and end in .tmp. While a
    compaction runs, an Arrow segment and its Parquet copy may both be listed for a moment:
    the Parquet one wins.
    """
    found: list[Path] = []
    for folder in folders:
        by_stem: dict[str, Path] = {}
        for path in sorted(folder.glob(f"{PREFIX}*")):
            if path.suffix in FORMATS and (path.stem not in by_stem or path.suffix == PARQUET):
                by_stem[path.stem] = path
        found.extend(by_stem.values())  # in name order: a stem keeps its first place
    return found


def _read_schema(path: Path) -> pa.Schema:
    if path.suffix == PARQUET:
        return pq.read_schema(path)
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).schema


def _root(directory: str | Path) -> Path:
    root = Path(directory)
    if not root.is_dir():
        raise NotFoundError(f"log directory {str(root)!r} does not exist")
    return root


def _time_filter(since: datetime | None, until: datetime | None) -> ds.Expression | None:
    import pyarrow.dataset as ds  # ~10 MB with its filesystems: the server never reads

    expression = None
    for bound, op in ((since, "ge"), (until, "lt")):
        if bound is None:
            continue
        scalar = pa.scalar(datetime_to_us(bound), pa.int64()).cast(_TIME)
        term = ds.field("time") >= scalar if op == "ge" else ds.field("time") < scalar
        expression = term if expression is None else expression & term
    return expression


def _check_columns(columns: Sequence[str] | None, known: Sequence[str], typed: bool) -> None:
    if columns is None:
        return
    if isinstance(columns, str):
        raise ValidationError(f"columns must be a list of names, got the string {columns!r}")
    unknown = [
        c for c in columns if c not in known and not (typed and c.startswith(FEATURE_PREFIX))
    ]
    if unknown:
        extra = f" or typed features named {FEATURE_PREFIX}<name>" if typed else ""
        raise ValidationError(f"unknown log columns {unknown}; choose from {list(known)}{extra}")


def _load(
    files: list[Path], since: datetime | None, until: datetime | None, columns: Sequence[str] | None
) -> list[tuple[pa.Table, dict[bytes, bytes]]]:
    """Read files grouped by schema (usually one group), each group as one dataset scan."""
    import pyarrow.dataset as pads

    groups: dict[tuple[str, bytes], tuple[pa.Schema, list[Path]]] = {}
    for path in files:
        schema = _read_schema(path)
        key = (path.suffix, schema.serialize().to_pybytes())
        groups.setdefault(key, (schema, []))[1].append(path)
    expression = _time_filter(since, until)
    frames = []
    for (suffix, _), (schema, paths) in groups.items():
        metadata = dict(schema.metadata or {})
        wanted = schema.names if columns is None else _projection(schema, columns, metadata)
        dataset = pads.dataset([str(p) for p in paths], schema=schema, format=FORMATS[suffix])
        table = dataset.to_table(columns=wanted, filter=expression)
        frames.append((table, metadata))
    return frames


def _load_listed(
    list_files: Callable[[], list[Path]],
    since: datetime | None,
    until: datetime | None,
    columns: Sequence[str] | None,
) -> list[tuple[pa.Table, dict[bytes, bytes]]]:
    """:func:`_load` the listed files, listing again if a compaction moved one meanwhile."""
    files = list_files()
    for _ in range(2):
        try:
            return _load(files, since, until, columns)
        except FileNotFoundError:
            if all(p.exists() for p in files):
                raise
        files = list_files()
    return _load(files, since, until, columns)


def _projection(
    schema: pa.Schema, columns: Sequence[str], metadata: dict[bytes, bytes]
) -> list[str]:
    wanted = [c for c in columns if c in schema.names]
    # Typed features asked of a JSON-only segment are rebuilt from the JSON text.
    needs_json = META_FEATURES not in metadata and any(
        c.startswith(FEATURE_PREFIX) for c in columns
    )
    if needs_json and "features" in schema.names and "features" not in wanted:
        wanted.append("features")
    # The JSON text asked of a typed segment is rebuilt from its typed columns.
    if "features" in columns and "features" not in schema.names:
        wanted.extend(c for c in _typed_names(metadata, schema) if c not in wanted)
    return wanted


def _typed_names(metadata: dict[bytes, bytes], schema: pa.Schema) -> list[str]:
    """The segment's ``f_<name>`` columns in feature order (none for JSON-only segments)."""
    if META_FEATURES not in metadata:
        return []
    names = [FEATURE_PREFIX + str(n) for n in orjson.loads(metadata[META_FEATURES])]
    return names if all(n in schema.names for n in names) else []


def _decoded(table: pa.Table, name: str) -> list[Any]:
    return [None if text is None else orjson.loads(text) for text in table.column(name).to_pylist()]


def _to_frame(table: pa.Table, json_columns: Sequence[str]) -> pd.DataFrame:
    """``table`` as pandas, with the JSON text columns decoded to Python values."""
    frame = table.drop_columns([c for c in json_columns if c in table.column_names]).to_pandas()
    for name in json_columns:
        if name in table.column_names:
            index = table.column_names.index(name)
            frame.insert(index, name, pd.Series(_decoded(table, name), dtype=object))
    return frame


def _normalise_predictions(
    table: pa.Table, metadata: dict[bytes, bytes], columns: Sequence[str] | None
) -> pd.DataFrame:
    typed = _typed_names(metadata, table.schema)
    wants_json = columns is None or "features" in columns
    if wants_json and typed and "features" not in table.column_names:
        names = [c[len(FEATURE_PREFIX) :] for c in typed]
        text = features_json([table.column(c) for c in typed], names)
        table = table.append_column("features", text)
    as_json = ["prediction"] if metadata.get(META_PREDICTION) == b"json" else []
    frame = _to_frame(table, as_json)
    if META_FEATURES not in metadata and "features" in table.column_names:
        decoded = [f if f is not None else {} for f in _decoded(table, "features")]
        typed = pd.DataFrame.from_records(decoded, index=frame.index)
        if len(typed.columns):
            typed.columns = [FEATURE_PREFIX + str(c) for c in typed.columns]
            frame = pd.concat([frame, typed], axis=1)
    return frame


def _assemble(
    frames: list[pd.DataFrame], base: Sequence[str], columns: Sequence[str] | None
) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(columns if columns is not None else base))
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if "time" in frame:
        order = ["time", "prediction_id"] if "prediction_id" in frame else ["time"]
        frame = frame.sort_values(order, kind="stable", ignore_index=True)
    if columns is not None:
        return frame.reindex(columns=list(columns))
    typed = [c for c in frame.columns if c.startswith(FEATURE_PREFIX)]
    return frame[[c for c in base if c in frame.columns] + typed]


def read_predictions(
    directory: str | Path,
    *,
    model: str | None = None,
    version: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Closed prediction segments as one DataFrame, sorted by time.

    ``since`` is inclusive and ``until`` exclusive. The columns are :data:`PREDICTION_COLUMNS`
    followed by one ``f_<name>`` column per feature: typed as written where the segment had
    typed features, rebuilt from the JSON text elsewhere. ``prediction`` holds the scalar as
    written, or the decoded JSON value. :func:`features_frame` gives the features under their
    own names. ``columns`` picks a subset (``f_<name>`` included).
    """
    root = _root(directory)
    since, until = _aware("since", since), _aware("until", until)
    _check_columns(columns, PREDICTION_COLUMNS, typed=True)

    def listed() -> list[Path]:
        folders: list[Path] = []
        for name, model_dir in _subdirs(root, "model"):
            if model is not None and name != model:
                continue
            for number, version_dir in _subdirs(model_dir, "version"):
                if version is not None and number != str(version):
                    continue
                folders.extend(_hour_dirs(version_dir, since, until))
        return _segments(folders)

    frames = [
        _normalise_predictions(table, metadata, columns)
        for table, metadata in _load_listed(listed, since, until, columns)
    ]
    return _assemble(frames, PREDICTION_COLUMNS, columns)


def read_feedback(
    directory: str | Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Closed feedback segments as one DataFrame by time, with ``label`` and ``extra`` decoded."""
    root = _root(directory)
    since, until = _aware("since", since), _aware("until", until)
    _check_columns(columns, FEEDBACK_COLUMNS, typed=False)
    frames = [
        _to_frame(table, ("label", "extra"))
        for table, _ in _load_listed(
            lambda: _segments(_hour_dirs(root, since, until)), since, until, columns
        )
    ]
    return _assemble(frames, FEEDBACK_COLUMNS, columns)


def features_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """The ``f_<name>`` columns of ``predictions`` under their original names."""
    typed = [c for c in predictions.columns if isinstance(c, str) and c.startswith(FEATURE_PREFIX)]
    if not typed:
        raise ValidationError(
            "the predictions frame has no f_<name> feature columns; read it with columns=None"
        )
    frame = predictions[typed]
    frame.columns = [c[len(FEATURE_PREFIX) :] for c in typed]
    return frame


def _require(frame: pd.DataFrame, name: str, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationError(f"{name} frame lacks columns {missing}")


def join_feedback(
    predictions: pd.DataFrame, feedback: pd.DataFrame, *, how: Literal["left", "inner"] = "left"
) -> pd.DataFrame:
    """Attach each prediction's latest label by ``prediction_id``.

    Adds ``label``, ``value``, ``extra``, ``feedback_time`` and ``label_delay_s`` (seconds from
    the prediction to its label). When a prediction got several labels, the one with the
    latest feedback time wins (on a tie, the later row). ``how="left"`` keeps unlabelled
    predictions with empty labels; ``"inner"`` keeps labelled ones only. Feedback for
    unknown predictions is left out.
    """
    if how not in ("left", "inner"):
        raise ValidationError(f"how must be 'left' or 'inner', got {how!r}")
    _require(predictions, "predictions", ("prediction_id", "time"))
    _require(feedback, "feedback", ("prediction_id", "time", "label"))
    latest = feedback.sort_values("time", kind="stable").drop_duplicates(
        "prediction_id", keep="last"
    )
    keep: list[Any] = [
        c for c in ("prediction_id", "time", "label", "value", "extra") if c in latest
    ]
    latest = latest[keep].rename(columns={"time": "feedback_time"})
    clash = [c for c in latest.columns if c != "prediction_id" and c in predictions.columns]
    if clash:
        raise ValidationError(
            f"predictions frame already has columns {clash}; drop them before joining"
        )
    joined = predictions.merge(latest, on="prediction_id", how=how, validate="many_to_one")
    if joined.empty:  # an empty log reads back untyped: no times to subtract
        joined["label_delay_s"] = pd.Series(dtype="float64")
        return joined
    joined["label_delay_s"] = (joined["feedback_time"] - joined["time"]).dt.total_seconds()
    return joined
