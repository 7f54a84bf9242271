"""The lineage graph's value types: node kinds, nodes, edges, walk results and paths."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from driftline._canonical import canonical_json
from driftline.exceptions import ValidationError

__all__ = [
    "Direction",
    "Edge",
    "LineageGraph",
    "LineagePath",
    "Node",
    "NodeKind",
    "Relation",
    "RunInfo",
    "RunStatus",
]

MAX_ID = 200
MAX_NAME = 500
_RELATION = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class NodeKind(StrEnum):
    """What a lineage node stands for."""

    DATASET_VERSION = "dataset_version"
    RUN = "run"
    MODEL_VERSION = "model_version"
    DEPLOYMENT = "deployment"
    PREDICTION_BATCH = "prediction_batch"
    QUALITY_RESULT = "quality_result"
    DRIFT_EVENT = "drift_event"
    ALERT = "alert"
    RETRAIN_DECISION = "retrain_decision"
    PROMOTION = "promotion"


class Relation(StrEnum):
    """Conventional edge relations; edges point the way data and decisions flow.

    Any token of letters, digits, ``_``, ``.`` and ``-`` is accepted; these are the names
    driftline itself uses.
    """

    INPUT = "input"  # dataset/model -> run that read it
    OUTPUT = "output"  # run -> dataset/model it wrote
    DEPLOYED = "deployed"  # model version -> deployment
    SERVED = "served"  # deployment -> prediction batch
    CHECKED = "checked"  # dataset version -> quality result
    DETECTED = "detected"  # dataset version / prediction batch -> drift event
    TRIGGERED = "triggered"  # drift event -> alert -> retrain decision -> run


class RunStatus(StrEnum):
    """A transformation run's state, named as OpenLineage names run transitions."""

    START = "START"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"
    ABORT = "ABORT"


class Direction(StrEnum):
    """Which way a walk follows edges."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


_KINDS = frozenset(kind.value for kind in NodeKind)
_DIRECTIONS = frozenset(way.value for way in Direction)


@dataclass(frozen=True)
class RunInfo:
    """The state of a run node: status, parameters, times and error."""

    status: RunStatus
    parameters: Mapping[str, Any]
    started_at: str
    ended_at: str | None = None
    error_message: str | None = None
    error_trace: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {
            "status": str(self.status),
            "parameters": dict(self.parameters),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "error_message": self.error_message,
            "error_trace": self.error_trace,
        }


@dataclass(frozen=True)
class Node:
    """One object in the graph, named by its domain id."""

    id: str
    kind: NodeKind
    name: str
    version: str | None
    content_hash: str | None
    attributes: Mapping[str, Any]
    created_at: str
    run: RunInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``run`` only for run nodes."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": str(self.kind),
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
            "attributes": dict(self.attributes),
            "created_at": self.created_at,
        }
        if self.run is not None:
            out["run"] = self.run.to_dict()
        return out


@dataclass(frozen=True, order=True)
class Edge:
    """A directed edge ``src -> dst`` with its relation."""

    src: str
    dst: str
    relation: str
    created_at: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {
            "src": self.src,
            "dst": self.dst,
            "relation": self.relation,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class LineageGraph:
    """A walked part of the graph (or all of it, with ``root`` None).

    ``hops`` maps each node id to its fewest edges from the root in the walked direction(s).
    """

    root: str | None
    direction: Direction
    depth: int | None
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    hops: Mapping[str, int]

    @property
    def ids(self) -> frozenset[str]:
        """The ids of every node in the graph."""
        return frozenset(node.id for node in self.nodes)

    def node(self, node_id: str) -> Node:
        """The node with ``node_id``; KeyError if the walk did not reach it."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: root, direction, depth, nodes (with hops) and edges."""
        return {
            "root": self.root,
            "direction": str(self.direction),
            "depth": self.depth,
            "nodes": [{**n.to_dict(), "hops": self.hops.get(n.id)} for n in self.nodes],
            "edges": [edge.to_dict() for edge in self.edges],
        }

    def to_json(self) -> str:
        """The graph as canonical JSON text."""
        return canonical_json(self.to_dict()).decode()

    def to_dot(self) -> str:
        """The graph in Graphviz DOT."""
        from driftline.lineage._render import to_dot

        return to_dot(self)

    def to_mermaid(self) -> str:
        """The graph as a Mermaid flowchart."""
        from driftline.lineage._render import to_mermaid

        return to_mermaid(self)


@dataclass(frozen=True)
class LineagePath:
    """The shortest chain of edges from one node to another."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @property
    def hops(self) -> int:
        """The number of edges on the path."""
        return len(self.edges)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the nodes and edges in order."""
        return {
            "hops": self.hops,
            "nodes": [node.to_dict() for node in self.nodes],
            "edges": [edge.to_dict() for edge in self.edges],
        }


def check_id(value: object, what: str = "node id") -> str:
    """``value`` if it is a usable node id, else a ValidationError naming it."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > MAX_ID or _CONTROL.search(value) or value != value.strip():
        raise ValidationError(
            f"{what} {value[:MAX_ID]!r} is not usable: at most {MAX_ID} characters, "
            "no control characters and no leading or trailing spaces"
        )
    return value


def check_run_id(value: object) -> str:
    """``value`` if it is a UUID in canonical form (OpenLineage runIds are UUIDs)."""
    text = check_id(value, "run id")
    try:
        canonical = str(uuid.UUID(text))
    except ValueError:
        canonical = ""
    if canonical != text:
        raise ValidationError(
            f"run id {text!r} must be a UUID in canonical lowercase form "
            "(e.g. str(driftline.ids.uuid7())), because OpenLineage runIds are UUIDs"
        )
    return text


def check_kind(value: object) -> NodeKind:
    """``value`` as a NodeKind, or a ValidationError listing the kinds."""
    if isinstance(value, str) and value in _KINDS:
        return NodeKind(value)
    kinds = ", ".join(kind.value for kind in NodeKind)
    raise ValidationError(f"node kind {value!r} is not one of: {kinds}")


def check_text(value: object, what: str, *, limit: int, optional: bool = False) -> str | None:
    """``value`` if it is a non-empty string of at most ``limit`` characters."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationError(
            f"{what} must be a non-empty string of at most {limit} characters, got {value!r}"
        )
    return value


def check_relation(value: object) -> str:
    """``value`` if it is a relation token (letters, digits, ``_ . -``, up to 100)."""
    if not isinstance(value, str) or not _RELATION.fullmatch(value):
        raise ValidationError(
            f"edge relation {value!r} must start with a letter and hold only letters, digits, "
            "'_', '.' or '-' (at most 100 characters), e.g. 'input' or 'deployed'"
        )
    return value


def check_direction(value: object) -> Direction:
    """``value`` as a Direction, or a ValidationError listing the directions."""
    if isinstance(value, str) and value in _DIRECTIONS:
        return Direction(value)
    raise ValidationError(f"direction {value!r} is not one of: upstream, downstream, both")


def check_depth(value: object, what: str = "depth") -> int | None:
    """``value`` if it is None (no limit) or a whole number of hops >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{what} must be a whole number of hops >= 0 or None, got {value!r}")
    return value


def to_json_text(value: Any, what: str) -> str:
    """Canonical JSON text of ``value``, or a ValidationError naming ``what``."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"{what} must be a mapping, got {type(value).__name__}")
    try:
        return canonical_json(dict(value)).decode()
    except TypeError as exc:
        raise ValidationError(f"{what} cannot be stored as JSON: {exc}") from None
