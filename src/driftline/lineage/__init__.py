"""Lineage: the graph of what was made from what, recorded, walked and exported.

Nodes are domain objects (dataset versions, runs, model versions, deployments, prediction
batches, quality results, drift events, alerts, retrain decisions, promotions) named by their
own ids; edges point the way data and decisions flow. ``ws.lineage`` records them in the
metadata DB with their audit entries, walks them upstream or downstream, finds paths, and
exports JSON, Graphviz DOT, Mermaid and OpenLineage run events that validate against the
vendored OpenLineage schema (``openlineage_spec/``, Apache-2.0).
"""

from driftline.lineage._lineage import Lineage
from driftline.lineage._model import (
    Direction,
    Edge,
    LineageGraph,
    LineagePath,
    Node,
    NodeKind,
    Relation,
    RunInfo,
    RunStatus,
)
from driftline.lineage._openlineage import PRODUCER
from driftline.lineage._runs import RunHandle
from driftline.lineage._spec import RUN_EVENT_URL as SCHEMA_URL
from driftline.lineage._tracker import LineageTracker
from driftline.lineage._transports import (
    ConsoleTransport,
    FileTransport,
    HttpTransport,
    MemoryTransport,
    Transport,
)
from driftline.lineage._validate import (
    EventCheck,
    SchemaProblem,
    ValidationReport,
    validate_event,
    validate_file,
)

__all__ = [
    "PRODUCER",
    "SCHEMA_URL",
    "ConsoleTransport",
    "Direction",
    "Edge",
    "EventCheck",
    "FileTransport",
    "HttpTransport",
    "Lineage",
    "LineageGraph",
    "LineagePath",
    "LineageTracker",
    "MemoryTransport",
    "Node",
    "NodeKind",
    "Relation",
    "RunHandle",
    "RunInfo",
    "RunStatus",
    "SchemaProblem",
    "Transport",
    "ValidationReport",
    "validate_event",
    "validate_file",
]
