"""Graph walks over the edge table: breadth-first, one indexed query per level.

A walk keeps the set of nodes it has reached, so cycles end it instead of looping, and the
work is bounded by what it reaches, not by the size of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from driftline.lineage._model import Direction, Edge
from driftline.lineage._records import chunks, edge_from_row
from driftline.store._tables import lineage_edge

__all__ = ["Reach", "neighbours", "shortest_path", "walk"]


@dataclass(frozen=True)
class Reach:
    """What a walk reached: fewest hops per node id, and the edges it followed."""

    hops: dict[str, int]
    edges: set[Edge]


def neighbours(conn: Connection, frontier: Iterable[str], direction: Direction) -> list[Edge]:
    """Edges into (upstream) or out of (downstream) any node in ``frontier``."""
    key = lineage_edge.c.dst_id if direction is Direction.UPSTREAM else lineage_edge.c.src_id
    columns = (
        lineage_edge.c.src_id,
        lineage_edge.c.dst_id,
        lineage_edge.c.relation,
        lineage_edge.c.created_at,
    )
    found: list[Edge] = []
    for batch in chunks(frontier):
        found.extend(
            edge_from_row(row) for row in conn.execute(select(*columns).where(key.in_(batch)))
        )
    return found


def _far_end(edge: Edge, direction: Direction) -> str:
    return edge.src if direction is Direction.UPSTREAM else edge.dst


def walk(conn: Connection, root: str, direction: Direction, depth: int | None) -> Reach:
    """Every node within ``depth`` hops of ``root`` (None: no limit) and the edges followed."""
    if direction is Direction.BOTH:
        up = walk(conn, root, Direction.UPSTREAM, depth)
        down = walk(conn, root, Direction.DOWNSTREAM, depth)
        hops = dict(up.hops)
        for node_id, distance in down.hops.items():
            hops[node_id] = min(distance, hops.get(node_id, distance))
        return Reach(hops=hops, edges=up.edges | down.edges)
    hops, edges = {root: 0}, set()
    frontier, level = [root], 0
    while frontier and (depth is None or level < depth):
        level += 1
        next_frontier: list[str] = []
        for edge in neighbours(conn, frontier, direction):
            edges.add(edge)
            far = _far_end(edge, direction)
            if far not in hops:
                hops[far] = level
                next_frontier.append(far)
        frontier = next_frontier
    return Reach(hops=hops, edges=edges)


# A search side: for each reached node, the edge it was reached by (None at the start).
_Parents = dict[str, Edge | None]


def _expand(
    conn: Connection, frontier: list[str], parents: _Parents, direction: Direction
) -> list[str]:
    reached: list[str] = []
    for edge in sorted(neighbours(conn, frontier, direction)):
        far = _far_end(edge, direction)
        if far not in parents:
            parents[far] = edge
            reached.append(far)
    return reached


def _chain(parents: _Parents, node_id: str, direction: Direction) -> list[Edge]:
    chain: list[Edge] = []
    edge = parents[node_id]
    while edge is not None:
        chain.append(edge)
        edge = parents[edge.dst if direction is Direction.UPSTREAM else edge.src]
    return chain


def shortest_path(
    conn: Connection, source: str, target: str, max_hops: int | None
) -> list[Edge] | None:
    """The edges of a shortest directed path ``source -> target``, or None.

    Searches from both ends at once (downstream from the source, upstream from the
    target), always growing the smaller frontier by a whole level, so a path of length L
    costs about two searches of depth L/2 instead of one of depth L.
    """
    if source == target:
        return []
    forward: _Parents = {source: None}
    backward: _Parents = {target: None}
    front, back, hops = [source], [target], 0
    while front and back and (max_hops is None or hops < max_hops):
        hops += 1
        if len(front) <= len(back):
            front = _expand(conn, front, forward, Direction.DOWNSTREAM)
            met = [node_id for node_id in front if node_id in backward]
        else:
            back = _expand(conn, back, backward, Direction.UPSTREAM)
            met = [node_id for node_id in back if node_id in forward]
        if met:
            # Every meeting found in the first level that meets is a shortest path; pick
            # the smallest id so that the answer does not depend on query order.
            middle = min(met)
            head = _chain(forward, middle, Direction.DOWNSTREAM)
            tail = _chain(backward, middle, Direction.UPSTREAM)
            return [*reversed(head), *tail]
    return None
