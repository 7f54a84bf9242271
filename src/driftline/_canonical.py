"""Canonical JSON: one byte string per value, so that hashes over records are stable."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["canonical_json", "loads"]

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_UTC_Z


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` with sorted keys, no whitespace and UTC times as ``Z``.

    >>> canonical_json({"b": 1, "a": [1.5, None]})
    b'{"a":[1.5,null],"b":1}'
    """
    return orjson.dumps(value, option=_OPTIONS)


def loads(data: bytes | str) -> Any:
    """Parse JSON produced by :func:`canonical_json` (or any JSON)."""
    return orjson.loads(data)
