"""The routing package's public surface."""

from __future__ import annotations

import os
import subprocess
import sys

import driftline.serving.routing as routing
from driftline.serving.routing import key_fraction


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in dir(routing) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(routing, n)).__name__ == "module"}
    assert set(routing.__all__) == public - modules
    assert sorted(routing.__all__) == routing.__all__


def test_key_fraction_is_the_same_in_another_process() -> None:
    # Several server workers must put a user in the same arm; Python's hash() would not.
    code = (
        "from driftline.serving.routing import key_fraction; print(repr(key_fraction('u-1', 'ab')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert float(out) == key_fraction("u-1", "ab")


def test_key_fraction_is_uniform_and_salted() -> None:
    values = [key_fraction(f"k{i}") for i in range(10_000)]
    assert all(0.0 <= v < 1.0 for v in values)
    # Mean of 10k uniforms has sd 0.0029; 0.012 is four of them.
    assert abs(sum(values) / len(values) - 0.5) < 0.012
    assert key_fraction("k1", "ab") != key_fraction("k1", "canary")
