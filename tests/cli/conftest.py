"""Running the CLI as a user would: a subprocess, a clean environment, a working folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed CLI as a user would, in a clean environment."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "driftline.cli._main", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """``cli("data", "add", ..., cwd=folder)``: run driftline as a user would."""
    return run
