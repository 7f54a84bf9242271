"""Transformation runs: their rows, the edges they add, and the handle a caller holds."""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from driftline.exceptions import ConflictError, NotFoundError, ValidationError
from driftline.lineage._model import (
    MAX_NAME,
    Edge,
    Node,
    NodeKind,
    Relation,
    RunStatus,
    check_id,
    check_text,
    to_json_text,
)
from driftline.lineage._records import (
    existing_edges,
    fetch_nodes,
    insert_edges,
    insert_node,
    require_nodes,
)
from driftline.store import AuditLog
from driftline.store._tables import lineage_run

if TYPE_CHECKING:
    from driftline.lineage._lineage import Lineage

__all__ = ["RunHandle", "end_run", "final_status", "id_list", "start_run"]

# Enough of a stack trace to find the failing line; the rest is in the caller's logs.
_TRACE_LIMIT = 20_000


def id_list(values: Iterable[str] | None, what: str) -> list[str]:
    """Node ids in order without repeats; a bare string is refused (it is not a list)."""
    if values is None:
        return []
    if isinstance(values, str):
        raise ValidationError(f"{what} must be a list of node ids, not the string {values!r}")
    return list(dict.fromkeys(check_id(value, f"{what} id") for value in values))


def final_status(status: RunStatus | str | None, error: BaseException | str | None) -> RunStatus:
    """The status a run ends with: given, or COMPLETE, FAIL (an error) or ABORT (an interrupt)."""
    if status is None:
        if error is None:
            return RunStatus.COMPLETE
        failed = isinstance(error, str | Exception)
        return RunStatus.FAIL if failed else RunStatus.ABORT
    try:
        chosen = RunStatus(status)
    except ValueError:
        chosen = RunStatus.START
    if chosen is RunStatus.START:
        raise ValidationError(f"a run ends with COMPLETE, FAIL or ABORT, not {status!r}")
    if chosen is RunStatus.COMPLETE and error is not None:
        raise ValidationError("a run that ended with an error cannot be COMPLETE")
    return chosen


def _describe(error: BaseException | str | None) -> tuple[str | None, str | None]:
    if error is None or isinstance(error, str):
        return error, None
    text = str(error)
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    trace = "".join(traceback.format_exception(error))
    return message, trace[-_TRACE_LIMIT:]


def start_run(
    conn: Connection,
    audit: AuditLog,
    *,
    run_id: str,
    name: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    parameters: Mapping[str, Any],
    attributes: Mapping[str, Any],
    now: str,
) -> None:
    """Insert the run node, its START state and its edges, with one audit entry."""
    check_text(name, "run name", limit=MAX_NAME)
    parameters_text = to_json_text(parameters, f"parameters of run {name!r}")
    attributes_text = to_json_text(attributes, f"attributes of run {name!r}")
    if fetch_nodes(conn, [run_id]):
        raise ConflictError(f"run {run_id!r} is already recorded; a run id is used once")
    require_nodes(conn, [*inputs, *outputs])
    edges = [Edge(i, run_id, Relation.INPUT, now) for i in inputs]
    edges += [Edge(run_id, o, Relation.OUTPUT, now) for o in outputs]
    audit.append(
        conn,
        action="lineage.run.start",
        subject=run_id,
        payload={"name": name, "inputs": list(inputs), "outputs": list(outputs)},
    )
    insert_node(
        conn,
        {
            "id": run_id,
            "kind": NodeKind.RUN.value,
            "name": name,
            "version": None,
            "content_hash": None,
            "attributes": attributes_text,
            "created_at": now,
        },
    )
    conn.execute(
        insert(lineage_run).values(
            id=run_id, status=RunStatus.START.value, parameters=parameters_text, started_at=now
        )
    )
    insert_edges(conn, edges)


def end_run(
    conn: Connection,
    audit: AuditLog,
    *,
    run_id: str,
    status: RunStatus,
    error: BaseException | str | None,
    inputs: Sequence[str],
    outputs: Sequence[str],
    now: str,
) -> Node:
    """Record the run's end and any edges added while it ran, with one audit entry."""
    row = conn.execute(
        select(lineage_run.c.status).where(lineage_run.c.id == run_id).with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(f"run {run_id!r} not found; start it with lineage.run() first")
    if row.status != RunStatus.START.value:
        raise ConflictError(f"run {run_id!r} already ended with {row.status}; a run ends once")
    if run_id in inputs or run_id in outputs:
        raise ValidationError(f"run {run_id!r} cannot be its own input or output")
    require_nodes(conn, [*inputs, *outputs])
    edges = [Edge(i, run_id, Relation.INPUT, now) for i in inputs]
    edges += [Edge(run_id, o, Relation.OUTPUT, now) for o in outputs]
    stored = existing_edges(conn, edges)
    message, trace = _describe(error)
    audit.append(
        conn,
        action=f"lineage.run.{status.value.lower()}",
        subject=run_id,
        payload={
            "status": status.value,
            "inputs": list(inputs),
            "outputs": list(outputs),
            "error": message,
        },
    )
    insert_edges(conn, [edge for edge in edges if edge not in stored])
    conn.execute(
        update(lineage_run)
        .where(lineage_run.c.id == run_id)
        .values(status=status.value, ended_at=now, error_message=message, error_trace=trace)
    )
    return fetch_nodes(conn, [run_id])[run_id]


class RunHandle:
    """A run being recorded: add inputs and outputs while it runs, then it ends once.

    Inputs and outputs added here must exist when added (pass ``conn=`` for a node written
    in a transaction that has not committed yet); their edges are written when the run ends,
    whether it ends COMPLETE, FAIL or ABORT.
    """

    def __init__(self, lineage: Lineage, run_id: str, name: str, conn: Connection | None):
        self.lineage = lineage
        self.id = run_id
        self.name = name
        self.conn = conn
        self.inputs: list[str] = []
        self.outputs: list[str] = []

    def add_input(self, node_id: str, *, conn: Connection | None = None) -> None:
        """Record that the run read ``node_id``."""
        self._add(self.inputs, node_id, conn)

    def add_output(self, node_id: str, *, conn: Connection | None = None) -> None:
        """Record that the run wrote ``node_id``."""
        self._add(self.outputs, node_id, conn)

    def finish(
        self,
        *,
        error: BaseException | str | None = None,
        status: RunStatus | str | None = None,
        conn: Connection | None = None,
    ) -> Node:
        """End the run: COMPLETE without ``error``, FAIL with one (ABORT for an interrupt)."""
        return self.lineage.finish_run(
            self.id,
            error=error,
            status=status,
            inputs=self.inputs,
            outputs=self.outputs,
            conn=conn or self.conn,
        )

    def _add(self, bucket: list[str], node_id: str, conn: Connection | None) -> None:
        node_id = check_id(node_id)
        if node_id == self.id:
            raise ValidationError(f"run {self.id!r} cannot be its own input or output")
        use = conn or self.conn
        if use is None:
            self.lineage.node(node_id)
        else:
            require_nodes(use, [node_id])
        if node_id not in bucket:
            bucket.append(node_id)

    def __repr__(self) -> str:
        return f"RunHandle(id={self.id!r}, name={self.name!r})"
