"""DOT, Mermaid and JSON renderings of a walked graph, and the seed's tracker surface."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from driftline.exceptions import ValidationError
from driftline.lineage import Lineage, LineageGraph, LineageTracker


def _graph(lineage: Lineage) -> tuple[LineageGraph, str]:
    lineage.add_node("ds", "dataset_version", 'sales "Q1" \\ raw', content_hash="ab" * 32)
    with pytest.raises(ValueError), lineage.run("train", inputs=["ds"]) as run:
        lineage.add_node("mv", "model_version", "clf <v2>", version="2")
        run.add_output("mv")
        raise ValueError("diverged")
    lineage.add_node("dep", "deployment", "prod & canary")
    lineage.add_edge("mv", "dep", "deployed")
    return lineage.downstream("ds"), run.id


def test_dot_has_every_node_and_edge_and_escapes_labels(lineage: Lineage) -> None:
    graph, run_id = _graph(lineage)
    dot = graph.to_dot()
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)" \[label="(\w+)"\];$', dot, re.M)
    assert sorted(edges) == sorted((e.src, e.dst, e.relation) for e in graph.edges)
    assert 'label="sales \\"Q1\\" \\\\ raw\\ndataset_version abababababab"' in dot
    assert "shape=cylinder" in dot and "shape=component" in dot and "shape=box3d" in dot
    run_line = next(line for line in dot.splitlines() if line.startswith(f'  "{run_id}" ['))
    assert "[FAIL]" in run_line and 'color="#cc0000"' in run_line
    root_line = next(line for line in dot.splitlines() if line.startswith('  "ds" ['))
    assert "penwidth" in root_line


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_graphviz_renders_the_dot(lineage: Lineage) -> None:
    graph, _ = _graph(lineage)
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=graph.to_dot(), capture_output=True, text=True, timeout=30
    )
    assert svg.returncode == 0, svg.stderr
    assert "sales &quot;Q1&quot; \\ raw" in svg.stdout
    assert svg.stdout.count('class="edge"') == len(graph.edges)


def test_mermaid_has_every_edge_and_escapes_labels(lineage: Lineage) -> None:
    graph, run_id = _graph(lineage)
    text = graph.to_mermaid()
    assert text.startswith("flowchart LR\n")
    short = dict(re.findall(r"^  %% (n\d+): (.+)$", text, re.M))
    assert sorted(short.values()) == sorted(graph.ids)
    by_id = {node_id: key for key, node_id in short.items()}
    edges = re.findall(r"^  (n\d+) -->\|(\w+)\| (n\d+)$", text, re.M)
    assert sorted(edges) == sorted((by_id[e.src], e.relation, by_id[e.dst]) for e in graph.edges)
    assert f'{by_id["ds"]}[("sales #quot;Q1#quot; \\ raw<br/>' in text
    assert "clf #lt;v2#gt;" in text and "prod #amp; canary" in text
    assert f"class {by_id[run_id]} failed" in text
    assert f"class {by_id['ds']} root" in text


def test_json_round_trips(lineage: Lineage) -> None:
    graph, run_id = _graph(lineage)
    data = json.loads(graph.to_json())
    assert data == graph.to_dict()
    assert (data["root"], data["direction"], data["depth"]) == ("ds", "downstream", None)
    run = next(n for n in data["nodes"] if n["id"] == run_id)
    assert run["hops"] == 1 and run["run"]["status"] == "FAIL"
    assert run["run"]["error_message"] == "ValueError: diverged"


def test_the_seed_tracker_surface(lineage: Lineage) -> None:
    tracker = LineageTracker(lineage)
    for node_id in ("raw", "clean", "features"):
        lineage.add_node(node_id, "dataset_version", node_id)
    first = tracker.track_transformation("clean", ["raw"], ["clean"], {"drop_na": True})
    second = tracker.track_transformation("featurise", ["clean"], ["features"])
    view = tracker.get_lineage("clean")
    assert view["node"]["id"] == "clean"
    assert [n["id"] for n in view["upstream"]] == [first, "raw"]
    assert [n["id"] for n in view["downstream"]] == [second, "features"]
    assert len(view["edges"]) == 4
    assert [n["id"] for n in tracker.get_lineage("clean", depth=1)["upstream"]] == [first]
    exported = json.loads(tracker.export_lineage())
    assert {n["id"] for n in exported["nodes"]} == {"raw", "clean", "features", first, second}
    graph = tracker.export_lineage(format="graph")
    assert set(graph) == {"nodes", "edges"} and len(graph["edges"]) == 4
    assert lineage.node(first).run.parameters == {"drop_na": True}  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="export format 'xml'"):
        tracker.export_lineage(format="xml")
