"""The predlog package's public surface."""

from __future__ import annotations

import driftline.predlog as predlog


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in dir(predlog) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(predlog, n)).__name__ == "module"}
    assert set(predlog.__all__) == public - modules
