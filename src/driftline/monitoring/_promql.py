"""Just enough PromQL: quote label matchers, and find the metric names an expression reads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["label_matchers", "metric_names_in", "quote"]

_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENT = re.compile(r"(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "inf", "nan", "start", "end", "atan2"}
)


def quote(value: str) -> str:
    """``value`` as a PromQL double-quoted string.

    >>> quote('a"b')
    '"a\\\\"b"'
    """
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def label_matchers(matchers: Mapping[str, str], extra: Iterable[str] = ()) -> str:
    """The inside of a ``{...}`` selector: ``extra`` matchers, then ``name="value"`` pairs.

    >>> label_matchers({"model": "fraud"}, ['status=~"5.."'])
    'status=~"5..",model="fraud"'
    """
    parts = [*extra, *(f"{name}={quote(value)}" for name, value in sorted(matchers.items()))]
    return ",".join(parts)


def metric_names_in(expr: str) -> set[str]:
    """The metric names an expression selects (functions, keywords and labels left out).

    >>> sorted(metric_names_in(
    ...     'sum by (model) (rate(a_total{x="b_total"}[5m])) / on (model) c offset 5m'))
    ['a_total', 'c']
    """
    text = _STRINGS.sub('""', expr)
    previous = None
    while previous != text:  # subqueries nest brackets; strip innermost first
        previous = text
        text = _BRACKETS.sub(" ", _BRACES.sub(" ", text))
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match.group().lower() in _KEYWORDS:
            continue
        names.add(match.group())
    return names
