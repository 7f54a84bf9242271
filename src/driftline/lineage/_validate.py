"""Validate OpenLineage run events against the vendored schemas, one event or a whole file.

An event is checked against ``OpenLineage.json#/$defs/RunEvent`` (not the root, whose
``oneOf`` would also accept a job event), then every facet again against its own schema file,
chosen by facet name and place. A file (JSON lines, a JSON array, or concatenated JSON
objects) is also checked for the spec's run order: one START, then at most one COMPLETE,
FAIL or ABORT per ``runId``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftline.exceptions import NotFoundError, ValidationError
from driftline.lineage._spec import RUN_EVENT_URL, catalog, facet_schema, format_checker

__all__ = ["EventCheck", "SchemaProblem", "ValidationReport", "validate_event", "validate_file"]

_TERMINAL = {"COMPLETE", "FAIL", "ABORT"}
_EVENT_TYPE_RULE = "OpenLineage.json#/$defs/RunEvent/allOf/1/properties/eventType"


@dataclass(frozen=True)
class SchemaProblem:
    """One way an event breaks the spec: where in the event, which schema rule, and why."""

    path: str
    schema_path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict of every field."""
        return {"path": self.path, "schema_path": self.schema_path, "message": self.message}


@dataclass(frozen=True)
class EventCheck:
    """The outcome for one event of a file; ``problems[0]`` is the most relevant one."""

    index: int
    line: int
    run_id: str | None
    event_type: str | None
    problems: tuple[SchemaProblem, ...] = ()
    unchecked_facets: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        """Whether the event broke no rule."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {
            "index": self.index,
            "line": self.line,
            "run_id": self.run_id,
            "event_type": self.event_type,
            "valid": self.valid,
            "problems": [problem.to_dict() for problem in self.problems],
            "unchecked_facets": list(self.unchecked_facets),
        }


@dataclass(frozen=True)
class ValidationReport:
    """The outcome for a whole file of events."""

    source: str
    events: tuple[EventCheck, ...] = field(default=())

    @property
    def valid(self) -> bool:
        """Whether every event is valid."""
        return all(event.valid for event in self.events)

    @property
    def invalid(self) -> tuple[EventCheck, ...]:
        """The events that broke a rule."""
        return tuple(event for event in self.events if not event.valid)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: counts, and every invalid event with its problems."""
        return {
            "source": self.source,
            "valid": self.valid,
            "events": len(self.events),
            "invalid": len(self.invalid),
            "errors": [event.to_dict() for event in self.invalid],
        }


def _pointer(parts: Any) -> str:
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).isidentifier():
            out += f".{part}"
        else:
            out += "[" + repr(str(part)) + "]"
    return out


def _contains(error: Any, target: Any) -> bool:
    return error is target or any(_contains(child, target) for child in error.context or ())


def _problems(errors: list[Any], prefix: tuple[Any, ...], schema_base: str) -> list[SchemaProblem]:
    """Errors as problems, the most relevant (jsonschema's best_match) first."""
    from jsonschema.exceptions import best_match

    if not errors:
        return []
    best = best_match(errors)
    # best_match stops at an anyOf whose branch failed in several equal ways; the spec's
    # anyOfs have one branch, so the error inside it names the real place and rule.
    while best.context and len({e.relative_schema_path[0] for e in best.context}) == 1:
        best = best_match(best.context)
    ordered = [best, *(e for e in errors if not _contains(e, best))]
    return [
        SchemaProblem(
            path=_json_path((*prefix, *error.absolute_path)),
            schema_path=f"{schema_base}/{_pointer(error.absolute_schema_path)}".rstrip("/"),
            message=error.message,
        )
        for error in ordered
    ]


def _validator(schema: Mapping[str, Any]) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(
        schema, registry=catalog().registry, format_checker=format_checker()
    )


def _facet_places(event: Mapping[str, Any]) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
    """(path to a facets object, place, the object) for every facets object in the event."""
    for key, place in (("run", "run"), ("job", "job")):
        holder = event.get(key)
        if isinstance(holder, Mapping):
            yield (key, "facets"), place, holder.get("facets")
    for key, own in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        datasets = event.get(key)
        if not isinstance(datasets, list):
            continue
        for index, dataset in enumerate(datasets):
            if isinstance(dataset, Mapping):
                yield (key, index, "facets"), "dataset", dataset.get("facets")
                yield (key, index, own), "input" if key == "inputs" else "output", dataset.get(own)


