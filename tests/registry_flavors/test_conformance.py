"""Every flavor passes the conformance suite on models trained on real datasets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from driftline.testing.flavor_checks import FLAVOR_CHECKS, FlavorCase

from .conftest import CASES, build_case

# torch.jit warns that TorchScript is deprecated (torch >= 2.9); it is a supported format.
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit:DeprecationWarning")


@pytest.mark.parametrize("check", FLAVOR_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("case_name", list(CASES))
def test_flavor_conformance(
    case_name: str, check: Callable[[FlavorCase, Path], None], tmp_path: Path
) -> None:
    check(build_case(case_name), tmp_path)
