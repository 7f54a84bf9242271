"""Whole-value matching of fixed-width patterns (``\\d{5}``, ``[A-Z]{2}-\\d{4}``) without RE2.

A pattern that is a sequence of single ASCII characters, ASCII classes, ``\\d`` and ``\\w``,
each repeated a fixed number of times, matches a value exactly when the value is that many
bytes long and each byte is in the set for its position (an ASCII set never holds a byte of a
multi-byte UTF-8 character). Checking that on the bytes of an Arrow string array takes a few
vectorised passes instead of one regex call per value, about 3x faster over a million values.
Any other pattern gets ``None`` from :func:`compile_fixed` and goes to RE2 as before; the
grammar here is deliberately small so that it agrees with RE2 wherever it answers.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

import numpy as np
import pyarrow as pa

__all__ = ["compile_fixed", "fixed_matches"]

ByteSet = frozenset[int]

_DIGITS: ByteSet = frozenset(range(ord("0"), ord("9") + 1))
_WORD: ByteSet = _DIGITS | frozenset(map(ord, string.ascii_letters + "_"))
_CLASS_ESCAPES = {"d": _DIGITS, "w": _WORD}
# RE2 reads a backslash before ASCII punctuation (but not ``_``) as that character.
_LITERAL_ESCAPES = frozenset(string.punctuation) - {"_"}
_SPECIAL = frozenset("\\.^$|?*+()[]{}")
_REPEAT = re.compile(r"\{(\d{1,3})\}")
_MAX_WIDTH = 256


def _plain(ch: str) -> bool:
    return " " <= ch <= "~"  # printable ASCII


def _escape(pattern: str, i: int) -> tuple[ByteSet | None, int]:
    """The set for the escape at ``pattern[i] == "\\\\"``; None when not supported here."""
    if i + 1 >= len(pattern):
        return None, i
    ch = pattern[i + 1]
    if ch in _CLASS_ESCAPES:
        return _CLASS_ESCAPES[ch], i + 2
    if ch in _LITERAL_ESCAPES:
        return frozenset({ord(ch)}), i + 2
    return None, i


def _class(pattern: str, i: int) -> tuple[ByteSet | None, int]:
    """The set for the class starting at ``pattern[i] == "["``; None when not supported here."""
    i += 1
    if i >= len(pattern) or pattern[i] in "^]":
        return None, i  # negated classes match multi-byte characters; "[]" is ambiguous
    members: set[int] = set()
    while i < len(pattern) and pattern[i] != "]":
        ch = pattern[i]
        if ch == "\\":
            part, i = _escape(pattern, i)
            if part is None or (pattern.startswith("-", i) and not pattern.startswith("-]", i)):
                return None, i  # a range from an escape: left to RE2
            members |= part
            continue
        if ch == "[" or not _plain(ch):
            return None, i
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            high = pattern[i + 2]
            if high in "\\[" or not _plain(high) or high < ch:
                return None, i
            members |= set(range(ord(ch), ord(high) + 1))
            i += 3
            continue
        members.add(ord(ch))
        i += 1
    if i >= len(pattern):
        return None, i
    return frozenset(members), i + 1


@lru_cache(maxsize=256)
def compile_fixed(pattern: str) -> tuple[ByteSet, ...] | None:
    """One byte set per position of the value, or None when the pattern is not fixed-width."""
    sets: list[ByteSet] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            atom, i = _escape(pattern, i)
        elif ch == "[":
            atom, i = _class(pattern, i)
        elif ch in _SPECIAL or not _plain(ch):
            return None
        else:
            atom, i = frozenset({ord(ch)}), i + 1
        if atom is None:
            return None
        count = 1
        if i < len(pattern) and pattern[i] == "{":
            repeat = _REPEAT.match(pattern, i)
            if repeat is None:
                return None
            count, i = int(repeat.group(1)), repeat.end()
        sets.extend([atom] * count)
        if len(sets) > _MAX_WIDTH:
            return None
    return tuple(sets)


def _position_test(column: np.ndarray, members: ByteSet) -> np.ndarray:
    """Which bytes of ``column`` are in ``members`` (one compare for a range of bytes)."""
    low, high = min(members), max(members)
    if len(members) == high - low + 1:
        if low == high:
            return column == low
        return np.subtract(column, low, dtype=np.uint8) <= high - low
    table = np.zeros(256, dtype=bool)
    table[list(members)] = True
    return np.take(table, column)


def fixed_matches(values: pa.Array, sets: tuple[ByteSet, ...]) -> np.ndarray:
    """Per value of a ``large_string`` array: does it match the compiled pattern exactly?

    Null slots get an arbitrary answer; callers mask them out.
    """
    n, width = len(values), len(sets)
    _, offset_buffer, data_buffer = values.buffers()
    if offset_buffer is None:  # no values at all (empty, or nulls only)
        return np.zeros(n, dtype=bool)
    offsets = np.frombuffer(offset_buffer, dtype=np.int64)[values.offset : values.offset + n + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    ok = (offsets[1:] - offsets[:-1]) == width
    if width == 0 or data is None or n == 0:
        return ok
    first = int(offsets[0])
    if ok.all():
        # Every value has the width: the bytes form an n x width block, read column by column.
        block = data[first : first + n * width].reshape(n, width)
        columns = (block[:, j] for j in range(width))
    else:
        # Padding lets a short value near the end read past its bytes; those rows fail anyway.
        padded = np.concatenate([data, np.zeros(width, dtype=np.uint8)])
        starts = offsets[:-1]
        columns = (padded[j:][starts] for j in range(width))
    for members, column in zip(sets, columns, strict=True):
        ok &= _position_test(column, members)
    return ok