def _check_facets(event: Mapping[str, Any]) -> tuple[list[SchemaProblem], list[str]]:
    problems: list[SchemaProblem] = []
    unchecked: list[str] = []
    for prefix, place, facets in _facet_places(event):
        if not isinstance(facets, Mapping):
            continue
        for name, body in facets.items():
            schema = facet_schema(name, place)
            if schema is None:
                unchecked.append(f"{_json_path(prefix)}.{name}")
                continue
            # The file's root schema maps the facet name to its definition.
            errors = list(_validator(schema.contents).iter_errors({name: body}))
            problems.extend(_problems(errors, prefix, f"facets/{schema.file}#"))
    return problems, unchecked


def validate_event(event: Any) -> tuple[SchemaProblem, ...]:
    """Every way ``event`` breaks the RunEvent schema or a facet schema (empty: valid).

    >>> validate_event({"eventTime": "2024-01-01T00:00:00Z"})[0].message
    "'producer' is a required property"
    """
    return _check(event)[0]


def _check(event: Any) -> tuple[tuple[SchemaProblem, ...], tuple[str, ...]]:
    core = _validator({"$ref": RUN_EVENT_URL})
    # Schema paths are keyword paths as jsonschema reports them: a followed $ref is not
    # spelled out, so "RunEvent/allOf/1/properties/run/properties/runId" is Run's runId.
    problems = _problems(list(core.iter_errors(event)), (), "OpenLineage.json#/$defs/RunEvent")
    unchecked: list[str] = []
    if isinstance(event, Mapping):
        facet_problems, unchecked = _check_facets(event)
        problems.extend(facet_problems)
    return tuple(problems), tuple(unchecked)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"event file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ValidationError(f"cannot read event file {str(path)!r}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"event file {str(path)!r} is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


# (line, event) or (line, SchemaProblem) for text that is not JSON.
_Item = tuple[int, Any]


def _values(text: str) -> Iterator[_Item]:
    """Each JSON value in ``text`` with the line it starts on; an array is unpacked."""
    import json

    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    in_array = pos < len(text) and text[pos] == "["
    if in_array:
        pos = _skip_space(text, pos + 1)
    while pos < len(text):
        line = text.count("\n", 0, pos) + 1
        if in_array and text[pos] == "]":
            return
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield line, SchemaProblem("$", "", f"not JSON: {exc.msg} (line {exc.lineno})")
            if in_array:
                return
            # Resume at the next line, as a JSON lines reader would.
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else _skip_space(text, newline)
            continue
        yield line, value
        pos = _skip_space(text, pos)
        if in_array and pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)


def _order_problem(event: Any, line: int, seen: dict[str, tuple[str, int]]) -> SchemaProblem | None:
    """A breach of "one START, then one COMPLETE/FAIL/ABORT" for this event's runId."""
    if not isinstance(event, Mapping) or not isinstance(event.get("run"), Mapping):
        return None
    run_id, kind = event["run"].get("runId"), event.get("eventType")
    if not isinstance(run_id, str) or kind not in {"START", *_TERMINAL}:
        return None
    before = seen.get(run_id)
    if before is None:
        seen[run_id] = (kind, line)
        return None
    if before[0] in _TERMINAL:
        message = f"run {run_id} already ended with {before[0]} at line {before[1]}"
    elif kind == "START":
        message = f"a second START for run {run_id} (the first is at line {before[1]})"
    else:
        seen[run_id] = (kind, line)
        return None
    return SchemaProblem("$.eventType", _EVENT_TYPE_RULE, message)


def validate_file(path: str | os.PathLike[str]) -> ValidationReport:
    """Check every event in the file at ``path`` (JSON lines or a JSON array)."""
    source = Path(path)
    text = _read_text(source)
    checks: list[EventCheck] = []
    seen: dict[str, tuple[str, int]] = {}
    for index, (line, value) in enumerate(_values(text)):
        if isinstance(value, SchemaProblem):
            checks.append(EventCheck(index, line, None, None, (value,)))
            continue
        problems, unchecked = _check(value)
        order = _order_problem(value, line, seen)
        run = value.get("run") if isinstance(value, Mapping) else None
        run_id = run.get("runId") if isinstance(run, Mapping) else None
        kind = value.get("eventType") if isinstance(value, Mapping) else None
        checks.append(
            EventCheck(
                index,
                line,
                run_id if isinstance(run_id, str) else None,
                kind if isinstance(kind, str) else None,
                (*problems, *([order] if order else [])),
                unchecked,
            )
        )
    if not checks:
        raise ValidationError(f"event file {str(source)!r} holds no events (it is empty)")
    return ValidationReport(str(source), tuple(checks))
