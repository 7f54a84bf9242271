"""Time lineage walks on SQLite in a graph of 1,000,000 edges.

    python benchmarks/lineage_walk.py                  # 1,000,000 edges, 21 timed walks
    python benchmarks/lineage_walk.py --edges 100000 --repeats 11 --json

The graph is 20,000 ML pipelines of 50 edges each (ids are random UUIDs from a fixed seed)::

    raw dataset -input-> clean run -output-> clean dataset -input-> train run -output->
    model version -deployed-> deployment -served-> 44 prediction batches

and each train run also reads one of 100 shared reference datasets, so those have fan-out
200. A deployment is five hops deep: walking upstream from it reaches its model, train run,
clean dataset and shared reference, clean run and raw dataset. Each timed walk starts at a
different pipeline's deployment (so it does not re-read the rows of the previous one) and
includes fetching the reached nodes, as ``ws.lineage.upstream(id)`` returns them. The first
walk after opening is reported separately (cold), the rest as median and p90.

Building writes rows straight into the lineage tables, in large transactions and without
audit entries, because recording a million edges one API call at a time would only measure
the audit log. The walks use the public API.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from driftline import Workspace
from driftline.store._tables import lineage_edge, lineage_node, lineage_run

EDGES_PER_PIPELINE = 50
BATCHES = EDGES_PER_PIPELINE - 6
SHARED_REFERENCES = 100
CREATED = "2026-01-01T00:00:00.000000+00:00"


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _node(node_id: str, kind: str, name: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "kind": kind,
        "name": name,
        "version": None,
        "content_hash": None,
        "attributes": "{}",
        "created_at": CREATED,
    }


def _edge(src: str, dst: str, relation: str) -> dict[str, Any]:
    return {"src_id": src, "dst_id": dst, "relation": relation, "created_at": CREATED}


def _pipeline(p: int, rng: random.Random, refs: list[str]) -> tuple[list, list, list, str]:
    raw, clean_run, clean, train, model, dep = (_new_id(rng) for _ in range(6))
    nodes = [
        _node(raw, "dataset_version", f"raw-{p}"),
        _node(clean_run, "run", f"clean-{p}"),
        _node(clean, "dataset_version", f"clean-{p}"),
        _node(train, "run", f"train-{p}"),
        _node(model, "model_version", f"model-{p}"),
        _node(dep, "deployment", f"deployment-{p}"),
    ]
    runs = [
        {"id": run, "status": "COMPLETE", "parameters": "{}", "started_at": CREATED}
        for run in (clean_run, train)
    ]
    edges = [
        _edge(raw, clean_run, "input"),
        _edge(clean_run, clean, "output"),
        _edge(clean, train, "input"),
        _edge(refs[p % len(refs)], train, "input"),
        _edge(train, model, "output"),
        _edge(model, dep, "deployed"),
    ]
    for b in range(BATCHES):
        batch = _new_id(rng)
        nodes.append(_node(batch, "prediction_batch", f"batch-{p}-{b}"))
        edges.append(_edge(dep, batch, "served"))
    return nodes, edges, runs, dep


def build(ws: Workspace, pipelines: int, seed: int) -> list[str]:
    """Write the graph; return the deployment ids."""
    rng = random.Random(seed)
    refs = [_new_id(rng) for _ in range(SHARED_REFERENCES)]
    with ws.store.write() as conn:
        conn.execute(
            insert(lineage_node),
            [_node(ref, "dataset_version", f"reference-{i}") for i, ref in enumerate(refs)],
        )
    deployments: list[str] = []
    per_transaction = 2_000
    for start in range(0, pipelines, per_transaction):
        nodes: list[dict[str, Any]] = []
        edges: list[dict[str, Any]] = []
        runs: list[dict[str, Any]] = []
        for p in range(start, min(start + per_transaction, pipelines)):
            n, e, r, dep = _pipeline(p, rng, refs)
            nodes += n
            edges += e
            runs += r
            deployments.append(dep)
        with ws.store.write() as conn:
            conn.execute(insert(lineage_node), nodes)
            conn.execute(insert(lineage_run), runs)
            conn.execute(insert(lineage_edge), edges)
    return deployments


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def time_walks(ws: Workspace, starts: list[str], expect: int) -> dict[str, Any]:
    """Time one upstream walk per start id; check each reaches ``expect`` nodes."""
    timings = []
    for node_id in starts:
        began = time.perf_counter()
        graph = ws.lineage.upstream(node_id)
        timings.append(time.perf_counter() - began)
        if len(graph.nodes) != expect or max(graph.hops.values()) != 5:
            raise SystemExit(f"walk from {node_id} reached {len(graph.nodes)} nodes")
    warm = sorted(timings[1:])
    return {
        "cold_first_ms": _ms(timings[0]),
        "median_ms": _ms(statistics.median(warm)),
        "p90_ms": _ms(warm[int(0.9 * (len(warm) - 1))]),
        "min_ms": _ms(warm[0]),
        "max_ms": _ms(warm[-1]),
        "walks": len(warm),
    }


def main(argv: list[str] | None = None) -> int:
    """Build the graph, time the walks, print the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edges", type=int, default=1_000_000, help="graph size in edges")
    parser.add_argument("--repeats", type=int, default=21, help="timed walks (first is cold)")
    parser.add_argument("--seed", type=int, default=7, help="seed for ids and start nodes")
    parser.add_argument("--home", type=Path, default=None, help="workspace dir (default: temp)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="dl-lineage-bench-"))
    pipelines = max(1, args.edges // EDGES_PER_PIPELINE)
    with Workspace.open(home=home) as ws:
        began = time.perf_counter()
        deployments = build(ws, pipelines, args.seed)
        build_s = time.perf_counter() - began
    # Reopen, so the first walk starts with a fresh connection pool and statement cache.
    with Workspace.open(home=home) as ws:
        starts = random.Random(args.seed + 1).sample(deployments, args.repeats)
        result = time_walks(ws, starts, expect=7)
    db = home / "driftline.db"
    summary = {
        "edges": pipelines * EDGES_PER_PIPELINE,
        "nodes": pipelines * (BATCHES + 6) + SHARED_REFERENCES,
        "build_seconds": round(build_s, 1),
        "db_megabytes": round(db.stat().st_size / 2**20, 1),
        "walk": "upstream from a deployment, 5 hops, 7 nodes",
        **result,
        "python": sys.version.split()[0],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for key, value in summary.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
