"""The vendored OpenLineage JSON schemas (and driftline's own facet schemas), loaded once.

``openlineage_spec/`` holds the core spec and the standard facets copied unchanged from the
OpenLineage repository (Apache-2.0, see its LICENSE and README). ``driftline_facets/`` holds
the schemas of the custom ``driftline_*`` facets. Facets are looked up by name and by where
they sit in an event, because some names (``dataQualityMetrics``, ``tags``, ``ownership``,
``documentation``) exist once per place.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "CORE_ID",
    "PLACES",
    "RUN_EVENT_URL",
    "FacetSchema",
    "catalog",
    "facet_schema",
    "format_checker",
]

SPEC_DIR = Path(__file__).parent / "openlineage_spec"
CUSTOM_DIR = Path(__file__).parent / "driftline_facets"
CORE_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
RUN_EVENT_URL = f"{CORE_ID}#/$defs/RunEvent"

# Where a facet can sit in a run event, and the base facet type each place expects.
PLACES = {
    "run": "RunFacet",
    "job": "JobFacet",
    "dataset": "DatasetFacet",
    "input": "InputDatasetFacet",
    "output": "OutputDatasetFacet",
}

_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:(?P<sec>\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


@dataclass(frozen=True)
class FacetSchema:
    """One facet schema file: the facet name it defines and where that facet may sit."""

    name: str
    file: str
    schema_id: str
    definition: str
    places: frozenset[str]
    contents: dict[str, Any]

    @property
    def schema_url(self) -> str:
        """The ``_schemaURL`` a facet of this type carries."""
        return f"{self.schema_id}#/$defs/{self.definition}"


@dataclass(frozen=True)
class Catalog:
    """The loaded schemas: the core spec, facets by name, and a ``referencing`` registry."""

    core: dict[str, Any]
    facets: dict[str, tuple[FacetSchema, ...]]
    registry: Any


def _places_of(contents: dict[str, Any], name: str) -> tuple[str, frozenset[str]]:
    """The facet's top definition and the places its base facet types allow."""
    entry = contents["properties"][name]
    refs = [entry["$ref"]] if "$ref" in entry else [alt["$ref"] for alt in entry["anyOf"]]
    definitions = [ref.split("/")[-1] for ref in refs]
    places: set[str] = set()
    todo = list(definitions)
    while todo:
        body = contents["$defs"][todo.pop()]
        parts = [*body.get("allOf", []), *body.get("anyOf", []), *body.get("oneOf", [])]
        for part in parts:
            target = part.get("$ref", "")
            base = target.split("/")[-1]
            if target.startswith(CORE_ID):
                places.update(p for p, kind in PLACES.items() if kind == base)
            elif target.startswith("#/$defs/"):
                todo.append(base)
    return definitions[0], frozenset(places)


def _facet_files() -> list[Path]:
    return sorted((SPEC_DIR / "facets").glob("*.json")) + sorted(CUSTOM_DIR.glob("*.json"))


@functools.cache
def catalog() -> Catalog:
    """Load every schema once (they are read-only package data)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    core = json.loads((SPEC_DIR / "OpenLineage.json").read_text(encoding="utf-8"))
    resources = [(CORE_ID, Resource.from_contents(core, default_specification=DRAFT202012))]
    facets: dict[str, list[FacetSchema]] = {}
    for path in _facet_files():
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012))
        )
        for name in contents["properties"]:
            definition, places = _places_of(contents, name)
            facets.setdefault(name, []).append(
                FacetSchema(name, path.name, contents["$id"], definition, places, contents)
            )
    registry = Registry().with_resources(resources)
    return Catalog(core, {k: tuple(v) for k, v in facets.items()}, registry)


def facet_schema(name: str, place: str) -> FacetSchema | None:
    """The schema for facet ``name`` at ``place`` (see :data:`PLACES`), if there is one.

    Where the name is defined once, that schema applies wherever the facet sits (the core
    schema already checks the base facet fields); where it is defined for several places,
    the one for ``place`` is chosen.
    """
    candidates = catalog().facets.get(name, ())
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    for candidate in candidates:
        if place in candidate.places:
            return candidate
    return candidates[0]


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.fullmatch(value)
    if not match:
        return False
    # RFC 3339 allows a leap second (:60), which datetime cannot hold.
    text = value if match["sec"] != "60" else value[:17] + "59" + value[19:]
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        return False
    scheme = urlsplit(value).scheme if ":" in value else ""
    return bool(scheme) and bool(_SCHEME.fullmatch(scheme)) and value[len(scheme) + 1 :] != ""


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36 and all(value[i] == "-" for i in (8, 13, 18, 23))


@functools.cache
def format_checker() -> Any:
    """A format checker for the formats the spec uses: date-time, uri and uuid.

    Written here rather than taken from jsonschema's optional extras, so that formats are
    always checked, whatever else is installed.
    """
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    checker.checks("uuid")(_is_uuid)
    return checker
