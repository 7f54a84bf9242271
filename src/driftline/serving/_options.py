"""What a model server is told: limits, pool size, batching, logging and polling."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from driftline.exceptions import ValidationError
from driftline.predlog._ring import ring_supported

__all__ = [
    "LOG_WRITERS",
    "BatchingOptions",
    "ServingOptions",
    "default_log_writer",
]

LOG_WRITERS = ("process", "thread")


def default_log_writer() -> str:
    """``"process"`` where it is supported, else ``"thread"``."""
    return "process" if ring_supported() else "thread"


@dataclass(frozen=True)
class BatchingOptions:
    """Adaptive micro-batching of one model's requests.

    Requests that arrive while the model is busy are merged into one call of at most
    ``max_batch_size`` rows; a lone request waits at most ``max_latency_ms`` for company
    (0: never waits, batches only form under load). More than ``max_queue_rows`` waiting
    rows are refused with 503 and ``Retry-After``. ``max_concurrent`` calls of one model
    version run at once: 1 merges the most, which suits models that hold the GIL
    (scikit-learn spends most of a small call in Python-level input checks, so one call of
    16 requests costs little more than one of a single request, and threads would only
    take turns); raise it for models that release the GIL, with cores to spare.

    >>> BatchingOptions(max_batch_size=32).max_queue_rows
    4096
    """

    max_batch_size: int = 1024
    max_latency_ms: float = 0.0
    max_queue_rows: int = 4096
    max_concurrent: int = 1

    def check(self) -> BatchingOptions:
        """Self, or a ValidationError naming the field out of range."""
        if self.max_batch_size < 1:
            raise ValidationError("batching max_batch_size must be at least 1")
        if self.max_concurrent < 1:
            raise ValidationError("batching max_concurrent must be at least 1")
        if self.max_latency_ms < 0:
            raise ValidationError("batching max_latency_ms must not be negative")
        if self.max_queue_rows < self.max_batch_size:
            raise ValidationError("batching max_queue_rows must be at least max_batch_size")
        return self


@dataclass(frozen=True)
class ServingOptions:
    """Server limits and knobs; every field has a default that suits one small machine.

    >>> ServingOptions(threads=2).max_body_bytes
    10485760
    """

    #: Threads that run models: every served version, shadow and canary comparison shares
    #: them (each version runs ``batching.max_concurrent`` calls at once when batching).
    threads: int = 4
    #: Largest request body accepted (413 beyond).
    max_body_bytes: int = 10 * 1024 * 1024
    #: Most rows in one request (400 beyond).
    max_batch_rows: int = 10_000
    #: Micro-batching per model; None runs each request on its own.
    batching: BatchingOptions | None = field(default_factory=BatchingOptions)
    #: Seconds between registry polls for alias moves; 0 disables the poller.
    poll_interval_s: float = 10.0
    #: Share of served rows written to the prediction log, in (0, 1].
    sample_rate: float = 1.0
    #: Rows the prediction log may hold before it counts drops.
    log_queue_rows: int = 100_000
    #: Who writes the prediction log's segments: ``"process"``, a child process fed
    #: through shared memory (the default on x86-64 Linux: the encoding and writing then
    #: never take the event loop's GIL; forked after the first load, it keeps ~5-10 MB
    #: of its own), or ``"thread"``, a thread of the server (the default elsewhere).
    log_writer: str = field(default_factory=default_log_writer)
    #: Seconds between compactions of the prediction log's closed Arrow segments into
    #: Parquet, each in a child process at the lowest CPU priority; 0 disables them
    #: (``driftline predlog compact`` does it by hand).
    compact_interval_s: float = 600.0
    #: Seconds between judgements of running canaries; 0 leaves it to explicit calls.
    canary_interval_s: float = 1.0
    #: Shadow calls allowed in flight; more are skipped and counted.
    max_shadow_inflight: int = 64
    #: Seconds a replaced version may finish its requests before it is released anyway.
    drain_timeout_s: float = 30.0
    #: Move everything alive after a model load out of the garbage collector's view
    #: (``gc.freeze``): full collections of a heap holding pandas, scikit-learn and the
    #: models otherwise pause requests for ~100 ms now and then.
    freeze_gc: bool = True
    #: Where ``/metrics`` reads per-process files when several workers serve (the launcher
    #: sets it, together with PROMETHEUS_MULTIPROC_DIR); None for one process.
    multiprocess_dir: Path | None = None

    def check(self) -> ServingOptions:
        """Self, or a ValidationError naming the field out of range."""
        positive = {
            "threads": self.threads,
            "max_body_bytes": self.max_body_bytes,
            "max_batch_rows": self.max_batch_rows,
            "log_queue_rows": self.log_queue_rows,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValidationError(f"serving option {name} must be at least 1, got {value}")
        if not 0.0 < self.sample_rate <= 1.0:
            raise ValidationError(
                f"serving option sample_rate must be in (0, 1], got {self.sample_rate}"
            )
        if self.poll_interval_s < 0 or self.drain_timeout_s < 0 or self.compact_interval_s < 0:
            raise ValidationError(
                "serving options poll_interval_s, drain_timeout_s and compact_interval_s "
                "must be >= 0"
            )
        if self.log_writer not in LOG_WRITERS:
            raise ValidationError(
                f"serving option log_writer must be one of {', '.join(LOG_WRITERS)}, "
                f"got {self.log_writer!r}"
            )
        if self.log_writer == "process" and not ring_supported():
            raise ValidationError(
                "serving option log_writer 'process' needs Linux on x86-64 (shared memory "
                "through memfd_create); use 'thread'"
            )
        if self.batching is not None:
            self.batching.check()
        return self
