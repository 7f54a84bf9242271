"""What a run ran on: Python, platform, package versions and the git commit."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["capture_environment"]

_PACKAGES = (
    "driftline",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "scikit-learn",
    "xgboost",
    "lightgbm",
    "onnxruntime",
    "torch",
)


def capture_environment(cwd: Path | None = None) -> dict[str, Any]:
    """A JSON-ready record of the interpreter, installed packages and git commit."""
    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            continue
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": packages,
        "git_commit": _git_commit(cwd or Path.cwd()),
    }


def _git_commit(cwd: Path) -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) == 40 else None
