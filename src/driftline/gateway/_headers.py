"""Header rewriting for the proxy: drop hop-by-hop headers, add forwarding headers."""

from __future__ import annotations

__all__ = ["HOP_BY_HOP", "request_headers", "response_headers"]

# RFC 9110 section 7.6.1: these describe one connection, never the message, so a proxy must
# not pass them on. Host and Content-Length are rebuilt for the upstream request.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Expect is dropped too: the gateway has read the whole body already.
_REBUILT = frozenset({b"host", b"content-length", b"expect"})

Headers = list[tuple[bytes, bytes]]


def _connection_tokens(headers: Headers) -> frozenset[bytes]:
    # Connection may name further per-hop headers ("Connection: close, x-foo").
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b","))
    return frozenset(tokens)


def request_headers(headers: Headers, *, client_host: str | None, scheme: str) -> Headers:
    """Headers to send upstream: per-hop ones dropped, ``x-forwarded-*`` added."""
    named = _connection_tokens(headers)
    out: Headers = []
    host: bytes | None = None
    forwarded_for: bytes | None = None
    for name, value in headers:
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in named:
            continue
        if lower in _REBUILT:
            if lower == b"host":
                host = value
            continue
        if lower == b"x-forwarded-for":
            forwarded_for = value
            continue
        out.append((lower, value))
    if client_host:
        me = client_host.encode("latin-1")
        out.append((b"x-forwarded-for", forwarded_for + b", " + me if forwarded_for else me))
    elif forwarded_for:
        out.append((b"x-forwarded-for", forwarded_for))
    out.append((b"x-forwarded-proto", scheme.encode("latin-1")))
    if host is not None:
        out.append((b"x-forwarded-host", host))
    return out


def response_headers(headers: Headers, upstream: bytes) -> Headers:
    """Headers to send back to the client, naming the upstream that answered."""
    named = _connection_tokens(headers)
    out: Headers = [
        (lower, value)
        for name, value in headers
        if (lower := name.lower()) not in HOP_BY_HOP and lower not in named
    ]
    out.append((b"x-driftline-upstream", upstream))
    return out
