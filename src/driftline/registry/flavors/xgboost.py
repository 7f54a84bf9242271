"""The XGBoost flavor: scikit-learn wrappers and Boosters in XGBoost's own UBJSON format.

No pickle is involved: the bytes are the booster's model, and the wrapper class to rebuild
(``XGBClassifier``, ``XGBRegressor``, ...) is recorded in the meta from a fixed list.

Threads: XGBoost's prediction has been thread-safe for tree models since 1.4 (its own test
suite predicts from a thread pool), so one loaded model serves concurrent calls unlocked.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from driftline.exceptions import ValidationError
from driftline.registry.flavors import _native_probe
from driftline.registry.flavors._base import (
    Flavor,
    Frame,
    LoadedModel,
    feature_frame,
    json_labels,
    type_name,
)
from driftline.registry.flavors._ubjson import check_ubjson

__all__ = ["XGBoostFlavor", "XGBoostModel"]

_WRAPPERS = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")
# What XGBModel.save_model records as "_estimator_type", and the class that reads it back.
_BY_ESTIMATOR_TYPE = {
    "classifier": "XGBClassifier",
    "regressor": "XGBRegressor",
    "ranker": "XGBRanker",
}


class XGBoostModel(LoadedModel):
    """A loaded XGBoost wrapper (``predict``, ``predict_proba``) or raw Booster.

    A raw Booster predicts what its objective outputs (for ``binary:logistic`` the
    probability of class 1) and has no ``predict_proba``.
    """

    flavor = "xgboost"

    def __init__(self, model: Any, booster: Any) -> None:
        classes = getattr(model, "classes_", None) if model is not booster else None
        super().__init__(
            native=model,
            classes=None if classes is None else json_labels(classes),
            feature_names=booster.feature_names,
            n_features=booster.num_features(),
        )
        self._booster = booster

    @property
    def has_proba(self) -> bool:
        """Whether the model is a classifier wrapper."""
        return self.native is not self._booster and hasattr(self.native, "predict_proba")

    def _predict(self, X: Frame) -> Any:
        X = feature_frame(X, self.feature_names)
        if self.native is self._booster:
            return self._booster.inplace_predict(X)
        return self.native.predict(X)

    def _predict_proba(self, X: Frame) -> Any:
        return self.native.predict_proba(feature_frame(X, self.feature_names))


class XGBoostFlavor(Flavor):
    """XGBoost models (``XGBClassifier``, ``XGBRegressor``, ..., or a ``Booster``).

    ``save`` writes UBJSON; ``from_file`` reads the ``.json`` or ``.ubj`` files that
    ``model.save_model`` writes, after a child process has read them safely.

    Examples
    --------
    >>> import numpy as np
    >>> import xgboost as xgb
    >>> from driftline.registry.flavors import XGBoostFlavor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 3))
    >>> model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, X[:, 0] > 0)
    >>> flavor = XGBoostFlavor()
    >>> saved = flavor.save(model)
    >>> saved.meta["model_class"], saved.meta["format"]
    ('XGBClassifier', 'ubj')
    >>> loaded = flavor.load(saved.data, saved.meta)
    >>> bool((loaded.predict_proba(X) == model.predict_proba(X)).all())
    True
    """

    name = "xgboost"
    extra = "xgboost"
    library = "xgboost"
    supports = "XGBoost scikit-learn models (XGBClassifier, XGBRegressor, ...) and Boosters"
    file_kinds = "a .json or .ubj file written by model.save_model()"

    def detect(self, model: Any) -> bool:
        """Whether ``model`` is an XGBoost wrapper or Booster."""
        xgb = sys.modules.get("xgboost")
        return xgb is not None and isinstance(model, xgb.XGBModel | xgb.Booster)

    def _save(self, model: Any) -> tuple[bytes, dict[str, Any]]:
        xgb = self._lib()
        if isinstance(model, xgb.Booster):
            booster, class_name = model, "Booster"
        else:
            if not model.__sklearn_is_fitted__():
                raise ValidationError(
                    f"the {type_name(model)} is not fitted: call fit() first, then save it"
                )
            booster, class_name = model.get_booster(), _wrapper_name(model)
        data = bytes(booster.save_raw(raw_format="ubj"))
        return data, _facts(XGBoostModel(model, booster), class_name, "ubj")

    def _describe(self, data: bytes) -> dict[str, Any]:
        xgb = self._lib()
        fmt = _checked_format(data)
        _native_probe.probe(self.name, xgb.libpath.find_lib_path()[0], data)
        booster = xgb.Booster()
        booster.load_model(bytearray(data))
        written_as = json.loads(booster.attr("scikit_learn") or "{}").get("_estimator_type")
        class_name = _BY_ESTIMATOR_TYPE.get(written_as, "Booster")
        return _facts(self._build(data, class_name), class_name, fmt)

    def _load(self, data: bytes, meta: dict[str, Any]) -> LoadedModel:
        class_name = meta.get("model_class")
        if class_name not in (*_WRAPPERS, "Booster"):
            raise ValidationError(
                f"the xgboost meta names model_class {class_name!r}; expected one of "
                f"{[*_WRAPPERS, 'Booster']}"
            )
        return self._build(data, class_name)

    def _build(self, data: bytes, class_name: str) -> XGBoostModel:
        xgb = self._lib()
        _checked_format(data)
        if class_name == "Booster":
            booster = xgb.Booster()
            booster.load_model(bytearray(data))
            return XGBoostModel(booster, booster)
        model = getattr(xgb, class_name)()
        model.load_model(bytearray(data))
        return XGBoostModel(model, model.get_booster())


def _checked_format(data: bytes) -> str:
    """``"json"`` or ``"ubj"``, once the bytes are known to be a complete document of it."""
    # Both start with "{"; in JSON a quoted key follows, in UBJSON a length marker.
    if re.match(rb'\s*\{\s*"', data):
        try:
            json.loads(data)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
            raise ValidationError(f"the JSON model is damaged: {exc}") from None
        return "json"
    check_ubjson(data)
    return "ubj"


def _wrapper_name(model: Any) -> str:
    # A user's subclass of XGBClassifier is rebuilt as the XGBoost class it extends.
    for cls in type(model).__mro__:
        if cls.__module__.startswith("xgboost") and cls.__name__ in _WRAPPERS:
            return cls.__name__
    raise ValidationError(
        f"cannot save a {type_name(model)}: it extends none of the XGBoost classes {_WRAPPERS}"
    )


def _facts(loaded: XGBoostModel, class_name: str, fmt: str) -> dict[str, Any]:
    return {
        "format": fmt,
        "model_class": class_name,
        "classes": loaded.classes,
        "has_proba": loaded.has_proba,
        "n_features": loaded.n_features,
        "feature_names": loaded.feature_names,
    }
