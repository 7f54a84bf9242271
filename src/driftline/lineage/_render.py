"""Render a lineage graph as Graphviz DOT or a Mermaid flowchart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftline.lineage._model import Node, NodeKind, RunStatus

if TYPE_CHECKING:
    from driftline.lineage._model import LineageGraph

__all__ = ["to_dot", "to_mermaid"]

_DOT_SHAPES = {
    NodeKind.DATASET_VERSION: "cylinder",
    NodeKind.RUN: "box",
    NodeKind.MODEL_VERSION: "component",
    NodeKind.DEPLOYMENT: "box3d",
    NodeKind.PREDICTION_BATCH: "folder",
    NodeKind.QUALITY_RESULT: "note",
    NodeKind.DRIFT_EVENT: "diamond",
    NodeKind.ALERT: "octagon",
    NodeKind.RETRAIN_DECISION: "hexagon",
    NodeKind.PROMOTION: "cds",
}

# Mermaid node shapes as (opening, closing) around a quoted label.
_MERMAID_SHAPES = {
    NodeKind.DATASET_VERSION: ("[(", ")]"),
    NodeKind.RUN: ("(", ")"),
    NodeKind.MODEL_VERSION: ("[[", "]]"),
    NodeKind.DEPLOYMENT: ("{{", "}}"),
    NodeKind.QUALITY_RESULT: ("[/", "/]"),
    NodeKind.DRIFT_EVENT: ("{", "}"),
    NodeKind.ALERT: (">", "]"),
}

_FAILED = {RunStatus.FAIL, RunStatus.ABORT}


def _label_lines(node: Node) -> list[str]:
    detail = str(node.kind)
    version = node.version or (node.content_hash[:12] if node.content_hash else None)
    if version:
        detail += f" {version}"
    if node.run is not None:
        detail += f" [{node.run.status}]"
    return [node.name, detail]


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: LineageGraph) -> str:
    """The graph in Graphviz DOT: one node per lineage node, edges labelled by relation."""
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for node in graph.nodes:
        label = "\\n".join(
            line.replace("\\", "\\\\").replace('"', '\\"') for line in _label_lines(node)
        )
        attrs = [f'label="{label}"', f"shape={_DOT_SHAPES[node.kind]}"]
        attrs.append(f"tooltip={_dot_quote(node.id)}")
        if node.id == graph.root:
            attrs.append("penwidth=2.5")
        if node.run is not None and node.run.status in _FAILED:
            attrs.append('color="#cc0000"')
        lines.append(f"  {_dot_quote(node.id)} [{', '.join(attrs)}];")
    for edge in graph.edges:
        src, dst, relation = (_dot_quote(t) for t in (edge.src, edge.dst, edge.relation))
        lines.append(f"  {src} -> {dst} [label={relation}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Inside a quoted label Mermaid reads entity codes; these characters would end it.
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def to_mermaid(graph: LineageGraph) -> str:
    """The graph as a Mermaid flowchart; node ids become ``n0, n1, ...`` (noted in comments)."""
    short = {node.id: f"n{index}" for index, node in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    failed: list[str] = []
    for node in graph.nodes:
        opening, closing = _MERMAID_SHAPES.get(node.kind, ("[", "]"))
        label = "<br/>".join(_mermaid_text(line) for line in _label_lines(node))
        lines.append(f"  %% {short[node.id]}: {node.id}")
        lines.append(f'  {short[node.id]}{opening}"{label}"{closing}')
        if node.run is not None and node.run.status in _FAILED:
            failed.append(short[node.id])
    for edge in graph.edges:
        if edge.src in short and edge.dst in short:
            lines.append(f"  {short[edge.src]} -->|{edge.relation}| {short[edge.dst]}")
    if graph.root in short:
        lines.append("  classDef root stroke-width:3px")
        lines.append(f"  class {short[graph.root]} root")
    if failed:
        lines.append("  classDef failed stroke:#cc0000,color:#cc0000")
        lines.append(f"  class {','.join(failed)} failed")
    return "\n".join(lines) + "\n"
