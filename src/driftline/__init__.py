"""driftline: production ML that closes the loop between data, models and live traffic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from driftline._version import __version__

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["Workspace", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `import driftline.drift` (pure computation) does not
    # pull in the database and web stack.
    if name == "Workspace":
        from driftline.workspace import Workspace

        return Workspace
    raise AttributeError(f"module 'driftline' has no attribute {name!r}")
