"""A structure check of UBJSON bytes, run before XGBoost parses them.

XGBoost's UBJSON reader trusts the lengths in the bytes: on a truncated or damaged model it
reads past the end of the buffer, and depending on what lies there it raises, segfaults, or
allocates tens of gigabytes. Walking the document here first (every marker known, every
length inside the buffer, nothing after the root value) turns all of those into a
ValidationError. Typed arrays, where XGBoost keeps the bulk of a model, are skipped by
their size, so the walk costs milliseconds even for large models.
"""

from __future__ import annotations

from driftline.exceptions import ValidationError

__all__ = ["check_ubjson"]

# Byte sizes of the fixed-size value types (draft-12 markers).
_FIXED = {"Z": 0, "N": 0, "T": 0, "F": 0, "i": 1, "U": 1, "C": 1, "I": 2, "l": 4, "d": 4}
_FIXED |= {"L": 8, "D": 8}
_INTEGERS = {"i": 1, "U": 1, "I": 2, "l": 4, "L": 8}
# XGBoost nests about six levels deep; anything far deeper is damage, not a model.
_MAX_DEPTH = 64


def check_ubjson(data: bytes) -> None:
    """Raise ValidationError unless ``data`` is one complete, well-formed UBJSON value."""
    reader = _Reader(data)
    reader.value(reader.marker(), 0)
    if reader.pos != len(data):
        raise reader.error(f"{len(data) - reader.pos} bytes follow the end of the document")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def error(self, what: str) -> ValidationError:
        return ValidationError(f"the UBJSON model is damaged at byte {self.pos}: {what}")

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise self.error(f"a length of {size} bytes runs past the end ({len(self.data)})")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def marker(self) -> str:
        return self.take(1).decode("latin-1")

    def length(self) -> int:
        marker = self.marker()
        if marker not in _INTEGERS:
            raise self.error(f"expected an integer length, found marker {marker!r}")
        size = int.from_bytes(self.take(_INTEGERS[marker]), "big", signed=marker != "U")
        if size < 0:
            raise self.error(f"negative length {size}")
        return size

    def value(self, marker: str, depth: int) -> None:
        if marker in _FIXED:
            self.take(_FIXED[marker])
        elif marker in ("S", "H"):
            self.take(self.length())
        elif marker in ("[", "{"):
            if depth >= _MAX_DEPTH:
                raise self.error(f"containers nested more than {_MAX_DEPTH} deep")
            self.container(marker == "{", depth + 1)
        else:
            raise self.error(f"unknown marker {marker!r}")

    def container(self, is_object: bool, depth: int) -> None:
        typed, count = self.header()
        if typed in _FIXED and not is_object and count is not None:
            self.take(count * _FIXED[typed])  # a typed array: skip it by its size
            return
        closing, index = ("}" if is_object else "]"), 0
        while count is None or index < count:
            if count is None:
                if self.marker() == closing:
                    return
                self.pos -= 1  # not the end: that byte starts the next key or value
            if is_object:
                self.take(self.length())  # the key
            self.value(typed or self.marker(), depth)
            index += 1

    def header(self) -> tuple[str | None, int | None]:
        marker = self.marker()
        if marker == "$":
            typed = self.marker()
            if self.marker() != "#":
                raise self.error("a typed container must give its count")
            return typed, self.length()
        if marker == "#":
            return None, self.length()
        self.pos -= 1
        return None, None
