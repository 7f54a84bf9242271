"""The two logs the server writes: predictions and feedback."""

from __future__ import annotations

from driftline.predlog._batches import PredictionBatch
from driftline.predlog._codecs import FeedbackCodec
from driftline.predlog._columnar import BatchPredictionCodec
from driftline.predlog._writer import SegmentLogWriter

__all__ = ["FeedbackLogWriter", "PredictionLogWriter"]


class PredictionLogWriter(SegmentLogWriter):
    """Append served predictions to Arrow IPC segments from a bounded queue, off the request path.

    :meth:`submit` puts rows on an in-memory queue of at most ``max_queue`` rows and returns
    at once; rows that do not fit are dropped and counted (``dropped``, ``on_drop(n)``), never
    waited for. With ``sample_rate`` < 1 a row is kept when a hash of its ``prediction_id``
    falls below the rate, so the same ids are kept on every run and every worker. One
    background thread (:meth:`start`) drains the queue every ``poll_interval`` seconds, or
    sooner when the queue is half full, into one open segment per (model, version, hour). A
    segment becomes a file when it holds ``segment_rows`` rows, when its hour ends, when it
    has been open ``segment_seconds``, and on :meth:`flush` and :meth:`close`; the file is
    written under a hidden temporary name, fsynced and renamed, so readers see whole files
    only. A process killed mid-segment loses the rows still queued or in open segments
    (at most ``segment_seconds`` of traffic) and leaves no visible partial file.
    Segments are uncompressed Arrow IPC (``part-<id>.arrow``); :func:`compact_log` rewrites
    closed ones as zstd Parquet, and the readers take both.

    A row is a mapping with ``model`` and ``version`` (required) and ``prediction_id``
    (a new UUIDv7 when missing), ``time`` (aware datetime, epoch seconds or ISO text; the
    writer's clock when missing), ``route``, ``latency_ms``, ``prediction``, ``probabilities``
    and ``features`` (a mapping of input columns). Other keys are ignored. A server logs
    whole requests with :meth:`submit_batch` instead: the same fields as arrays, one item
    on the queue per request, encoded column by column. Rows that break
    these rules, or segments that cannot be written, are counted in ``failed`` (and in
    ``dropped``, and passed to ``on_drop``) with the message in ``last_error``. After
    :meth:`close`, ``written + failed == accepted``. ``on_segment(path, rows)`` is called
    after each segment lands; ``gate`` (an Event) holds the background thread while clear.

    >>> import tempfile
    >>> from driftline.predlog import read_predictions, features_frame
    >>> folder = tempfile.mkdtemp()
    >>> with PredictionLogWriter(folder) as log:
    ...     log.submit([{"model": "fraud", "version": 3, "prediction": 1,
    ...                  "features": {"amount": 12.5, "country": "FR"}}])
    1
    >>> frame = read_predictions(folder, model="fraud")
    >>> frame[["model", "version", "prediction"]].to_dict("records")
    [{'model': 'fraud', 'version': 3, 'prediction': 1}]
    >>> features_frame(frame).to_dict("records")
    [{'amount': 12.5, 'country': 'FR'}]
    """

    codec_type = BatchPredictionCodec

    def submit_batch(self, batch: PredictionBatch) -> int:
        """Queue one request's rows as a :class:`PredictionBatch`; like :meth:`submit`.

        The cheap way to log: constant work here whatever the batch's size, and the writer
        encodes batches together, column by column.
        """
        return self._submit_chunk(batch)


class FeedbackLogWriter(SegmentLogWriter):
    """Append feedback (labels by ``prediction_id``) to hourly Parquet segments.

    Same queue, thread, counters and atomic segments as :class:`PredictionLogWriter`. A row
    has ``prediction_id`` and ``label`` (a JSON scalar or None; required), and optionally
    ``time``, ``value`` (a number, e.g. the business value of the outcome) and ``extra``
    (anything JSON can hold). Segments go to ``directory/hour=<YYYYMMDDHH>/``.

    >>> import tempfile
    >>> from driftline.predlog import read_feedback
    >>> folder = tempfile.mkdtemp()
    >>> with FeedbackLogWriter(folder) as log:
    ...     log.submit([{"prediction_id": "p1", "label": "fraud", "value": 120.0}])
    1
    >>> read_feedback(folder)[["prediction_id", "label", "value"]].to_dict("records")
    [{'prediction_id': 'p1', 'label': 'fraud', 'value': 120.0}]
    """

    codec_type = FeedbackCodec
