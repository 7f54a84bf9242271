"""Rows of the lineage tables: reading nodes and edges, inserting them, and their audit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, tuple_
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from driftline._canonical import loads
from driftline.exceptions import ConflictError, NotFoundError
from driftline.lineage._model import Edge, Node, NodeKind, RunInfo, RunStatus
from driftline.store._tables import lineage_edge, lineage_node, lineage_run

__all__ = [
    "chunks",
    "edges_of",
    "fetch_nodes",
    "insert_edges",
    "insert_node",
    "require_nodes",
]

# Ids per IN (...) list: far below every backend's bound-parameter limit.
CHUNK = 500

_NODE_COLUMNS = (
    lineage_node.c.id,
    lineage_node.c.kind,
    lineage_node.c.name,
    lineage_node.c.version,
    lineage_node.c.content_hash,
    lineage_node.c.attributes,
    lineage_node.c.created_at,
    lineage_run.c.status,
    lineage_run.c.parameters,
    lineage_run.c.started_at,
    lineage_run.c.ended_at,
    lineage_run.c.error_message,
    lineage_run.c.error_trace,
)
_EDGE_COLUMNS = (
    lineage_edge.c.src_id,
    lineage_edge.c.dst_id,
    lineage_edge.c.relation,
    lineage_edge.c.created_at,
)


def chunks(ids: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    """``ids`` in lists of at most ``size``."""
    batch: list[str] = []
    for item in ids:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def node_query() -> Any:
    """SELECT of nodes joined with their run state (None for non-run nodes)."""
    return select(*_NODE_COLUMNS).select_from(
        lineage_node.outerjoin(lineage_run, lineage_run.c.id == lineage_node.c.id)
    )


def node_from_row(row: Any) -> Node:
    """A Node from a row of :func:`node_query`."""
    run = None
    if row.status is not None:
        run = RunInfo(
            status=RunStatus(row.status),
            parameters=loads(row.parameters),
            started_at=row.started_at,
            ended_at=row.ended_at,
            error_message=row.error_message,
            error_trace=row.error_trace,
        )
    return Node(
        id=row.id,
        kind=NodeKind(row.kind),
        name=row.name,
        version=row.version,
        content_hash=row.content_hash,
        attributes=loads(row.attributes),
        created_at=row.created_at,
        run=run,
    )


def edge_from_row(row: Any) -> Edge:
    """An Edge from a row of the edge table."""
    return Edge(src=row.src_id, dst=row.dst_id, relation=row.relation, created_at=row.created_at)


def fetch_nodes(conn: Connection, ids: Iterable[str]) -> dict[str, Node]:
    """The stored nodes among ``ids``, by id (missing ids are simply absent)."""
    found: dict[str, Node] = {}
    for batch in chunks(dict.fromkeys(ids)):
        for row in conn.execute(node_query().where(lineage_node.c.id.in_(batch))):
            found[row.id] = node_from_row(row)
    return found


def require_nodes(conn: Connection, ids: Sequence[str], *, role: str = "node") -> None:
    """Raise NotFoundError naming every id in ``ids`` that is not a stored node."""
    wanted = list(dict.fromkeys(ids))
    present: set[str] = set()
    for batch in chunks(wanted):
        present.update(
            conn.execute(select(lineage_node.c.id).where(lineage_node.c.id.in_(batch))).scalars()
        )
    missing = [node_id for node_id in wanted if node_id not in present]
    if missing:
        names = ", ".join(repr(node_id) for node_id in missing)
        noun = f"lineage {role}" if len(missing) == 1 else f"lineage {role}s"
        raise NotFoundError(
            f"{noun} {names} not found; record {'it' if len(missing) == 1 else 'them'} "
            "with add_node() first"
        )


def edges_of(conn: Connection, node_id: str) -> list[Edge]:
    """Every edge into or out of ``node_id``, sorted."""
    out = conn.execute(select(*_EDGE_COLUMNS).where(lineage_edge.c.src_id == node_id))
    into = conn.execute(select(*_EDGE_COLUMNS).where(lineage_edge.c.dst_id == node_id))
    return sorted({edge_from_row(row) for row in [*out, *into]})


def existing_edges(conn: Connection, edges: Sequence[Edge]) -> set[Edge]:
    """Those of ``edges`` that are already stored."""
    keys = [(e.src, e.dst, e.relation) for e in edges]
    found: set[Edge] = set()
    columns = tuple_(lineage_edge.c.src_id, lineage_edge.c.dst_id, lineage_edge.c.relation)
    for start in range(0, len(keys), CHUNK):
        rows = conn.execute(select(*_EDGE_COLUMNS).where(columns.in_(keys[start : start + CHUNK])))
        found.update(edge_from_row(row) for row in rows)
    return found


def insert_node(conn: Connection, values: dict[str, Any]) -> None:
    """Insert one node row; a concurrent insert of the same id is a ConflictError."""
    try:
        conn.execute(insert(lineage_node).values(**values))
    except DBIntegrityError as exc:
        raise ConflictError(
            f"lineage node {values['id']!r} was recorded by another writer at the same time; "
            "retry to use the stored node"
        ) from exc


def insert_edges(conn: Connection, edges: Sequence[Edge]) -> None:
    """Insert edge rows that are known to be new."""
    if not edges:
        return
    rows = [
        {"src_id": e.src, "dst_id": e.dst, "relation": e.relation, "created_at": e.created_at}
        for e in edges
    ]
    try:
        conn.execute(insert(lineage_edge), rows)
    except DBIntegrityError as exc:
        raise ConflictError(
            f"lineage edge {edges[0].src!r} -> {edges[0].dst!r} was recorded by another writer "
            "at the same time; retry"
        ) from exc
