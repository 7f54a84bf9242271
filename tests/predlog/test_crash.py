"""A process killed mid-segment loses only its open rows and leaves no visible partial file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from driftline.predlog import read_predictions

from .conftest import segment_rows

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime, timezone
    from driftline.predlog import PredictionLogWriter
    from driftline.predlog import _segments

    t0 = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    row = lambda i: {"prediction_id": f"id-{i:05d}", "model": "m", "version": 1, "time": t0,
                     "prediction": i, "features": {"x": float(i)}}
    writer = PredictionLogWriter(sys.argv[1], segment_rows=100, clock=lambda: t0).start()
    writer.submit([row(i) for i in range(250)])
    writer.drain()                       # two segments land; 50 rows stay open
    writer.submit([row(i) for i in range(250, 280)])   # 30 more rows queued

    def die_half_written(segment, table):
        segment._buffer.write(b"ARROW1" + b"x" * 100)
        segment._buffer.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    _segments.SegmentFile.write = die_half_written
    writer.flush()                       # killed while writing the third segment
    """
)


def test_killed_writer_loses_only_its_open_segment(tmp_path: Path) -> None:
    log = tmp_path / "log"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log)], capture_output=True, timeout=60
    )
    assert result.returncode == -9, result.stderr.decode()
    visible = sorted(log.rglob("part-*.arrow"))
    assert [segment_rows(p) for p in visible] == [100, 100]
    hidden = [p.name for p in log.rglob("*.tmp")]
    assert len(hidden) == 1 and hidden[0].startswith(".part-"), hidden
    frame = read_predictions(log)
    assert frame["prediction_id"].tolist() == [f"id-{i:05d}" for i in range(200)]
