"""``python -m driftline.predlog compact DIR``: the server's compaction child process.

It lowers its own CPU priority first (``nice`` 19), so the serving process keeps the CPU
when both want it, then prints the :class:`CompactResult` as one JSON line.
"""

from __future__ import annotations

import argparse
import os
import sys

import orjson


def main(argv: list[str] | None = None) -> int:
    """Compact one log folder; exit 0, or 1 when a segment could not be compacted."""
    parser = argparse.ArgumentParser(prog="python -m driftline.predlog")
    sub = parser.add_subparsers(dest="command", required=True)
    compact = sub.add_parser("compact", help="rewrite Arrow segments as Parquet")
    compact.add_argument("directory")
    compact.add_argument("--min-age", type=float, default=0.0)
    args = parser.parse_args(argv)
    os.nice(19)
    from driftline.exceptions import DriftlineError
    from driftline.predlog._compact import compact_log

    try:
        result = compact_log(args.directory, min_age_s=args.min_age)
    except DriftlineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(orjson.dumps(result.to_dict()).decode())
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
