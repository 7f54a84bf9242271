"""Pickle bytes for the flavors that store Python objects (sklearn, python).

Saving uses pickle protocol 5; reading goes through ``joblib.load``, which reads both plain
pickles and joblib's own files (compressed or not), so a user's ``joblib.dump`` or
``pickle.dump`` file registers as it is. Unpickling runs code named in the bytes: see the
package docstring for why it only happens after the registry's hash check.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from typing import Any

from driftline.exceptions import ValidationError

__all__ = ["class_path", "dumps", "loads"]

_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "GLOBAL"}


def dumps(obj: Any, flavor: str) -> bytes:
    """``obj`` pickled with protocol 5, refused when it needs code defined in ``__main__``."""
    data = pickle.dumps(obj, protocol=5)
    if _mentions_main(data):
        raise ValidationError(
            f"the {flavor} flavor cannot save this {type(obj).__qualname__}: it uses a class or "
            "function defined in __main__ (a script or notebook), which the process that "
            "loads the model cannot import; move that code to an importable module"
        )
    return data


def loads(data: bytes) -> Any:
    """The object in a pickle or joblib file's bytes."""
    import joblib

    return joblib.load(io.BytesIO(data))


def class_path(obj: Any) -> str:
    """``module:QualName`` of ``obj``'s class."""
    kind = type(obj)
    return f"{kind.__module__}:{kind.__qualname__}"


def _mentions_main(data: bytes) -> bool:
    # Pickle names a class by module and qualified name; protocol 4+ pushes the module as a
    # string before STACK_GLOBAL, older ones put "module name" in a GLOBAL opcode.
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name in _STRING_OPS and isinstance(arg, str) and arg.split(" ")[0] == "__main__":
            return True
    return False
