"""The prediction log and the feedback log: append-only Parquet segments written off the hot path.

Layout (one file per closed segment; files never change once they appear)::

    <predictions>/model=<name>/version=<v>/hour=<YYYYMMDDHH>/part-<uuid7>.parquet
    <feedback>/hour=<YYYYMMDDHH>/part-<uuid7>.parquet

``<name>`` is percent-encoded; hours are UTC and come from each row's ``time``. A segment
is written under a hidden ``.part-*.tmp`` name, fsynced, renamed and its folder fsynced, so
a reader listing ``part-*.parquet`` only ever opens complete files.

Prediction segment columns: ``prediction_id`` (string, UUIDv7), ``time`` (timestamp[us,
UTC]), ``model`` (string), ``version`` (int64), ``route`` (string), ``latency_ms`` (float64),
``prediction``, ``probabilities`` (list<float64>, null when the model gives none) and
``features``. Two encodings are recorded in the file's schema metadata:

- ``prediction``: the scalar itself (``driftline.prediction_encoding = native``) when every
  prediction in the segment is a scalar of one type, else JSON text (``json``).
- ``features``: always the row's input columns as JSON text (names kept as given). When
  every row of the segment has the same feature names and each feature has one Arrow type,
  the segment also has one typed column per feature, named ``f_<name>``, and the names in
  order under ``driftline.features``. Readers rebuild ``f_<name>`` columns from the JSON for
  segments without them, and :func:`features_frame` returns them under their own names.

Feedback segment columns: ``prediction_id``, ``time``, ``label`` (JSON text of a scalar),
``value`` (float64, nullable), ``extra`` (JSON text, nullable). Readers decode the JSON.
"""

from driftline.serving.predlog._readers import (
    FEEDBACK_COLUMNS,
    PREDICTION_COLUMNS,
    features_frame,
    join_feedback,
    read_feedback,
    read_predictions,
)
from driftline.serving.predlog._writer import SegmentLogWriter
from driftline.serving.predlog._writers import FeedbackLogWriter, PredictionLogWriter

__all__ = [
    "FEEDBACK_COLUMNS",
    "PREDICTION_COLUMNS",
    "FeedbackLogWriter",
    "PredictionLogWriter",
    "SegmentLogWriter",
    "features_frame",
    "join_feedback",
    "read_feedback",
    "read_predictions",
]
