"""The prediction log and the feedback log: append-only segments written off the hot path.

Layout (one file per closed segment; files never change once they appear)::

    <predictions>/model=<name>/version=<v>/hour=<YYYYMMDDHH>/part-<uuid7>.arrow   (hot)
    <predictions>/model=<name>/version=<v>/hour=<YYYYMMDDHH>/part-<uuid7>.parquet (compacted)
    <feedback>/hour=<YYYYMMDDHH>/part-<uuid7>.parquet

``<name>`` is percent-encoded; hours are UTC and come from each row's ``time``. A segment
is written under a hidden ``.part-*.tmp`` name (a prediction segment ~8k rows at a time, as
it fills), fsynced, renamed and its folder fsynced, so a reader listing ``part-*`` only ever
opens complete files. Prediction segments land as
uncompressed Arrow IPC files (writing them takes a quarter of the CPU zstd Parquet takes; more
bytes); :func:`compact_log` rewrites them as zstd Parquet under the same name,
which ``driftline serve`` does every 10 minutes in a child process at the lowest CPU priority.
Readers take both formats, and the Parquet copy when both exist for a moment.

Prediction segment columns: ``prediction_id`` (string, UUIDv7), ``time`` (timestamp[us,
UTC]), ``model`` (string), ``version`` (int64), ``route`` (string), ``latency_ms`` (float64),
``prediction``, ``probabilities`` (list<float64>, null when the model gives none) and
``features``. Two encodings are recorded in the file's schema metadata:

- ``prediction``: the scalar itself (``driftline.prediction_encoding = native``) when every
  prediction in the segment is a scalar of one type, else JSON text (``json``).
- ``features``: the row's input columns as JSON text (names kept as given). When every row
  of the segment has the same feature names and each feature has one Arrow type, the
  segment instead has one typed column per feature, named ``f_<name>``, with the names in
  order under ``driftline.features``, and no JSON column: readers rebuild the JSON text
  from the typed columns, and the ``f_<name>`` columns from the JSON text for segments
  without them, so both kinds read the same. :func:`features_frame` returns the typed
  columns under their own names. (Segments written before this rule have both.)

These rules hold per file: when the rows of an open prediction segment stop fitting its
file's columns (a prediction of another type, other feature names), the file lands as it is
and the segment goes on in a new one.

Rows come as dicts (:meth:`PredictionLogWriter.submit`) or, from the server, as one
:class:`PredictionBatch` of arrays per request (:meth:`PredictionLogWriter.submit_batch`),
which the writer's thread encodes together column by column. :class:`ProcessLogWriter`
(what ``driftline serve`` uses on x86-64 Linux) runs that writer in a child process and
hands it each batch through a ring in shared memory, so that the server's event loop never
waits for the writer's share of the GIL.

Feedback segment columns: ``prediction_id``, ``time``, ``label`` (JSON text of a scalar),
``value`` (float64, nullable), ``extra`` (JSON text, nullable). Readers decode the JSON.
"""

from driftline.predlog._batches import PredictionBatch
from driftline.predlog._compact import CompactResult, compact_in_child, compact_log
from driftline.predlog._process_writer import ProcessLogWriter
from driftline.predlog._readers import (
    FEEDBACK_COLUMNS,
    PREDICTION_COLUMNS,
    features_frame,
    join_feedback,
    read_feedback,
    read_predictions,
)
from driftline.predlog._writer import SegmentLogWriter
from driftline.predlog._writers import FeedbackLogWriter, PredictionLogWriter

__all__ = [
    "FEEDBACK_COLUMNS",
    "PREDICTION_COLUMNS",
    "CompactResult",
    "FeedbackLogWriter",
    "PredictionBatch",
    "PredictionLogWriter",
    "ProcessLogWriter",
    "SegmentLogWriter",
    "compact_in_child",
    "compact_log",
    "features_frame",
    "join_feedback",
    "read_feedback",
    "read_predictions",
]
