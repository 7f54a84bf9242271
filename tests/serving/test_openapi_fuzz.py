"""Requests generated from the server's own OpenAPI document never get a 5xx."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TOKEN = "fuzz-token"

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
NAMES = ["date", "day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like ``schema`` most of the time, anything JSON some of the time."""
    if depth > 3:
        return JSON
    kind = schema.get("type")
    if "enum" in schema:
        shaped: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif kind == "object" and "properties" in schema:
        props = {k: from_schema(v, depth + 1) for k, v in schema["properties"].items()}
        shaped = st.fixed_dictionaries({}, optional=props)
    elif kind == "object":
        keys = st.sampled_from(NAMES) | st.text(max_size=6)
        shaped = st.dictionaries(
            keys, from_schema(schema.get("additionalProperties", {}), depth + 1), max_size=9
        )
    elif kind == "array":
        shaped = st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=5)
    elif kind == "string":
        shaped = st.text(max_size=10) | st.sampled_from(NAMES)
    elif kind in ("number", "integer"):
        shaped = st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
    else:  # unconstrained: rows of numbers are the interesting case for a model server
        shaped = st.fixed_dictionaries({}, optional={n: st.floats(-1, 2) | JSON for n in NAMES})
    return shaped | JSON


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            out.append((method.upper(), path, op))
    return out


@st.composite
def requests(draw: Any, ops: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    method, path, op = draw(st.sampled_from(ops))
    segment = st.sampled_from(["elec", "1", "2", "99", "nope"]) | st.text(
        st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"),
        min_size=1,
        max_size=6,
    )
    url = re.sub(r"{\w+}", lambda _: draw(segment), path)
    headers = {}
    if path.startswith("/v1/admin") and draw(st.booleans()):
        headers["authorization"] = f"Bearer {TOKEN}"
    content = None
    if method in ("POST", "PUT"):
        body = op.get("requestBody", {}).get("content", {})
        schema = body.get("application/json", {}).get("schema", {})
        kind = draw(st.sampled_from(["json", "json", "json", "csv", "bytes"]))
        if kind == "json":
            content = httpx.Request("POST", "/", json=draw(from_schema(schema))).content
            headers["content-type"] = draw(
                st.sampled_from(["application/json", "application/octet-stream", "text/plain"])
            )
        elif kind == "csv":
            rows = draw(
                st.lists(
                    st.lists(st.floats(-1, 2) | st.text(max_size=3), min_size=8, max_size=8),
                    max_size=3,
                )
            )
            lines = [",".join(NAMES), *(",".join(map(str, r)) for r in rows)]
            content = "\n".join(lines).encode()
            headers["content-type"] = "text/csv"
        else:
            content = draw(st.binary(max_size=40))
    return {"method": method, "url": url, "headers": headers, "content": content}


def test_generated_requests_never_get_a_5xx(models: Any, make_app: Any) -> None:
    models.ws.settings = models.ws.settings.model_copy(update={"admin_token": TOKEN})
    app = make_app(["models:/elec@champion", "models:/elec/2"])
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fuzz")
    try:
        loop.run_until_complete(app.state.server.wait_ready())
        ops = operations(app.openapi())
        assert len(ops) >= 20  # every protocol is in the document
        seen: list[int] = []

        @settings(
            max_examples=250,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(requests(ops))
        def check(request: dict[str, Any]) -> None:
            response = loop.run_until_complete(client.request(**request))
            seen.append(response.status_code)
            assert response.status_code < 500, (request, response.status_code, response.text)

        check()
        assert any(code == 200 for code in seen) and any(400 <= code < 500 for code in seen)
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.close()
