"""Recording nodes, edges and runs: idempotence, conflicts, audit entries, transactions."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from driftline import Workspace
from driftline.exceptions import ConflictError, NotFoundError, ValidationError
from driftline.lineage import Lineage, NodeKind, RunStatus
from driftline.store._tables import lineage_edge, lineage_node, lineage_run


def _counts(ws: Workspace) -> tuple[int, int, int, int]:
    with ws.store.read() as conn:
        nodes, edges, runs = (
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (lineage_node, lineage_edge, lineage_run)
        )
    return nodes, edges, runs, ws.audit.head()[0]


def test_add_node_is_idempotent_and_ids_are_immutable(lineage: Lineage, workspace: Workspace):
    first = lineage.add_node("ds-1", "dataset_version", "iris", content_hash="ab" * 32)
    again = lineage.add_node("ds-1", NodeKind.DATASET_VERSION, "iris", content_hash="ab" * 32)
    assert again == first  # the stored node, created_at included
    assert _counts(workspace) == (1, 0, 0, 1)  # one node, one audit entry
    with pytest.raises(ConflictError, match=r"'ds-1' already exists with a different content_hash"):
        lineage.add_node("ds-1", "dataset_version", "iris", content_hash="cd" * 32)
    with pytest.raises(ConflictError, match="different kind"):
        lineage.add_node("ds-1", "model_version", "iris", content_hash="ab" * 32)
    assert lineage.node("ds-1") == first


def test_every_change_has_its_audit_entry(lineage: Lineage, workspace: Workspace) -> None:
    lineage.add_node("a", "dataset_version", "a")
    lineage.add_node("b", "model_version", "b", version="3")
    lineage.add_edge("a", "b", "derived")
    lineage.add_edge("a", "b", "derived")  # no change, no entry
    entries = workspace.audit.entries(newest_first=False)
    assert [(e.action, e.subject) for e in entries] == [
        ("lineage.node.add", "a"),
        ("lineage.node.add", "b"),
        ("lineage.edge.add", "a -> b"),
    ]
    assert entries[1].payload["version"] == "3"
    assert entries[2].payload == {"src": "a", "dst": "b", "relation": "derived"}
    assert workspace.audit.verify().intact


def test_changes_roll_back_with_the_callers_transaction(lineage: Lineage, workspace: Workspace):
    before = _counts(workspace)
    with pytest.raises(RuntimeError, match="caller failed"), workspace.store.write() as conn:
        lineage.add_node("x", "dataset_version", "x", conn=conn)
        lineage.add_node("y", "alert", "y", conn=conn)
        lineage.add_edge("x", "y", "triggered", conn=conn)
        raise RuntimeError("caller failed")
    assert _counts(workspace) == before
    with pytest.raises(NotFoundError, match="'x'"):
        lineage.node("x")


def test_conn_must_come_from_a_write(lineage: Lineage, workspace: Workspace) -> None:
    with workspace.store.read() as conn, pytest.raises(ValidationError, match=r"store.write\(\)"):
        lineage.add_node("x", "dataset_version", "x", conn=conn)


def test_edges_need_existing_nodes_and_nothing_is_half_written(
    lineage: Lineage, workspace: Workspace
) -> None:
    lineage.add_node("a", "dataset_version", "a")
    before = _counts(workspace)
    with pytest.raises(NotFoundError, match=r"lineage node 'ghost' not found"):
        lineage.add_edge("a", "ghost", "input")
    with pytest.raises(ValidationError, match="to itself"):
        lineage.add_edge("a", "a", "input")
    with pytest.raises(ValidationError, match="edge relation 'has space'"):
        lineage.add_edge("a", "a", "has space")
    assert _counts(workspace) == before


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"node_id": ""}, "node id must be a non-empty string"),
        ({"node_id": "x" * 201}, "at most 200 characters"),
        ({"node_id": "tab\there"}, "no control characters"),
        ({"kind": "dataset"}, "node kind 'dataset' is not one of: dataset_version, run"),
        ({"kind": "run"}, r"record runs with lineage.run\(\)"),
        ({"name": ""}, "name of node 'n' must be a non-empty string"),
        ({"attributes": {"when": object()}}, "attributes of node 'n' cannot be stored as JSON"),
        ({"attributes": ["not", "a", "mapping"]}, "attributes of node 'n' must be a mapping"),
        ({"attributes": {"columns": [1, 2]}}, r"attribute 'columns'\[0\] must be a mapping"),
        ({"attributes": {"columns": [{"type": "int"}]}}, r"'columns'\[0\] has no column name"),
    ],
    ids=[
        "empty-id",
        "long-id",
        "control",
        "kind",
        "run-kind",
        "name",
        "json",
        "attrs",
        "cols",
        "col-name",
    ],
)
def test_bad_nodes_are_refused_naming_the_field(
    lineage: Lineage, workspace: Workspace, kwargs: dict[str, object], match: str
) -> None:
    args: dict[str, object] = {"node_id": "n", "kind": "dataset_version", "name": "n", **kwargs}
    with pytest.raises(ValidationError, match=match):
        lineage.add_node(**args)  # type: ignore[arg-type]
    assert _counts(workspace) == (0, 0, 0, 0)


def test_run_completes_with_its_edges_parameters_and_times(
    lineage: Lineage, workspace: Workspace
) -> None:
    lineage.add_node("raw", "dataset_version", "raw")
    lineage.add_node("lookup", "dataset_version", "lookup")
    with lineage.run("clean", inputs=["raw"], parameters={"drop_na": True, "min_rows": 10}) as run:
        assert lineage.node(run.id).run.status is RunStatus.START
        lineage.add_node("clean", "dataset_version", "clean")
        run.add_input("lookup")
        run.add_output("clean")
    node = lineage.node(run.id)
    assert node.kind is NodeKind.RUN and node.name == "clean"
    assert node.run is not None
    assert node.run.status is RunStatus.COMPLETE
    assert node.run.parameters == {"drop_na": True, "min_rows": 10}
    assert node.run.started_at == "2026-03-01T12:00:03.000000+00:00"  # after two add_node
    assert node.run.ended_at is not None and node.run.ended_at > node.run.started_at
    assert uuid.UUID(run.id).version == 7
    edges = {(e.src, e.dst, e.relation) for e in lineage.walk(run.id, depth=1).edges}
    assert edges == {
        ("raw", run.id, "input"),
        ("lookup", run.id, "input"),
        (run.id, "clean", "output"),
    }
    actions = [e.action for e in workspace.audit.entries(subject=run.id, newest_first=False)]
    assert actions == ["lineage.run.start", "lineage.run.complete"]


def test_failed_run_is_recorded_with_its_error_and_edges(
    lineage: Lineage, workspace: Workspace
) -> None:
    lineage.add_node("raw", "dataset_version", "raw")
    lineage.add_node("half", "dataset_version", "half")
    with pytest.raises(ZeroDivisionError), lineage.run("train", inputs=["raw"]) as run:
        run.add_output("half")
        _ = 1 / 0
    node = lineage.node(run.id)
    assert node.run is not None and node.run.status is RunStatus.FAIL
    assert node.run.error_message == "ZeroDivisionError: division by zero"
    assert node.run.error_trace is not None and "_ = 1 / 0" in node.run.error_trace
    assert {(e.src, e.dst) for e in lineage.walk(run.id, depth=1).edges} == {
        ("raw", run.id),
        (run.id, "half"),
    }
    last = workspace.audit.entries(limit=1)[0]
    assert (last.action, last.payload["error"]) == (
        "lineage.run.fail",
        "ZeroDivisionError: division by zero",
    )


def test_interrupted_run_is_aborted(lineage: Lineage) -> None:
    with pytest.raises(KeyboardInterrupt), lineage.run("long") as run:
        raise KeyboardInterrupt
    assert lineage.node(run.id).run.status is RunStatus.ABORT  # type: ignore[union-attr]


def test_adding_an_unknown_output_fails_the_run(lineage: Lineage) -> None:
    with pytest.raises(NotFoundError, match="'nope'"), lineage.run("job") as run:
        run.add_output("nope")
    info = lineage.node(run.id).run
    assert info is not None and info.status is RunStatus.FAIL
    assert "lineage node 'nope' not found" in (info.error_message or "")


def test_run_with_unknown_inputs_writes_nothing(lineage: Lineage, workspace: Workspace):
    lineage.add_node("raw", "dataset_version", "raw")
    before = _counts(workspace)
    with (
        pytest.raises(NotFoundError, match=r"lineage nodes 'gone', 'lost' not found"),
        lineage.run("job", inputs=["raw", "gone", "lost"]),
    ):
        pytest.fail("the block must not run")  # pragma: no cover
    assert _counts(workspace) == before


def test_run_inside_the_callers_transaction_commits_with_it(
    lineage: Lineage, workspace: Workspace
) -> None:
    lineage.add_node("raw", "dataset_version", "raw")
    with workspace.store.write() as conn:
        with lineage.run("build", inputs=["raw"], conn=conn) as run:
            lineage.add_node("feat", "dataset_version", "features", conn=conn)
            run.add_output("feat")
        workspace.audit.append(conn, action="caller.step", subject="feat")
    assert lineage.node(run.id).run.status is RunStatus.COMPLETE  # type: ignore[union-attr]
    assert lineage.path("raw", "feat") is not None
    assert workspace.audit.verify().intact


def test_run_inside_a_failed_caller_transaction_leaves_nothing(
    lineage: Lineage, workspace: Workspace
) -> None:
    lineage.add_node("raw", "dataset_version", "raw")
    before = _counts(workspace)
    with (
        pytest.raises(ValueError, match="bad batch"),
        workspace.store.write() as conn,
        lineage.run("build", inputs=["raw"], conn=conn),
    ):
        raise ValueError("bad batch")
    assert _counts(workspace) == before


def test_fail_kept_when_the_caller_catches_the_error(lineage: Lineage, workspace: Workspace):
    lineage.add_node("raw", "dataset_version", "raw")
    with workspace.store.write() as conn:
        try:
            with lineage.run("build", inputs=["raw"], conn=conn) as run:
                raise ValueError("bad batch")
        except ValueError:
            pass
    info = lineage.node(run.id).run
    assert info is not None and (info.status, info.error_message) == (
        RunStatus.FAIL,
        "ValueError: bad batch",
    )


def test_runs_end_once_and_need_uuid_ids(lineage: Lineage) -> None:
    handle = lineage.start_run("job", run_id=str(uuid.uuid4()))
    lineage.finish_run(handle.id, error="upstream timed out")
    with pytest.raises(ConflictError, match="already ended with FAIL"):
        handle.finish()
    with pytest.raises(ConflictError, match="already recorded"):
        lineage.start_run("job", run_id=handle.id)
    with pytest.raises(ValidationError, match="must be a UUID"):
        lineage.start_run("job", run_id="run-1")
    with pytest.raises(ValidationError, match="canonical lowercase"):
        lineage.start_run("job", run_id=str(uuid.uuid4()).upper())
    with pytest.raises(NotFoundError, match="not found"):
        lineage.finish_run(str(uuid.uuid4()))
    with pytest.raises(ValidationError, match="not the string 'raw'"):
        lineage.start_run("job", inputs="raw")
    with pytest.raises(ValidationError, match="COMPLETE, FAIL or ABORT, not 'START'"):
        lineage.finish_run(handle.id, status="START")
    with pytest.raises(ValidationError, match="parameters of run 'job' cannot be stored"):
        lineage.start_run("job", parameters={"model": object()})


def test_a_database_error_inside_the_callers_run_surfaces_unchanged(
    lineage: Lineage, workspace: Workspace
) -> None:
    # On PostgreSQL the failed statement aborts the caller's transaction, so the run cannot
    # be marked FAIL in it; the caller must see its own error, not a follow-up one.
    lineage.add_node("raw", "dataset_version", "raw")
    before = _counts(workspace)
    duplicate = sa.insert(lineage_node).values(
        id="raw", kind="alert", name="x", attributes="{}", created_at="now"
    )
    with (
        pytest.raises(sa.exc.IntegrityError),
        workspace.store.write() as conn,
        lineage.run("build", inputs=["raw"], conn=conn),
    ):
        conn.execute(duplicate)
    assert _counts(workspace) == before
