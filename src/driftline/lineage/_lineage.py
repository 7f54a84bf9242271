"""The lineage graph of a workspace: record nodes, edges and runs; walk and export them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError

from driftline._canonical import loads
from driftline.exceptions import ConflictError, NotFoundError, ValidationError
from driftline.ids import uuid7
from driftline.lineage._model import (
    MAX_NAME,
    Direction,
    Edge,
    LineageGraph,
    LineagePath,
    Node,
    NodeKind,
    RunStatus,
    check_depth,
    check_direction,
    check_id,
    check_kind,
    check_relation,
    check_run_id,
    check_text,
    to_json_text,
)
from driftline.lineage._openlineage import run_events, schema_fields
from driftline.lineage._records import (
    edges_of,
    existing_edges,
    fetch_nodes,
    insert_edges,
    insert_node,
    node_from_row,
    node_query,
    require_nodes,
)
from driftline.lineage._runs import RunHandle, end_run, final_status, id_list, start_run
from driftline.lineage._transports import Transport
from driftline.lineage._walk import shortest_path, walk
from driftline.store import AuditLog, Clock, MetadataStore, iso_utc
from driftline.store._engine import WRITE
from driftline.store._tables import lineage_edge, lineage_node, lineage_run

__all__ = ["Lineage"]

_COMPARED = ("kind", "name", "version", "content_hash", "attributes")


class Lineage:
    """Record and query the lineage graph stored in a workspace's metadata DB.

    Every change commits together with its audit entry. Methods that change the graph take
    ``conn=``: a connection from the caller's own ``store.write()`` block, so that the
    lineage commits (or rolls back) together with the caller's other changes.

    >>> import tempfile
    >>> from driftline import Workspace
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> lineage = Lineage(ws.store, ws.audit)
    >>> _ = lineage.add_node("ds-1", "dataset_version", "iris", content_hash="9f2c")
    >>> with lineage.run("train", inputs=["ds-1"], parameters={"seed": 0}) as run:
    ...     _ = lineage.add_node("model-1", "model_version", "iris-clf", version="1")
    ...     run.add_output("model-1")
    >>> [node.id for node in lineage.upstream("model-1").nodes] == ["model-1", run.id, "ds-1"]
    True
    >>> lineage.node(run.id).run.status
    <RunStatus.COMPLETE: 'COMPLETE'>
    >>> ws.close()
    """

    def __init__(
        self,
        store: MetadataStore,
        audit: AuditLog,
        *,
        clock: Clock | None = None,
        namespace: str = "driftline",
    ) -> None:
        self.store = store
        self.audit = audit
        self.clock = clock or store.clock
        self.namespace = namespace

    # -- recording ------------------------------------------------------------------------

    def add_node(
        self,
        node_id: str,
        kind: NodeKind | str,
        name: str,
        *,
        version: str | None = None,
        content_hash: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> Node:
        """Record a node; recording the same node again returns the stored one.

        Node ids are immutable: the same id with a different kind, name, version, hash or
        attributes is a ConflictError. ``attributes["columns"]`` (a list of
        ``{"name", "type"}`` or a mapping name -> type) becomes the OpenLineage schema facet.
        """
        node = self._new_node(node_id, kind, name, version, content_hash, attributes)
        with self._writing(conn) as c:
            stored = fetch_nodes(c, [node.id]).get(node.id)
            if stored is not None:
                return _same_or_conflict(stored, node)
            self.audit.append(
                c,
                action="lineage.node.add",
                subject=node.id,
                payload={
                    "kind": str(node.kind),
                    "name": name,
                    "version": version,
                    "content_hash": content_hash,
                },
            )
            insert_node(c, _node_row(node))
        return node

    def add_edge(
        self, src: str, dst: str, relation: str, *, conn: Connection | None = None
    ) -> Edge:
        """Record the edge ``src -> dst``; recording it again returns the stored one."""
        check_id(src, "edge source id")
        check_id(dst, "edge target id")
        check_relation(relation)
        if src == dst:
            raise ValidationError(f"an edge from lineage node {src!r} to itself is not allowed")
        edge = Edge(src, dst, str(relation), self._now())
        with self._writing(conn) as c:
            require_nodes(c, [src, dst])
            stored = existing_edges(c, [edge])
            if stored:
                return stored.pop()
            self.audit.append(
                c,
                action="lineage.edge.add",
                subject=f"{src} -> {dst}",
                payload={"src": src, "dst": dst, "relation": edge.relation},
            )
            insert_edges(c, [edge])
        return edge

    def start_run(
        self,
        name: str,
        *,
        inputs: Iterable[str] | None = None,
        outputs: Iterable[str] | None = None,
        parameters: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> RunHandle:
        """Record a run as started (status START) and return its handle.

        ``run_id`` defaults to a new UUIDv7; inputs and outputs must be recorded nodes.
        """
        moment = self.clock()
        run_id = check_run_id(run_id) if run_id is not None else _run_id_at(moment)
        ins, outs = id_list(inputs, "input"), id_list(outputs, "output")
        with self._writing(conn) as c:
            start_run(
                c,
                self.audit,
                run_id=run_id,
                name=name,
                inputs=ins,
                outputs=outs,
                parameters=parameters or {},
                attributes=attributes or {},
                now=iso_utc(moment),
            )
        return RunHandle(self, run_id, name, conn)

    def finish_run(
        self,
        run_id: str,
        *,
        error: BaseException | str | None = None,
        status: RunStatus | str | None = None,
        inputs: Iterable[str] | None = None,
        outputs: Iterable[str] | None = None,
        conn: Connection | None = None,
    ) -> Node:
        """End a started run: COMPLETE, or FAIL with ``error`` (ABORT for an interrupt)."""
        run_id = check_run_id(run_id)
        chosen = final_status(status, error)
        ins, outs = id_list(inputs, "input"), id_list(outputs, "output")
        with self._writing(conn) as c:
            return end_run(
                c,
                self.audit,
                run_id=run_id,
                status=chosen,
                error=error,
                inputs=ins,
                outputs=outs,
                now=self._now(),
            )

    @contextmanager
    def run(
        self,
        name: str,
        *,
        inputs: Iterable[str] | None = None,
        outputs: Iterable[str] | None = None,
        parameters: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        conn: Connection | None = None,
    ) -> Iterator[RunHandle]:
        """Record a transformation run around a block: START on entry, then COMPLETE on a
        clean exit or FAIL with the error (ABORT on an interrupt), which is re-raised.

        Without ``conn``, the start and the end each commit in a transaction of their own, so
        a FAIL is kept. With ``conn``, both go into the caller's transaction and share its
        fate: if the error also aborts the caller's transaction, nothing of the run remains.
        """
        handle = self.start_run(
            name,
            inputs=inputs,
            outputs=outputs,
            parameters=parameters,
            run_id=run_id,
            attributes=attributes,
            conn=conn,
        )
        try:
            yield handle
        except BaseException as exc:
            self._end_with_error(handle, exc, conn)
            raise
        handle.finish()

    # -- queries --------------------------------------------------------------------------

    def node(self, node_id: str, *, conn: Connection | None = None) -> Node:
        """The node with ``node_id``, or NotFoundError naming it."""
        check_id(node_id)
        with self._reading(conn) as c:
            found = fetch_nodes(c, [node_id])
        if node_id not in found:
            raise NotFoundError(f"lineage node {node_id!r} not found")
        return found[node_id]

    def nodes(
        self,
        *,
        kind: NodeKind | str | None = None,
        name: str | None = None,
        content_hash: str | None = None,
        limit: int | None = None,
        conn: Connection | None = None,
    ) -> list[Node]:
        """Nodes matching every filter given, oldest first."""
        query = node_query().order_by(lineage_node.c.created_at, lineage_node.c.id)
        if kind is not None:
            query = query.where(lineage_node.c.kind == check_kind(kind).value)
        if name is not None:
            query = query.where(lineage_node.c.name == name)
        if content_hash is not None:
            query = query.where(lineage_node.c.content_hash == content_hash)
        if limit is not None:
            query = query.limit(check_depth(limit, "limit"))
        with self._reading(conn) as c:
            return [node_from_row(row) for row in c.execute(query)]

    def walk(
        self,
        node_id: str,
        *,
        direction: Direction | str = Direction.BOTH,
        depth: int | None = None,
        conn: Connection | None = None,
    ) -> LineageGraph:
        """Everything upstream, downstream or both of ``node_id``, within ``depth`` hops.

        ``depth=None`` walks until nothing new is reached; cycles are followed once.
        """
        check_id(node_id)
        way, limit = check_direction(direction), check_depth(depth)
        with self._reading(conn) as c:
            require_nodes(c, [node_id])
            reach = walk(c, node_id, way, limit)
            found = fetch_nodes(c, reach.hops)
        nodes = sorted(found.values(), key=lambda n: (reach.hops[n.id], n.id))
        return LineageGraph(
            node_id, way, limit, tuple(nodes), tuple(sorted(reach.edges)), dict(reach.hops)
        )

    def upstream(
        self, node_id: str, *, depth: int | None = None, conn: Connection | None = None
    ) -> LineageGraph:
        """Everything ``node_id`` was made from, within ``depth`` hops."""
        return self.walk(node_id, direction=Direction.UPSTREAM, depth=depth, conn=conn)

    def downstream(
        self, node_id: str, *, depth: int | None = None, conn: Connection | None = None
    ) -> LineageGraph:
        """Everything made from ``node_id``, within ``depth`` hops."""
        return self.walk(node_id, direction=Direction.DOWNSTREAM, depth=depth, conn=conn)

    def path(
        self,
        source: str,
        target: str,
        *,
        max_depth: int | None = None,
        conn: Connection | None = None,
    ) -> LineagePath | None:
        """A shortest chain of edges from ``source`` down to ``target``, or None."""
        check_id(source, "path source id")
        check_id(target, "path target id")
        limit = check_depth(max_depth, "max_depth")
        with self._reading(conn) as c:
            require_nodes(c, [source, target])
            edges = shortest_path(c, source, target, limit)
            if edges is None:
                return None
            ids = [source, *(edge.dst for edge in edges)]
            found = fetch_nodes(c, ids)
        return LineagePath(tuple(found[i] for i in ids), tuple(edges))

    def graph(self, *, conn: Connection | None = None) -> LineageGraph:
        """The whole graph (every node and edge), for export."""
        with self._reading(conn) as c:
            nodes = [node_from_row(row) for row in c.execute(node_query())]
            rows = c.execute(select(lineage_edge))
            edges = sorted(Edge(r.src_id, r.dst_id, r.relation, r.created_at) for r in rows)
        nodes.sort(key=lambda n: (n.created_at, n.id))
        return LineageGraph(None, Direction.BOTH, None, tuple(nodes), tuple(edges), {})

    # -- OpenLineage ----------------------------------------------------------------------

    def openlineage_events(
        self,
        runs: LineageGraph | Iterable[str] | None = None,
        *,
        validate: bool = True,
        conn: Connection | None = None,
    ) -> list[dict[str, Any]]:
        """OpenLineage run events (START, then COMPLETE/FAIL/ABORT) for runs, in time order.

        ``runs`` is a list of run ids, a walked graph (its run nodes), or None for every run.
        Each event is checked against the vendored schema unless ``validate`` is False.
        """
        with self._reading(conn) as c:
            run_ids = self._run_ids(c, runs)
            links = {run_id: edges_of(c, run_id) for run_id in run_ids}
            wanted = {e.src for es in links.values() for e in es} | set(run_ids)
            wanted |= {e.dst for es in links.values() for e in es}
            found = fetch_nodes(c, wanted)
        events: list[dict[str, Any]] = []
        for run_id in run_ids:
            ins = [found[e.src] for e in links[run_id] if e.dst == run_id]
            outs = [found[e.dst] for e in links[run_id] if e.src == run_id]
            events += run_events(found[run_id], ins, outs, namespace=self.namespace)
        events.sort(key=lambda e: (e["eventTime"], e["eventType"] != "START", e["run"]["runId"]))
        if validate:
            _check_events(events)
        return events

    def emit_openlineage(
        self, transport: Transport, runs: LineageGraph | Iterable[str] | None = None
    ) -> int:
        """Send the events of :meth:`openlineage_events` through ``transport``; their count."""
        events = self.openlineage_events(runs)
        for event in events:
            transport.emit(event)
        return len(events)

    # -- internals ------------------------------------------------------------------------

    def _run_ids(self, conn: Connection, runs: LineageGraph | Iterable[str] | None) -> list[str]:
        if runs is None:
            query = select(lineage_run.c.id).order_by(lineage_run.c.started_at, lineage_run.c.id)
            return list(conn.execute(query).scalars())
        if isinstance(runs, LineageGraph):
            return [node.id for node in runs.nodes if node.kind is NodeKind.RUN]
        ids = id_list(runs, "run")
        require_nodes(conn, ids, role="run")
        found = fetch_nodes(conn, ids)
        not_runs = [i for i in ids if found[i].kind is not NodeKind.RUN]
        if not_runs:
            raise ValidationError(f"lineage node {not_runs[0]!r} is not a run")
        return ids

    def _new_node(
        self,
        node_id: str,
        kind: NodeKind | str,
        name: str,
        version: str | None,
        content_hash: str | None,
        attributes: Mapping[str, Any] | None,
    ) -> Node:
        check_id(node_id)
        chosen = check_kind(kind)
        if chosen is NodeKind.RUN:
            raise ValidationError(
                f"node {node_id!r}: record runs with lineage.run() or lineage.start_run(), "
                "which keep their status, not with add_node()"
            )
        check_text(name, f"name of node {node_id!r}", limit=MAX_NAME)
        check_text(version, f"version of node {node_id!r}", limit=200, optional=True)
        check_text(content_hash, f"content_hash of node {node_id!r}", limit=200, optional=True)
        attrs = loads(to_json_text(attributes or {}, f"attributes of node {node_id!r}"))
        schema_fields(attrs)
        return Node(node_id, chosen, name, version, content_hash, attrs, self._now())

    def _end_with_error(
        self, handle: RunHandle, error: BaseException, conn: Connection | None
    ) -> None:
        try:
            handle.finish(error=error)
        except DBAPIError:
            # The caller's transaction broke with the error itself; it will roll back the
            # START too, so there is nothing left to mark as failed.
            if conn is None:
                raise

    def _now(self) -> str:
        return iso_utc(self.clock())

    @contextmanager
    def _writing(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is None:
            with self.store.write() as own:
                yield own
            return
        if not conn.get_execution_options().get(WRITE, False):
            raise ValidationError("conn= must be a connection from store.write()")
        yield conn

    @contextmanager
    def _reading(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with self.store.read() as own:
            yield own


def _run_id_at(moment: datetime) -> str:
    return str(uuid7(now_ms=int(moment.timestamp() * 1000)))


def _node_row(node: Node) -> dict[str, Any]:
    return {
        "id": node.id,
        "kind": node.kind.value,
        "name": node.name,
        "version": node.version,
        "content_hash": node.content_hash,
        "attributes": to_json_text(node.attributes, "attributes"),
        "created_at": node.created_at,
    }


def _same_or_conflict(stored: Node, new: Node) -> Node:
    differs = [f for f in _COMPARED if getattr(stored, f) != getattr(new, f)]
    if not differs:
        return stored
    field = differs[0]
    raise ConflictError(
        f"lineage node {stored.id!r} already exists with a different {field} "
        f"({getattr(stored, field)!r}, not {getattr(new, field)!r}); node ids are immutable, "
        "so record a new version under a new id"
    )


def _check_events(events: list[dict[str, Any]]) -> None:
    from driftline.lineage._validate import validate_event

    for event in events:
        problems = validate_event(event)
        if problems:
            first = problems[0]
            raise ValidationError(
                f"the OpenLineage {event.get('eventType')} event of run "
                f"{event['run']['runId']} does not validate at {first.path}: {first.message} "
                f"({first.schema_path})"
            )
