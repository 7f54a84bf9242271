"""Suites as YAML: parsing with line numbers for every error, and writing back."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from driftline.exceptions import NotFoundError, UnavailableError, ValidationError
from driftline.quality._base import Check, closest
from driftline.quality.categories import AllowedValues
from driftline.quality.completeness import Completeness
from driftline.quality.custom import Custom
from driftline.quality.freshness import Freshness
from driftline.quality.ranges import ValueRange
from driftline.quality.referential import Referential
from driftline.quality.regex import Regex
from driftline.quality.row_count import RowCount
from driftline.quality.schema import Schema
from driftline.quality.uniqueness import Uniqueness

if TYPE_CHECKING:
    from driftline.quality.suite import Suite

__all__ = ["CHECK_TYPES", "dump_suite", "load_suite"]

CHECK_TYPES: dict[str, type[Check]] = {
    cls.kind: cls
    for cls in (
        Completeness,
        Schema,
        ValueRange,
        AllowedValues,
        Uniqueness,
        Regex,
        RowCount,
        Freshness,
        Referential,
        Custom,
    )
}
_TOP_KEYS = ("checks", "scoring", "empty_is_missing", "missing_markers")


def _read(source: str | Path) -> tuple[str, str]:
    """(text, name for messages) from YAML text or a path."""
    if isinstance(source, str) and not (
        "\n" not in source and source.strip().lower().endswith((".yaml", ".yml"))
    ):
        return source, "suite YAML"
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise NotFoundError(f"suite file {str(path)!r} does not exist") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"suite file {str(path)!r} is not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise UnavailableError(f"suite file {str(path)!r} cannot be read: {exc}") from None


def _parse(text: str, name: str) -> tuple[yaml.Node | None, Any]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ValidationError(f"{name}{where}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"{name}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value}


def _value_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _build(
    cls: type[Check],
    params: Mapping[str, Any],
    lines: Mapping[str, int],
    where: str,
    functions: Mapping[str, Callable[..., Any]],
) -> Check:
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.name != "fn"}
    for key in params:
        if key not in fields:
            at = f" (line {lines[key]})" if key in lines else ""
            raise ValidationError(
                f"{where}: unknown key {key!r}{at}{closest(str(key), fields)}; "
                f"keys of {cls.kind}: {', '.join(fields)}"
            )
    required = [
        n
        for n, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    absent = [n for n in required if n not in params]
    if absent:
        raise ValidationError(
            f"{where}: missing key {absent[0]!r} (required: {', '.join(required)})"
        )
    kwargs = dict(params)
    if cls is Custom:
        name = str(kwargs.get("name"))
        if name not in functions:
            raise ValidationError(
                f"{where}: no function for custom check {name!r}; "
                f"pass functions={{{name!r}: fn}} to Suite.from_yaml"
            )
        kwargs["fn"] = functions[name]
    try:
        return cls(**kwargs)
    except (ValidationError, TypeError) as exc:
        raise ValidationError(f"{where}: {exc}") from None


def _checks(
    node: yaml.Node | None, data: Any, name: str, functions: Mapping[str, Callable[..., Any]]
) -> tuple[list[Check], list[int]]:
    if not isinstance(data, list):
        at = f" line {node.start_mark.line + 1}" if node is not None else ""
        raise ValidationError(f"{name}{at}: 'checks' must be a list of checks")
    checks: list[Check] = []
    lines: list[int] = []
    items = node.value if isinstance(node, yaml.SequenceNode) else [None] * len(data)
    for i, (item, item_node) in enumerate(zip(data, items, strict=True), 1):
        line = item_node.start_mark.line + 1 if item_node is not None else 0
        where = f"{name} line {line}: check {i}"
        if not isinstance(item, Mapping) or len(item) != 1:
            raise ValidationError(
                f"{where}: write each check as '- kind: {{key: value, ...}}', e.g. "
                "'- completeness: {column: age, max_missing: 0.01}'"
            )
        ((kind, params),) = item.items()
        if kind not in CHECK_TYPES:
            raise ValidationError(
                f"{where}: unknown check {kind!r}{closest(str(kind), CHECK_TYPES)}; "
                f"checks: {', '.join(CHECK_TYPES)}"
            )
        params = {} if params is None else params
        if not isinstance(params, Mapping):
            raise ValidationError(f"{where} {kind!r}: its keys must be a mapping")
        key_lines = _key_lines(_value_node(item_node, kind))
        checks.append(_build(CHECK_TYPES[kind], params, key_lines, f"{where} {kind!r}", functions))
        lines.append(line)
    return checks, lines


def load_suite(source: str | Path, *, functions: Mapping[str, Callable[..., Any]]) -> Suite:
    """Parse a suite; every error names the file, the line and the check or key at fault."""
    from driftline.quality.suite import Suite

    text, name = _read(source)
    root, data = _parse(text, name)
    if data is None:
        raise ValidationError(f"{name}: the suite is empty; it needs a 'checks' list")
    if not isinstance(data, Mapping):
        raise ValidationError(f"{name}: expected a mapping with a 'checks' list at the top level")
    top_lines = _key_lines(root)
    for key in data:
        if key not in _TOP_KEYS:
            raise ValidationError(
                f"{name} line {top_lines.get(str(key), 0)}: unknown key {key!r}"
                f"{closest(str(key), _TOP_KEYS)}; top-level keys: {', '.join(_TOP_KEYS)}"
            )
    checks, lines = _checks(_value_node(root, "checks"), data.get("checks", []), name, functions)
    settings = {k: data[k] for k in ("scoring", "empty_is_missing", "missing_markers") if k in data}
    for key, value in settings.items():
        try:
            Suite([], **{key: value})
        except ValidationError as exc:
            raise ValidationError(f"{name} line {top_lines.get(key, 0)}: {exc}") from None
    suite = Suite(checks, **settings)
    object.__setattr__(suite, "_lines", tuple(lines))
    object.__setattr__(suite, "_source", name)
    return suite


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((_plain(v) for v in value), key=lambda v: (type(v).__name__, v))
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()  # a plain string, not a !!timestamp tag
    if hasattr(value, "item") and callable(value.item):
        return value.item()  # numpy scalar
    return value


def dump_suite(suite: Suite) -> str:
    """The suite as YAML that :func:`load_suite` reads back to an equal suite."""
    data: dict[str, Any] = {"scoring": suite.scoring, "empty_is_missing": suite.empty_is_missing}
    if suite.missing_markers:
        data["missing_markers"] = _plain(suite.missing_markers)
    data["checks"] = [{check.kind: _plain(check.to_config())} for check in suite.checks]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)
