"""A drift report as one self-contained HTML page: inline CSS and SVG, no script, no CDN.

Plots are drawn here, only when :meth:`DriftReport.to_html` is called, from the few hundred
numbers per feature the report keeps (bin counts, category counts, 101 quantiles per side).
"""

from __future__ import annotations

import html
import itertools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from driftline.drift._feature_task import PlotData
    from driftline.drift.report import DriftReport, FeatureDrift

__all__ = ["render_report"]

REF_COLOR = "#4c72b0"
CUR_COLOR = "#dd8452"
WIDTH, HEIGHT, PAD = 420, 230, 30
BOTTOM = 62  # room under the axis for the turned labels
MAX_LABELS = 20

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.drift{color:#b00020;font-weight:600}.ok{color:#2e7d32}
.feature{margin:1.5em 0;padding-top:.5em;border-top:1px solid #eee}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
svg{margin-right:1em;background:#fafafa}
"""


def render_report(report: DriftReport) -> str:
    """The whole page."""
    verdict = "DRIFT DETECTED" if report.drift_detected else "no drift"
    cls = "drift" if report.drift_detected else "ok"
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>driftline drift report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Drift report</h1>",
        f"<p class='{cls}'>Dataset: {verdict}</p>",
        "<p>"
        + html.escape(
            f"{len(report.drifted_features)} of {len(report.features)} features drifted "
            f"(share {report.drift_share:.1%}); correction {report.correction}, "
            f"alpha {report.alpha:g}; {report.n_reference} reference rows, "
            f"{report.n_current} current rows."
        )
        + "</p>",
        _table(report),
        "<p class='legend'>"
        f"<span style='background:{REF_COLOR}'></span>reference"
        f"<span style='background:{CUR_COLOR}'></span>current</p>",
    ]
    for name, feature in report.features.items():
        parts.append(_feature_section(name, feature, report.plot_data.get(name)))
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(report: DriftReport) -> str:
    head = (
        "<table><tr><th>feature</th><th>kind</th><th>method</th><th>statistic</th>"
        "<th>p-value</th><th>threshold</th><th>missing ref &rarr; cur</th><th>unseen</th>"
        "<th>drift</th></tr>"
    )
    rows = [head]
    for name, f in report.features.items():
        flag = (
            ", ".join(f.signals)
            if f.drift_detected
            else ("not testable" if not f.testable else "no")
        )
        rows.append(
            "<tr>"
            f"<td><a href='#f-{_anchor(name)}'>{html.escape(name)}</a></td>"
            f"<td>{f.kind}</td><td>{html.escape(f.method or '-')}</td>"
            f"<td class='num'>{_num(f.statistic)}</td><td class='num'>{_num(f.p_value)}</td>"
            f"<td class='num'>{_num(f.threshold)}</td>"
            f"<td class='num'>{_pct(f.missing_share_ref)} &rarr; {_pct(f.missing_share_cur)}</td>"
            f"<td class='num'>{_pct(f.unseen_share)}</td>"
            f"<td class='{'drift' if f.drift_detected else 'ok'}'>{html.escape(flag)}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _feature_section(name: str, feature: FeatureDrift, plot: PlotData | None) -> str:
    title = f"<h3 id='f-{_anchor(name)}'>{html.escape(name)}</h3>"
    note = f"<p>{html.escape(feature.reason)}</p>" if feature.reason else ""
    if plot is None:
        return f"<div class='feature'>{title}{note}</div>"
    charts = [_histogram(plot)]
    if plot.kind == "numeric" and len(plot.ref_quantiles) and len(plot.cur_quantiles):
        charts.append(_ecdf(plot))
    return f"<div class='feature'>{title}{note}{''.join(charts)}</div>"


def _histogram(plot: PlotData) -> str:
    ref = plot.ref_counts / max(int(plot.ref_counts.sum()), 1)
    cur = plot.cur_counts / max(int(plot.cur_counts.sum()), 1)
    numeric = plot.kind == "numeric"
    labels = _bin_labels(plot.edges) if numeric else list(plot.labels)
    lower = [None, *(float(e) for e in plot.edges)] if numeric else [None] * len(labels)
    title = "share per bin" if numeric else "share per category"
    if len(labels) > MAX_LABELS:  # keep the buckets where the two sides differ most
        title += f" ({MAX_LABELS} of {len(labels)} that differ most)"
        keep = np.sort(np.argsort(-np.abs(ref - cur))[:MAX_LABELS])
        ref, cur = ref[keep], cur[keep]
        labels, lower = [labels[i] for i in keep], [lower[i] for i in keep]
    top = max(float(ref.max(initial=0)), float(cur.max(initial=0)), 1e-12)
    slot = (WIDTH - 2 * PAD) / max(len(labels), 1)
    base = HEIGHT - BOTTOM
    marks = []
    for i, (r, c) in enumerate(zip(ref, cur, strict=True)):
        x = PAD + i * slot
        for offset, value, color in ((0.1, r, REF_COLOR), (0.5, c, CUR_COLOR)):
            h = (base - PAD) * float(value) / top
            marks.append(
                f"<rect x='{x + offset * slot:.1f}' y='{base - h:.1f}' "
                f"width='{0.4 * slot:.1f}' height='{h:.1f}' fill='{color}'>"
                f"<title>{html.escape(labels[i])}: ref {r:.1%}, cur {c:.1%}</title></rect>"
            )
        if numeric:  # a bin is named by its lower edge, written at its left boundary
            edge = lower[i]
            if edge is not None:
                marks.append(_tick_label(x, _num(edge)))
        else:
            marks.append(_tick_label(x + slot / 2, _short(labels[i])))
    marks += [_y_label(PAD, f"{top:.0%}"), _y_label(base, "0")]
    return _svg(title, marks)


def _ecdf(plot: PlotData) -> str:
    from driftline.drift._feature_task import QUANTILE_LEVELS

    lo = float(min(plot.ref_quantiles[0], plot.cur_quantiles[0]))
    hi = float(max(plot.ref_quantiles[-1], plot.cur_quantiles[-1]))
    span = hi - lo or 1.0
    base = HEIGHT - BOTTOM
    marks = []
    for values, color in ((plot.ref_quantiles, REF_COLOR), (plot.cur_quantiles, CUR_COLOR)):
        # each curve spans the whole axis: 0 before its minimum, 1 after its maximum
        xs = [lo, *(float(v) for v in values), hi]
        qs = [0.0, *(float(q) for q in QUANTILE_LEVELS), 1.0]
        points = " ".join(
            f"{PAD + (WIDTH - 2 * PAD) * (v - lo) / span:.1f},{base - (base - PAD) * q:.1f}"
            for v, q in zip(xs, qs, strict=True)
        )
        marks.append(f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{points}'/>")
    for share, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        x = PAD + (WIDTH - 2 * PAD) * share
        marks.append(
            f"<text x='{x:.1f}' y='{base + 14}' font-size='10' text-anchor='{anchor}'>"
            f"{_num(lo + span * share)}</text>"
        )
    marks += [_y_label(PAD, "1"), _y_label(base, "0")]
    return _svg("empirical CDF", marks)


def _tick_label(x: float, text: str) -> str:
    """An x-axis label below the axis, turned 45 degrees so that neighbours never overlap."""
    y = HEIGHT - BOTTOM + 10
    return (
        f"<text x='{x:.1f}' y='{y}' font-size='9' text-anchor='end' "
        f"transform='rotate(-45 {x:.1f} {y})'>{html.escape(text)}</text>"
    )


def _y_label(y: float, text: str) -> str:
    return (
        f"<text x='{PAD - 4}' y='{y + 3:.1f}' font-size='9' text-anchor='end'>"
        f"{html.escape(text)}</text>"
    )


def _short(label: str, size: int = 12) -> str:
    return label if len(label) <= size else label[: size - 1] + "\u2026"


def _svg(title: str, body: list[str]) -> str:
    base = HEIGHT - BOTTOM
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
        f"role='img' aria-label='{title}'><text x='{PAD}' y='16' font-size='12'>{title}</text>"
        f"<line x1='{PAD}' y1='{base}' x2='{WIDTH - PAD}' y2='{base}' "
        f"stroke='#999'/>{''.join(body)}</svg>"
    )


def _bin_labels(edges: np.ndarray) -> list[str]:
    bounds = ["-inf", *(_num(float(e)) for e in edges), "inf"]
    return [f"[{a}, {b})" for a, b in itertools.pairwise(bounds)]


def _anchor(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name)


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
