"""The flavors by name, and the choice of a flavor for an in-memory model."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from driftline.exceptions import ValidationError
from driftline.registry.flavors._base import Flavor, type_name
from driftline.registry.flavors.lightgbm import LightGBMFlavor
from driftline.registry.flavors.onnx import OnnxFlavor
from driftline.registry.flavors.python import PythonFlavor
from driftline.registry.flavors.sklearn import SklearnFlavor
from driftline.registry.flavors.torch import TorchFlavor
from driftline.registry.flavors.xgboost import XGBoostFlavor

__all__ = ["FLAVORS", "available_flavors", "flavor_for", "get_flavor"]

# Most specific first: XGBoost and LightGBM models are scikit-learn estimators too, and
# anything with predict() is a python model, so those checks come last.
FLAVORS: Mapping[str, Flavor] = MappingProxyType(
    {
        flavor.name: flavor
        for flavor in (
            TorchFlavor(),
            XGBoostFlavor(),
            LightGBMFlavor(),
            OnnxFlavor(),
            SklearnFlavor(),
            PythonFlavor(),
        )
    }
)


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name`` (with default settings).

    >>> get_flavor("sklearn")
    SklearnFlavor()
    """
    try:
        return FLAVORS[name]
    except KeyError:
        raise ValidationError(
            f"unknown flavor {name!r}; choose one of {', '.join(FLAVORS)}"
        ) from None


def flavor_for(model: Any) -> Flavor:
    """The flavor that saves ``model``: the first in :data:`FLAVORS` whose ``detect`` accepts it.

    >>> flavor_for({"a": 1})
    Traceback (most recent call last):
    ...
    driftline.exceptions.ValidationError: no flavor can save an object of type builtins.dict; ...
    """
    for flavor in FLAVORS.values():
        if flavor.detect(model):
            return flavor
    supported = "; ".join(f"{f.name}: {f.supports}" for f in FLAVORS.values())
    raise ValidationError(
        f"no flavor can save an object of type {type_name(model)}; supported: {supported}"
    )


def available_flavors() -> list[str]:
    """Names of the flavors whose library is installed."""
    return [name for name, flavor in FLAVORS.items() if flavor.available()]
