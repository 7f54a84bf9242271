"""Alert rules in YAML: read them with errors that name the file, the rule and the key."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from driftline.exceptions import ValidationError
from driftline.monitoring._yaml_files import read_yaml
from driftline.monitoring.catalogue import CATALOGUE, MetricCatalogue
from driftline.monitoring.rules import AlertRule

__all__ = ["dump_rules", "load_rules", "rules_from_data"]

_ALLOWED = frozenset(
    ("name", "metric", "op", "threshold", "for", "severity", "matchers", "labels", "annotations")
)
_REQUIRED = ("name", "metric", "op", "threshold")


def load_rules(
    path: str | os.PathLike[str], *, catalogue: MetricCatalogue | None = CATALOGUE
) -> list[AlertRule]:
    """Read the rules in the YAML file at ``path`` (``rules:`` list, or a bare list).

    Each rule is checked against ``catalogue`` unless it is None. Errors name the file, the
    rule and the key::

        rules:
          - name: FeatureDrift
            metric: driftline_feature_drift_score
            matchers: {model: fraud}
            op: ">"
            threshold: 0.2
            for: 10m
            severity: warning
            labels: {team: ml}
            annotations: {summary: "{labels.feature} drifted ({value})"}
    """
    data = read_yaml(path, "rules")
    return rules_from_data(data, source=str(Path(path)), catalogue=catalogue)


def rules_from_data(
    data: Any, *, source: str = "rules", catalogue: MetricCatalogue | None = CATALOGUE
) -> list[AlertRule]:
    """Rules from parsed YAML/JSON data: ``{"rules": [...]}`` or a list of rule mappings."""
    items = data.get("rules") if isinstance(data, Mapping) else data
    if isinstance(data, Mapping) and set(data) - {"rules"}:
        extra = sorted(set(data) - {"rules"})[0]
        raise ValidationError(f"{source}: unknown top-level key {extra!r}; expected 'rules'")
    if not isinstance(items, list):
        raise ValidationError(f"{source}: expected a list of rules under 'rules:'")
    rules, seen = [], set()
    for index, item in enumerate(items):
        rule = _one(item, f"{source}: rules[{index}]")
        if rule.name in seen:
            raise ValidationError(f"{source}: rule {rule.name!r} is defined twice")
        seen.add(rule.name)
        if catalogue is not None:
            try:
                rule.check(catalogue)
            except ValidationError as exc:
                raise ValidationError(f"{source}: {exc}") from None
        rules.append(rule)
    return rules


def dump_rules(rules: Iterable[AlertRule], path: str | os.PathLike[str] | None = None) -> str:
    """The YAML text of ``rules`` (written to ``path`` when given); load_rules reads it back."""
    text = yaml.safe_dump(
        {"rules": [rule.to_dict() for rule in rules]}, sort_keys=False, allow_unicode=True
    )
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _one(item: Any, where: str) -> AlertRule:
    if not isinstance(item, Mapping):
        raise ValidationError(f"{where}: a rule is a mapping of keys, got {item!r}")
    name = item.get("name")
    label = f"{where} (rule {name!r})" if isinstance(name, str) else where
    unknown = sorted(str(k) for k in set(item) - _ALLOWED)
    if unknown:
        raise ValidationError(
            f"{label}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(_ALLOWED))}"
        )
    missing = [key for key in _REQUIRED if key not in item]
    if missing:
        raise ValidationError(f"{label}: missing key {missing[0]!r}")
    for key in ("matchers", "labels", "annotations"):
        if key in item and not isinstance(item[key], Mapping):
            raise ValidationError(f"{label}: key {key!r} must be a mapping")
    kwargs = {("for_" if k == "for" else k): v for k, v in item.items()}
    try:
        return AlertRule(**_stringify(kwargs))
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None


def _stringify(kwargs: dict[str, Any]) -> dict[str, Any]:
    # YAML reads `version: 3` as an int; label values are strings in Prometheus too.
    for key in ("matchers", "labels"):
        if key in kwargs:
            kwargs[key] = {
                k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for k, v in kwargs[key].items()
            }
    return kwargs
