"""Export driftline alert rules as a Prometheus alerting-rules file (``promtool check rules``)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from driftline.exceptions import ValidationError
from driftline.monitoring._durations import format_duration
from driftline.monitoring.catalogue import CATALOGUE, MetricCatalogue
from driftline.monitoring.rules import AlertRule, template_parts

# A literal brace next to an action would read as a template delimiter: emit it quoted.
_QUOTED = {"{": '{{ "{" }}', "}": '{{ "}" }}'}

__all__ = ["prometheus_expr", "prometheus_rule", "prometheus_rules", "write_prometheus_rules"]


def prometheus_expr(rule: AlertRule, catalogue: MetricCatalogue = CATALOGUE) -> str:
    """The PromQL that holds exactly when ``rule``'s comparison does.

    >>> from driftline.monitoring import presets
    >>> prometheus_expr(presets.feature_drift(threshold=0.2, model="fraud"))
    'driftline_feature_drift_score{model="fraud"} > 0.2'
    """
    rule.check(catalogue)
    spec = catalogue.get(rule.metric)
    selector = spec.selector(rule.matchers)
    if spec.kind == "derived":
        selector = f"({selector})"
    expr = f"{selector} {rule.op} {rule.threshold!r}"
    catalogue.check_promql(expr, where=f"rule {rule.name!r}")
    return expr


def _go_template(rule: AlertRule, template: str) -> str:
    out = []
    for kind, text in template_parts(template):
        if kind == "text":
            out.append("".join(_QUOTED.get(char, char) for char in text))
        elif text == "value":
            out.append('{{ printf "%.4g" $value }}')
        elif text == "threshold":
            out.append(f"{rule.threshold:.4g}")
        elif text == "rule":
            out.append(rule.name)
        elif text == "metric":
            out.append(rule.metric)
        else:
            out.append(f"{{{{ $labels.{text.removeprefix('labels.')} }}}}")
    return "".join(out)


def prometheus_rule(rule: AlertRule, catalogue: MetricCatalogue = CATALOGUE) -> dict[str, Any]:
    """One ``alert:`` entry: expr, ``for``, labels (with severity) and annotations."""
    annotations = {"summary": rule.default_summary(), **rule.annotations}
    return {
        "alert": rule.name,
        "expr": prometheus_expr(rule, catalogue),
        "for": format_duration(rule.for_duration),
        "labels": {**rule.labels, "severity": rule.severity},
        "annotations": {k: _go_template(rule, v) for k, v in sorted(annotations.items())},
    }


def prometheus_rules(
    rules: Iterable[AlertRule],
    *,
    group: str = "driftline",
    interval: str | None = None,
    catalogue: MetricCatalogue = CATALOGUE,
) -> dict[str, Any]:
    """The rules file as data: one group named ``group`` holding every rule."""
    entries = [prometheus_rule(rule, catalogue) for rule in rules]
    names = [e["alert"] for e in entries]
    if len(set(names)) != len(names):
        raise ValidationError("prometheus rules: two rules share a name")
    body: dict[str, Any] = {"name": group}
    if interval is not None:
        body["interval"] = interval
    body["rules"] = entries
    return {"groups": [body]}


def write_prometheus_rules(
    rules: Iterable[AlertRule], path: str | os.PathLike[str], **kwargs: Any
) -> Path:
    """Write the rules file to ``path`` (YAML) and return the path."""
    out = Path(path)
    data = prometheus_rules(rules, **kwargs)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)
    out.write_text(text, encoding="utf-8")
    return out
