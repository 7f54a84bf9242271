"""Lazy imports of optional extras, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from driftline.exceptions import DependencyMissingError

__all__ = ["require"]


def require(module: str, extra: str, *, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`DependencyMissingError` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        what = f" for {purpose}" if purpose else ""
        raise DependencyMissingError(
            f"{module!r} is needed{what} but is not installed; "
            f'install it with: pip install "driftline[{extra}]"'
        ) from exc
