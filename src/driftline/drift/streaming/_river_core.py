"""river's compiled ADWIN window, when river (the ``river`` extra) is installed.

``river.drift.ADWIN`` is a thin Python class around a compiled window object (Rust in current
river, Cython in older releases) whose ``update(x)`` returns whether that value completed a
drift. :class:`~driftline.drift.streaming.ADWIN` calls that object directly: going through
``river.drift.ADWIN`` would add two Python calls per value, and importing ``river.drift``
imports river's data sets too (about a second), while the compiled module alone loads in
about a millisecond.
"""

from __future__ import annotations

import importlib
from typing import Any

from driftline.exceptions import DependencyMissingError

__all__ = ["adwin_window_type"]

# Where river keeps the compiled window, newest layout first.
_MODULES = ("river._river_rust.drift", "river.drift.adwin_c")


def _find() -> tuple[Any, str]:
    """The compiled window class, or None and why it is not usable.

    Not cached: once river is imported this takes microseconds, and it runs only when a
    detector checks its parameters (first use and ``reset()``).
    """
    problems = []
    for name in _MODULES:
        try:
            module = importlib.import_module(name)
            window_type = module.AdaptiveWindowing
            # the constructor and update() driftline relies on, tried once per process
            window = window_type(
                delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10
            )
            if window.update(0.0) is not False or window.get_width() != 1:
                raise TypeError("its update() or get_width() does not behave as expected")
        except Exception as exc:  # any failure means: use the Python implementation
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        return window_type, ""
    return None, "; ".join(problems)


def adwin_window_type(*, required: bool) -> Any:
    """river's compiled ADWIN window class, or None when river is missing and not ``required``.

    With ``required``, a missing or unusable river raises :class:`DependencyMissingError`
    naming the extra to install.
    """
    window_type, problem = _find()
    if window_type is None and required:
        raise DependencyMissingError(
            'ADWIN(backend="river") needs river\'s compiled ADWIN, which could not be loaded'
            f' ({problem}); install it with: pip install "driftline[river]"'
        )
    return window_type
