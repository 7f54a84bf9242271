"""Alert rules: a metric, label matchers, a comparison with a threshold, and how long it holds."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from driftline.exceptions import ValidationError
from driftline.monitoring._durations import format_duration, parse_duration
from driftline.monitoring._series import check_labels, check_metric_name
from driftline.monitoring.catalogue import CATALOGUE, MetricCatalogue

__all__ = ["COMPARISONS", "SEVERITIES", "AlertRule"]

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
SEVERITIES = ("info", "warning", "critical")
_RULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
# {{ and }} are literal braces; {value}, {threshold}, {rule}, {metric}, {labels.NAME} fill in.
_TEMPLATE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_FIELD = re.compile(r"value|threshold|rule|metric|labels\.[A-Za-z_][A-Za-z0-9_]*")
_NO_VALUE = "<no value>"


@dataclass(frozen=True)
class AlertRule:
    """Alert when ``metric`` (matching ``matchers``) compares ``op`` ``threshold`` for ``for_``.

    Annotations are templates: ``{value}``, ``{threshold}``, ``{rule}``, ``{metric}`` and
    ``{labels.NAME}`` are filled in; ``{{`` and ``}}`` are literal braces.

    >>> rule = AlertRule("FeatureDrift", "driftline_feature_drift_score", ">", 0.2, for_="10m",
    ...                  annotations={"summary": "{labels.feature} drifted: {value}"})
    >>> rule.holds(0.25), rule.for_
    (True, datetime.timedelta(seconds=600))
    >>> rule.render("summary", {"feature": "age"}, 0.25)
    'age drifted: 0.25'
    """

    name: str
    metric: str
    op: str
    threshold: float
    for_: timedelta | str | float = timedelta(0)
    severity: str = "warning"
    matchers: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not _RULE_NAME.fullmatch(name):
            raise ValidationError(
                f"rule name {name!r} is not valid: use letters, digits and '_', "
                "not starting with a digit (it becomes Prometheus' alertname)"
            )
        where = f"rule {name!r}"
        _check(where, "metric", lambda: check_metric_name(self.metric))
        if self.op not in COMPARISONS:
            raise ValidationError(
                f"{where}: key 'op': {self.op!r} is not a comparison; use one of "
                f"{', '.join(COMPARISONS)}"
            )
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float):
            raise ValidationError(f"{where}: key 'threshold' must be a number")
        if not math.isfinite(self.threshold):
            raise ValidationError(f"{where}: key 'threshold' must be finite")
        if self.severity not in SEVERITIES:
            raise ValidationError(
                f"{where}: key 'severity': {self.severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        setattr_ = object.__setattr__
        setattr_(self, "threshold", float(self.threshold))
        setattr_(self, "for_", parse_duration(self.for_, what=f"{where}: key 'for'"))
        for key, limit in (("matchers", 500), ("labels", 500), ("annotations", 4000)):
            setattr_(self, key, _check_mapping(where, key, getattr(self, key), limit))
        for key, text in self.annotations.items():
            _check_template(where, key, text)

    @property
    def for_duration(self) -> timedelta:
        """``for_`` as a timedelta (it always is one after construction)."""
        if isinstance(self.for_, timedelta):
            return self.for_
        return parse_duration(self.for_)

    def holds(self, value: float) -> bool:
        """Whether ``value`` breaks the rule (the comparison is true)."""
        return COMPARISONS[self.op](value, self.threshold)

    def check(self, catalogue: MetricCatalogue = CATALOGUE) -> None:
        """Raise ValidationError if the metric or a matched label is not in ``catalogue``."""
        where = f"rule {self.name!r}"
        if self.metric not in catalogue:
            close = catalogue.closest(self.metric)
            hint = f"; did you mean {close!r}?" if close else ""
            raise ValidationError(f"{where}: unknown metric {self.metric!r}{hint}")
        spec = catalogue.get(self.metric)
        if spec.kind in ("histogram", "builtin"):
            raise ValidationError(
                f"{where}: metric {self.metric!r} is a {spec.kind}, not one value per series; "
                "alert on a derived series such as 'driftline_request_latency_p99_seconds'"
            )
        unknown = sorted(set(self.matchers) - set(spec.labels))
        if unknown:
            raise ValidationError(
                f"{where}: metric {self.metric!r} has no label {unknown[0]!r} "
                f"(its labels: {', '.join(spec.labels) or 'none'})"
            )

    def render(self, key: str, labels: Mapping[str, str], value: float | None) -> str:
        """Annotation ``key`` filled in for one alert (``summary`` has a default)."""
        template = self.annotations.get(key)
        if template is None:
            if key != "summary":
                return ""
            template = self.default_summary()
        return _fill(template, self._context(labels, value))

    def default_summary(self) -> str:
        """The summary template used when the rule gives none."""
        return f"{self.name}: {self.metric} is {{value}} ({self.op} {{threshold}})"

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form that :func:`driftline.monitoring.load_rules` reads back."""
        out: dict[str, Any] = {
            "name": self.name,
            "metric": self.metric,
            "op": self.op,
            "threshold": self.threshold,
            "for": format_duration(self.for_duration),
            "severity": self.severity,
        }
        for key in ("matchers", "labels", "annotations"):
            if getattr(self, key):
                out[key] = dict(getattr(self, key))
        return out

    def _context(self, labels: Mapping[str, str], value: float | None) -> dict[str, str]:
        context = {
            "value": _NO_VALUE if value is None else f"{value:.4g}",
            "threshold": f"{self.threshold:.4g}",
            "rule": self.name,
            "metric": self.metric,
        }
        context.update({f"labels.{k}": v for k, v in labels.items()})
        return context


def _check(where: str, key: str, make: Callable[[], Any]) -> Any:
    try:
        return make()
    except ValidationError as exc:
        raise ValidationError(f"{where}: key {key!r}: {exc}") from None


def _check_mapping(where: str, key: str, value: Any, limit: int) -> dict[str, str]:
    try:
        return check_labels(value, limit=limit)
    except ValidationError as exc:
        raise ValidationError(f"{where}: key {key!r}: {exc}") from None


def _check_template(where: str, key: str, text: str) -> None:
    for match in _TEMPLATE.finditer(text):
        token = match.group()
        if token in ("{{", "}}"):
            continue
        inner = match.group(1)
        if inner is None or not _FIELD.fullmatch(inner):
            raise ValidationError(
                f"{where}: annotation {key!r}: {token!r} is not a placeholder; use {{value}}, "
                "{threshold}, {rule}, {metric} or {labels.NAME} (and {{ }} for braces)"
            )


def _fill(template: str, context: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        token = match.group()
        if token in ("{{", "}}"):
            return token[0]
        return context.get(match.group(1) or "", _NO_VALUE)

    return _TEMPLATE.sub(one, template)


def template_parts(template: str) -> list[tuple[str, str]]:
    """``template`` as ``("text", ...)`` and ``("field", name)`` parts (for exporters)."""
    parts: list[tuple[str, str]] = []
    last = 0
    for match in _TEMPLATE.finditer(template):
        if match.start() > last:
            parts.append(("text", template[last : match.start()]))
        token = match.group()
        parts.append(("text", token[0]) if token in ("{{", "}}") else ("field", match.group(1)))
        last = match.end()
    if last < len(template):
        parts.append(("text", template[last:]))
    return parts
