"""Walks and paths, checked against scipy's breadth-first distances on random graphs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from driftline import Workspace
from driftline.exceptions import NotFoundError, ValidationError
from driftline.lineage import Direction, Lineage, NodeKind

_KINDS = [kind for kind in NodeKind if kind is not NodeKind.RUN]


def _random_graph(
    lineage: Lineage, workspace: Workspace, seed: int, n: int = 30, m: int = 70
) -> list[tuple[int, int]]:
    """n nodes and m distinct random edges (cycles included), recorded in one transaction."""
    rng = np.random.default_rng(seed)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < m:
        u, v = (int(x) for x in rng.integers(0, n, size=2))
        if u != v:
            pairs.add((u, v))
    with workspace.store.write() as conn:
        for i in range(n):
            lineage.add_node(f"n{i}", _KINDS[i % len(_KINDS)], f"node {i}", conn=conn)
        for u, v in sorted(pairs):
            lineage.add_edge(f"n{u}", f"n{v}", "feeds", conn=conn)
    return sorted(pairs)


def _distances(pairs: list[tuple[int, int]], n: int, root: int, reverse: bool) -> np.ndarray:
    rows, cols = zip(*pairs, strict=True)
    if reverse:
        rows, cols = cols, rows
    matrix = csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(n, n))
    return shortest_path(matrix, directed=True, unweighted=True, indices=root)


@pytest.mark.parametrize("seed", [3, 11])
def test_walks_match_breadth_first_distances(
    lineage: Lineage, workspace: Workspace, seed: int
) -> None:
    n = 30
    pairs = _random_graph(lineage, workspace, seed, n=n)
    for root in (0, 7, 19):
        for way in (Direction.UPSTREAM, Direction.DOWNSTREAM):
            dist = _distances(pairs, n, root, reverse=way is Direction.UPSTREAM)
            for depth in (0, 1, 2, None):
                graph = lineage.walk(f"n{root}", direction=way, depth=depth)
                limit = math.inf if depth is None else depth
                expected = {
                    f"n{j}": int(d) for j, d in enumerate(dist) if np.isfinite(d) and d <= limit
                }
                assert dict(graph.hops) == expected, (root, way, depth)
                assert [node.id for node in graph.nodes] == sorted(
                    expected, key=lambda i: (expected[i], i)
                )
                # Every edge out of (or into, upstream) a node the walk expanded.
                near = 0 if way is Direction.DOWNSTREAM else 1
                want = {
                    (f"n{u}", f"n{v}")
                    for u, v in pairs
                    if np.isfinite(dist[(u, v)[near]]) and dist[(u, v)[near]] <= limit - 1
                }
                assert {(e.src, e.dst) for e in graph.edges} == want


@pytest.mark.parametrize("seed", [5])
def test_paths_are_shortest_and_follow_edges(
    lineage: Lineage, workspace: Workspace, seed: int
) -> None:
    n = 30
    pairs = _random_graph(lineage, workspace, seed, n=n, m=32)
    edge_set = {(f"n{u}", f"n{v}") for u, v in pairs}
    rng = np.random.default_rng(seed + 1000)  # not the stream that drew the edges
    found_some = missing_some = False
    for _ in range(25):
        a, b = (int(x) for x in rng.integers(0, n, size=2))
        dist = _distances(pairs, n, a, reverse=False)[b]
        path = lineage.path(f"n{a}", f"n{b}")
        if math.isinf(dist):
            assert path is None
            missing_some = True
            continue
        found_some = True
        assert path is not None and path.hops == int(dist)
        assert path.nodes[0].id == f"n{a}" and path.nodes[-1].id == f"n{b}"
        for edge, (x, y) in zip(path.edges, itertools.pairwise(path.nodes), strict=True):
            assert (edge.src, edge.dst) == (x.id, y.id) and (edge.src, edge.dst) in edge_set
        if dist >= 2:
            assert lineage.path(f"n{a}", f"n{b}", max_depth=int(dist) - 1) is None
            assert lineage.path(f"n{a}", f"n{b}", max_depth=int(dist)) is not None
    assert found_some and missing_some


def test_cycles_end_the_walk(lineage: Lineage) -> None:
    for name in "abc":
        lineage.add_node(name, "dataset_version", name)
    lineage.add_edge("a", "b", "feeds")
    lineage.add_edge("b", "c", "feeds")
    lineage.add_edge("c", "a", "feeds")
    down = lineage.downstream("a")
    assert dict(down.hops) == {"a": 0, "b": 1, "c": 2}
    assert len(down.edges) == 3
    both = lineage.walk("b", direction="both")
    assert dict(both.hops) == {"a": 1, "b": 0, "c": 1}
    assert lineage.path("c", "b") is not None and lineage.path("c", "b").hops == 2  # type: ignore[union-attr]


def test_depth_limits_a_long_chain(lineage: Lineage) -> None:
    ids = [f"step{i}" for i in range(7)]
    for node_id in ids:
        lineage.add_node(node_id, "dataset_version", node_id)
    for src, dst in itertools.pairwise(ids):
        lineage.add_edge(src, dst, "feeds")
    assert [n.id for n in lineage.upstream("step6", depth=2).nodes] == ["step6", "step5", "step4"]
    assert len(lineage.upstream("step6", depth=2).edges) == 2
    assert len(lineage.upstream("step6").nodes) == 7
    assert [n.id for n in lineage.downstream("step0", depth=0).nodes] == ["step0"]
    assert lineage.path("step0", "step6").hops == 6  # type: ignore[union-attr]
    assert lineage.path("step6", "step0") is None  # edges are directed
    assert lineage.path("step3", "step3").hops == 0  # type: ignore[union-attr]


def test_a_walk_from_a_dataset_reaches_everything_downstream(lineage: Lineage) -> None:
    lineage.add_node("ds", "dataset_version", "credit", content_hash="ab" * 32)
    with lineage.run("train", inputs=["ds"]) as train:
        lineage.add_node("mv", "model_version", "credit-clf", version="1")
        train.add_output("mv")
    lineage.add_node("dep", "deployment", "prod")
    lineage.add_edge("mv", "dep", "deployed")
    lineage.add_node("batch", "prediction_batch", "2026-03-01T12")
    lineage.add_edge("dep", "batch", "served")
    lineage.add_node("drift", "drift_event", "psi>0.2")
    lineage.add_edge("batch", "drift", "detected")
    lineage.add_node("qr", "quality_result", "suite on credit")
    lineage.add_edge("ds", "qr", "checked")
    reached = lineage.downstream("ds").ids
    assert reached == {"ds", train.id, "mv", "dep", "batch", "drift", "qr"}
    back = lineage.upstream("drift")
    assert back.hops["ds"] == 5 and back.hops[train.id] == 4
    path = lineage.path("ds", "drift")
    assert path is not None
    assert [e.relation for e in path.edges] == ["input", "output", "deployed", "served", "detected"]


def test_node_lookups_and_whole_graph(lineage: Lineage) -> None:
    lineage.add_node("d1", "dataset_version", "iris", content_hash="aa" * 32)
    lineage.add_node("d2", "dataset_version", "iris", content_hash="bb" * 32)
    lineage.add_node("m1", "model_version", "iris-clf")
    lineage.add_edge("d1", "m1", "input")
    assert [n.id for n in lineage.nodes(name="iris")] == ["d1", "d2"]
    assert [n.id for n in lineage.nodes(content_hash="bb" * 32)] == ["d2"]
    assert [n.id for n in lineage.nodes(kind="model_version")] == ["m1"]
    assert len(lineage.nodes(limit=2)) == 2
    whole = lineage.graph()
    assert whole.ids == {"d1", "d2", "m1"} and len(whole.edges) == 1


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda lin: lin.walk("ghost"), NotFoundError, "lineage node 'ghost' not found"),
        (lambda lin: lin.node("ghost"), NotFoundError, "'ghost'"),
        (lambda lin: lin.path("a", "ghost"), NotFoundError, "'ghost'"),
        (lambda lin: lin.path("ghost", "a"), NotFoundError, "'ghost'"),
        (lambda lin: lin.walk("a", depth=-1), ValidationError, "depth must be a whole number"),
        (lambda lin: lin.walk("a", depth="2"), ValidationError, "depth must be a whole number"),
        (lambda lin: lin.walk("a", depth=True), ValidationError, "depth must be a whole number"),
        (lambda lin: lin.walk("a", direction="up"), ValidationError, "direction 'up' is not"),
        (lambda lin: lin.path("a", "a", max_depth=-2), ValidationError, "max_depth"),
        (lambda lin: lin.nodes(kind="model"), ValidationError, "node kind 'model'"),
    ],
    ids=[
        "walk",
        "node",
        "path-target",
        "path-source",
        "neg-depth",
        "str-depth",
        "bool-depth",
        "direction",
        "max-depth",
        "kind",
    ],
)
def test_bad_queries_name_the_problem(
    lineage: Lineage, call: object, error: type[Exception], match: str
) -> None:
    lineage.add_node("a", "dataset_version", "a")
    with pytest.raises(error, match=match):
        call(lineage)  # type: ignore[operator]
