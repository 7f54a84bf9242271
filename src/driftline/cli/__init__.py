"""The ``driftline`` command line: a thin layer over the library, one module per group."""

from driftline.cli._main import main

__all__ = ["main"]
