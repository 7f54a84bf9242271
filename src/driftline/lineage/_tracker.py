"""The seed's ``LineageTracker`` surface, kept as a thin layer over :class:`Lineage`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from driftline.exceptions import ValidationError
from driftline.lineage._lineage import Lineage
from driftline.lineage._model import Direction

__all__ = ["LineageTracker"]


class LineageTracker:
    """Record transformations and read lineage the way the seed's tracker did.

    >>> import tempfile
    >>> from driftline import Workspace
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> tracker = LineageTracker(ws.lineage)
    >>> for node_id in ("raw", "clean"):
    ...     _ = ws.lineage.add_node(node_id, "dataset_version", node_id)
    >>> run_id = tracker.track_transformation("clean", ["raw"], ["clean"], {"drop_na": True})
    >>> [n["id"] for n in tracker.get_lineage("clean")["upstream"]] == [run_id, "raw"]
    True
    >>> sorted(tracker.export_lineage(format="graph"))
    ['edges', 'nodes']
    >>> ws.close()
    """

    def __init__(self, lineage: Lineage) -> None:
        self.lineage = lineage

    def track_transformation(
        self,
        name: str,
        inputs: Iterable[str],
        outputs: Iterable[str],
        params: Mapping[str, Any] | None = None,
    ) -> str:
        """Record a finished transformation from ``inputs`` to ``outputs``; its run id."""
        with self.lineage.run(name, inputs=inputs, outputs=outputs, parameters=params) as run:
            pass
        return run.id

    def get_lineage(self, node_id: str, *, depth: int | None = None) -> dict[str, Any]:
        """The node with everything upstream and downstream of it (nearest first)."""
        up = self.lineage.walk(node_id, direction=Direction.UPSTREAM, depth=depth)
        down = self.lineage.walk(node_id, direction=Direction.DOWNSTREAM, depth=depth)
        return {
            "node": up.node(node_id).to_dict(),
            "upstream": [n.to_dict() for n in up.nodes if n.id != node_id],
            "downstream": [n.to_dict() for n in down.nodes if n.id != node_id],
            "edges": [edge.to_dict() for edge in sorted({*up.edges, *down.edges})],
        }

    def export_lineage(self, format: str = "json") -> Any:
        """The whole graph: ``json`` gives JSON text, ``graph`` a dict of nodes and edges."""
        graph = self.lineage.graph()
        if format == "json":
            return graph.to_json()
        if format == "graph":
            data = graph.to_dict()
            return {"nodes": data["nodes"], "edges": data["edges"]}
        raise ValidationError(f"export format {format!r} is not one of: json, graph")
