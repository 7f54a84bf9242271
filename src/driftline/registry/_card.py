"""Model cards: a Markdown (and HTML) document per version, generated from the records.

Everything in a card is read from the registry, the dataset and quality tables, the lineage
graph and the alias history, so a governance review needs no hand-written document.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import or_, select

from driftline._canonical import loads
from driftline.store._dataset_tables import dataset_versions, quality_results
from driftline.store._registry_tables import model_alias_history
from driftline.store._training_tables import training_runs

if TYPE_CHECKING:
    from driftline.registry._records import ModelVersion
    from driftline.registry._registry import Registry

__all__ = ["card_html", "card_markdown"]

_TEMPLATES = Path(__file__).parent / "templates"


def card_markdown(registry: Registry, version: ModelVersion) -> str:
    """The model card of ``version`` as Markdown."""
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["metric"] = _metric
    return env.get_template("card.md.j2").render(**_context(registry, version))


def card_html(registry: Registry, version: ModelVersion) -> str:
    """The model card as one self-contained HTML page (no external assets)."""
    markdown = card_markdown(registry, version)
    body = "\n".join(_html_line(line) for line in _tables_to_html(markdown.splitlines()))
    title = html.escape(f"Model card: {version.name} version {version.version}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def _context(registry: Registry, version: ModelVersion) -> dict[str, Any]:
    with registry.store.read() as conn:
        dataset = _one(
            conn,
            select(dataset_versions).where(dataset_versions.c.id == version.dataset_version_id),
        )
        quality = _one(
            conn,
            select(quality_results)
            .where(quality_results.c.dataset_version_id == version.dataset_version_id)
            .order_by(quality_results.c.created_at.desc())
            .limit(1),
        )
        run = _one(conn, select(training_runs).where(training_runs.c.id == version.run_id))
        history = (
            conn.execute(
                select(model_alias_history)
                .where(
                    model_alias_history.c.name == version.name,
                    or_(
                        model_alias_history.c.from_version == version.version,
                        model_alias_history.c.to_version == version.version,
                    ),
                )
                .order_by(model_alias_history.c.time, model_alias_history.c.id)
            )
            .mappings()
            .all()
        )
    metrics = {k: v for k, v in version.metrics.items() if k != "per_slice"}
    per_slice = version.metrics.get("per_slice") or {}
    return {
        "v": version,
        "dataset": dataset,
        "quality": quality,
        "run": _run_view(run),
        "metrics": metrics,
        "per_slice": per_slice,
        "slice_metrics": sorted(metrics)[:6],
        "profile": _profile(registry, version),
        "lineage": _lineage(registry, version),
        "history": history,
    }


def _one(conn: Any, query: Any) -> Any:
    return conn.execute(query).mappings().first()


def _run_view(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {**row, "params": loads(row["params"]), "environment": loads(row["environment"])}


def _profile(registry: Registry, version: ModelVersion) -> list[dict[str, Any]]:
    if not version.reference_profile_sha256:
        return []
    data = loads(registry.artifacts.get_bytes(version.reference_profile_sha256))
    return [_feature(name, f) for name, f in data.get("features", {}).items()]


def _feature(name: str, f: dict[str, Any]) -> dict[str, Any]:
    kind, count = f.get("kind", "?"), f.get("count", 0)
    if kind == "numeric" and count:
        std = math.sqrt(f["m2"] / (count - 1)) if count > 1 else 0.0
        summary = (
            f"mean {f['mean']:.4g}, std {std:.4g}, range {f['minimum']:.4g} .. {f['maximum']:.4g}"
        )
    elif kind == "categorical":
        pairs = sorted(
            zip(f.get("counts", []), f.get("categories", []), strict=False), reverse=True
        )[:5]
        summary = ", ".join(f"{c} ({n})" for n, c in pairs)
    else:
        summary = ""
    return {
        "name": name,
        "kind": kind,
        "count": count,
        "missing": f.get("missing", 0),
        "summary": summary,
    }


def _lineage(registry: Registry, version: ModelVersion) -> list[Any]:
    if registry.lineage is None:
        return []
    graph = registry.lineage.upstream(version.id)
    return [node for node in graph.nodes if node.id != version.id]


def _metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def _tables_to_html(lines: list[str]) -> list[str]:
    out: list[str] = []
    rows: list[list[str]] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= {"-"} for c in cells):
                rows.append(cells)
            continue
        if rows:
            head, *body = rows
            out.append(
                "<table><tr>"
                + "".join(f"<th>{_inline(c)}</th>" for c in head)
                + "</tr>"
                + "".join(
                    "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body
                )
                + "</table>"
            )
            rows = []
        out.append(line)
    return out


def _html_line(line: str) -> str:
    if line.startswith("<table>"):
        return line
    for level in (3, 2, 1):
        prefix = "#" * level + " "
        if line.startswith(prefix):
            return f"<h{level}>{_inline(line[len(prefix) :])}</h{level}>"
    if line.startswith("- "):
        return f"<li>{_inline(line[2:])}</li>"
    return f"<p>{_inline(line)}</p>" if line.strip() else ""


def _inline(text: str) -> str:
    escaped = html.escape(text)
    parts = escaped.split("`")
    escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = escaped.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;"
    "padding:.25rem .5rem;text-align:left}code{background:#f4f4f4;padding:0 .2rem}"
)
