"""``driftline.yaml``: a declared training pipeline (entry point, data, params, evaluation)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml

from driftline.exceptions import NotFoundError, ValidationError

__all__ = ["PipelineConfig", "load_config"]


class Evaluation(pydantic.BaseModel):
    """How the trained model is evaluated."""

    model_config = pydantic.ConfigDict(extra="forbid")
    holdout: float = pydantic.Field(default=0.2, ge=0, lt=1)
    slices: list[str] = []
    metric: str = "accuracy"


class PipelineConfig(pydantic.BaseModel):
    """One training pipeline as declared in ``driftline.yaml``."""

    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    entry_point: str = pydantic.Field(pattern=r"^[\w.]+:\w+$")
    data: str
    target: str
    task: Literal["classification", "regression"] = "classification"
    params: dict[str, Any] = {}
    seed: int | None = 0
    flavor: str | None = None
    description: str | None = None
    evaluation: Evaluation = pydantic.Field(default_factory=lambda: Evaluation())

    def train_function(self, base: Path) -> Callable[..., Any]:
        """Import the entry point (``module:function``), with ``base`` on the import path."""
        module_name, _, function = self.entry_point.partition(":")
        if str(base) not in sys.path:
            sys.path.insert(0, str(base))
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise NotFoundError(
                f"entry_point {self.entry_point!r}: cannot import module {module_name!r} "
                f"({exc}); it is looked up from {base}"
            ) from exc
        found = getattr(module, function, None)
        if not callable(found):
            raise NotFoundError(
                f"entry_point {self.entry_point!r}: module {module_name!r} has no function "
                f"{function!r}"
            )
        return found


def load_config(path: Path) -> PipelineConfig:
    """Read and check ``driftline.yaml``; errors name the file and the field."""
    if not path.is_file():
        raise NotFoundError(f"training config {str(path)!r} does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValidationError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ValidationError(f"{path}: expected a mapping of settings at the top level")
    try:
        return PipelineConfig.model_validate(raw)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ValidationError(f"{path}: {problems}") from None
