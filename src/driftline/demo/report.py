"""The demo's HTML report: one self-contained file (inline SVG, no scripts, no CDN)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driftline.demo._replay import WindowSummary
    from driftline.workspace import Workspace

__all__ = ["write_report"]

_W, _H, _PAD = 760, 220, 40


def write_report(
    path: Path,
    workspace: Workspace,
    summary: dict[str, Any],
    windows: list[WindowSummary],
    cycles: list[dict[str, Any]],
) -> Path:
    """Write the report and return its path."""
    name = summary["scenario"]
    history = workspace.registry.alias_history(name, "champion")
    champion = workspace.registry.get(f"{name}@champion")
    lineage = workspace.lineage.upstream(champion.id).to_mermaid()
    body = "".join(
        [
            f"<h1>driftline demo: {html.escape(name)}</h1>",
            _summary_table(summary),
            "<h2>Accuracy of the served model per window</h2>",
            _accuracy_svg(windows, cycles),
            "<p>Markers: <span style='color:#c60'>&#9650;</span> retrain, "
            "<span style='color:#080'>&#9679;</span> promotion, "
            "<span style='color:#c00'>&#10005;</span> rollback or rejection.</p>",
            "<h2>Drift share per window</h2>",
            _drift_svg(windows),
            "<h2>Windows</h2>",
            _windows_table(windows),
            "<h2>Alias history of champion</h2>",
            _history_table(history),
            "<h2>Lineage of the final champion (Mermaid)</h2>",
            f"<pre>{html.escape(lineage)}</pre>",
        ]
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>driftline demo</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )
    path.write_text(page)
    return path


def _summary_table(summary: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>"
        for k, v in summary.items()
    )
    return f"<table>{rows}</table>"


def _xy(i: int, n: int, value: float) -> tuple[float, float]:
    x = _PAD + (_W - 2 * _PAD) * (i / max(n - 1, 1))
    return x, _H - _PAD - (_H - 2 * _PAD) * value


def _axes(label: str) -> str:
    return (
        f"<line x1='{_PAD}' y1='{_H - _PAD}' x2='{_W - _PAD}' y2='{_H - _PAD}' "
        f"stroke='#999'/><line x1='{_PAD}' y1='{_PAD}' x2='{_PAD}' y2='{_H - _PAD}' "
        f"stroke='#999'/><text x='4' y='{_PAD}' font-size='11'>1.0</text>"
        f"<text x='4' y='{_H - _PAD}' font-size='11'>0.0</text>"
        f"<text x='{_W / 2}' y='{_H - 8}' font-size='11'>{label}</text>"
    )


def _accuracy_svg(windows: list[WindowSummary], cycles: list[dict[str, Any]]) -> str:
    n = len(windows)
    points = " ".join(
        "{:.1f},{:.1f}".format(*_xy(i, n, w.accuracy))
        for i, w in enumerate(windows)
        if w.accuracy is not None
    )
    marks = []
    for cycle in cycles:
        i = cycle["window"] - 1
        x, _ = _xy(i, n, 0)
        rollout = (cycle.get("rollout") or {}).get("outcome")
        retrain = cycle.get("retrain")
        if retrain:
            marks.append(f"<text x='{x - 5:.1f}' y='{_PAD - 6}' fill='#c60'>&#9650;</text>")
        if rollout == "promoted":
            marks.append(f"<circle cx='{x:.1f}' cy='{_PAD + 6}' r='5' fill='#080'/>")
        elif retrain and (rollout == "rolled_back" or retrain.get("status") == "rejected"):
            marks.append(f"<text x='{x - 5:.1f}' y='{_PAD + 12}' fill='#c00'>&#10005;</text>")
    return (
        f"<svg width='{_W}' height='{_H}'>{_axes('window')}"
        f"<polyline fill='none' stroke='#036' stroke-width='2' points='{points}'/>"
        f"{''.join(marks)}</svg>"
    )


def _drift_svg(windows: list[WindowSummary]) -> str:
    n = len(windows)
    width = (_W - 2 * _PAD) / max(n, 1)
    bars = []
    for i, w in enumerate(windows):
        share = w.drift_share or 0.0
        x, y = _PAD + i * width, _H - _PAD - (_H - 2 * _PAD) * share
        color = "#c33" if share > 0.3 else "#69c"
        bars.append(
            f"<rect x='{x + 1:.1f}' y='{y:.1f}' width='{max(width - 2, 1):.1f}' "
            f"height='{_H - _PAD - y:.1f}' fill='{color}'/>"
        )
    return f"<svg width='{_W}' height='{_H}'>{_axes('window')}{''.join(bars)}</svg>"


def _windows_table(windows: list[WindowSummary]) -> str:
    head = (
        "<tr><th>window</th><th>rows</th><th>accuracy</th><th>drift share</th>"
        "<th>alerts firing</th><th>decision</th><th>champion</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{w.index}</td><td>{w.rows}</td><td>{_fmt(w.accuracy)}</td>"
        f"<td>{_fmt(w.drift_share)}</td><td>{w.alerts_firing}</td>"
        f"<td>{html.escape(w.decision)}</td><td>v{w.champion_version}</td></tr>"
        for w in windows
    )
    return f"<table>{head}{rows}</table>"


def _history_table(history: list[Any]) -> str:
    head = "<tr><th>time</th><th>from</th><th>to</th><th>reason</th></tr>"
    rows = "".join(
        f"<tr><td>{html.escape(h.time)}</td><td>{h.from_version or '-'}</td>"
        f"<td>{h.to_version}</td><td>{html.escape(h.reason)}</td></tr>"
        for h in history
    )
    return f"<table>{head}{rows}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;"
    "padding:.2rem .5rem;text-align:left;font-size:.9rem}pre{background:#f6f6f6;"
    "padding:.5rem;overflow:auto}"
)
