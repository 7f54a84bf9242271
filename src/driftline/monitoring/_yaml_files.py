"""Reading a monitoring YAML file (rules, channels): errors name the file, line and column."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from driftline.exceptions import NotFoundError, ValidationError

__all__ = ["read_yaml"]


def read_yaml(path: str | os.PathLike[str], kind: str) -> Any:
    """The parsed YAML of the ``kind`` file (e.g. "rules") at ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{kind} file {str(file)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{kind} file {str(file)!r} cannot be read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationError(f"{file}: not valid YAML{where}: {problem}") from None
