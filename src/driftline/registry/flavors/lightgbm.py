"""The LightGBM flavor: scikit-learn wrappers and Boosters as LightGBM's model string.

No pickle is involved: the bytes are the text ``Booster.model_to_string()`` writes. The
wrapper itself is not rebuilt; a loaded classifier turns the booster's output into
probabilities and labels exactly as ``LGBMClassifier`` does, with the class labels kept in
the meta.

Threads: calls to one loaded model are serialized by a lock. LightGBM's C++ predictor
writes shared booster fields when each call starts (upstream issue #6142 reports the data
race), and each call already spreads its rows over OpenMP threads, so little is lost.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import numpy as np

from driftline.exceptions import ValidationError
from driftline.registry.flavors import _native_probe
from driftline.registry.flavors._base import Flavor, Frame, LoadedModel, json_labels, type_name

__all__ = ["LightGBMFlavor", "LightGBMModel"]

_CLASSIFIER_OBJECTIVES = {"binary", "multiclass", "multiclassova"}
_SIZES = re.compile(r"^tree_sizes=([0-9 ]*)$", re.MULTILINE)


class LightGBMModel(LoadedModel):
    """A loaded LightGBM booster, with the classes when it is a classifier."""

    flavor = "lightgbm"

    def __init__(self, booster: Any, classes: list[Any] | None) -> None:
        super().__init__(
            native=booster,
            classes=classes,
            feature_names=booster.feature_name(),
            n_features=booster.num_feature(),
            serialize=True,
        )

    @property
    def has_proba(self) -> bool:
        """Whether the model is a classifier."""
        return self.classes is not None

    def _predict(self, X: Frame) -> Any:
        if self.classes is None:
            return self.native.predict(X)
        labels = np.asarray(self.classes)
        return labels[np.argmax(self._predict_proba(X), axis=1)]

    def _predict_proba(self, X: Frame) -> Any:
        raw = self.native.predict(X)
        # A binary booster gives P(class 1) only; LGBMClassifier stacks 1 - p beside it.
        return np.vstack((1.0 - raw, raw)).T if raw.ndim == 1 else raw


class LightGBMFlavor(Flavor):
    """LightGBM models (``LGBMClassifier``, ``LGBMRegressor``, ..., or a ``Booster``).

    ``from_file`` reads the text file ``booster.save_model(path)`` writes. Such a file, like
    a bare ``Booster``, does not hold a classifier's original labels: a binary or multiclass
    objective makes it a classifier with classes ``0 .. k-1``.

    Examples
    --------
    >>> import numpy as np
    >>> import lightgbm as lgb
    >>> from driftline.registry.flavors import LightGBMFlavor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = np.where(X[:, 0] > 0, "up", "down")
    >>> model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    >>> flavor = LightGBMFlavor()
    >>> saved = flavor.save(model)
    >>> loaded = flavor.load(saved.data, saved.meta)
    >>> loaded.classes, bool((loaded.predict(X) == model.predict(X)).all())
    (['down', 'up'], True)
    """

    name = "lightgbm"
    extra = "lightgbm"
    library = "lightgbm"
    supports = "LightGBM scikit-learn models (LGBMClassifier, LGBMRegressor, ...) and Boosters"
    file_kinds = "a text model file written by booster.save_model()"

    def detect(self, model: Any) -> bool:
        """Whether ``model`` is a LightGBM wrapper or Booster."""
        lgb = sys.modules.get("lightgbm")
        return lgb is not None and isinstance(model, lgb.LGBMModel | lgb.Booster)

    def _save(self, model: Any) -> tuple[bytes, dict[str, Any]]:
        lgb = self._lib()
        if isinstance(model, lgb.Booster):
            text = model.model_to_string()
            # A bare booster keeps no labels: its objective says whether it classifies.
            return text.encode("utf-8"), _facts(LightGBMModel(model, _objective_classes(text)))
        if not model.__sklearn_is_fitted__():
            raise ValidationError(
                f"the {type_name(model)} is not fitted: call fit() first, then save it"
            )
        classes = model.classes_ if isinstance(model, lgb.LGBMClassifier) else None
        loaded = LightGBMModel(model.booster_, json_labels(classes))
        return model.booster_.model_to_string().encode("utf-8"), _facts(loaded)

    def _describe(self, data: bytes) -> dict[str, Any]:
        lgb = self._lib()
        text = _model_text(data)
        library_path = getattr(getattr(lgb.basic, "_LIB", None), "_name", None)
        if isinstance(library_path, str):  # found where LightGBM keeps it; else skip the probe
            _native_probe.probe(self.name, library_path, data)
        booster = lgb.Booster(model_str=text)
        return _facts(LightGBMModel(booster, _objective_classes(text)))

    def _load(self, data: bytes, meta: dict[str, Any]) -> LoadedModel:
        lgb = self._lib()
        booster = lgb.Booster(model_str=_model_text(data))
        return LightGBMModel(booster, meta.get("classes"))


def _model_text(data: bytes) -> str:
    """The model string, after the structure checks that keep LightGBM from aborting."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("a LightGBM model is UTF-8 text; these bytes are not") from None
    if not text.startswith("tree\n") or "\x00" in text:
        raise ValidationError("a LightGBM model string starts with a 'tree' line; this does not")
    # LightGBM slices each tree out by the byte sizes in its header and trusts them; a
    # truncated or shortened string would make it read past the end and abort.
    sizes = _SIZES.search(text)
    start = text.find("Tree=0\n")
    if sizes is None or start < 0:
        raise ValidationError("the LightGBM model string has no tree_sizes header or no trees")
    end = start
    for number, size in enumerate(int(s) for s in sizes.group(1).split()):
        if not text.startswith(f"Tree={number}\n", end):
            raise ValidationError(f"the LightGBM model string is cut short at tree {number}")
        end += size
    rest = text[end:]
    if not rest.lstrip("\n").startswith("end of trees") or "\nend of parameters" not in rest:
        raise ValidationError("the LightGBM model string is cut short after its trees")
    return text


def _objective_classes(text: str) -> list[int] | None:
    """Classes ``0 .. k-1`` for a classification objective in a model string's header."""
    header = dict(
        line.split("=", 1) for line in text.split("\n\n", 1)[0].splitlines() if "=" in line
    )
    objective = header.get("objective", "").split(" ")[0]
    if objective not in _CLASSIFIER_OBJECTIVES:
        return None
    return [0, 1] if objective == "binary" else list(range(int(header.get("num_class", "2"))))


def _facts(loaded: LightGBMModel) -> dict[str, Any]:
    return {
        "format": "model_string",
        "classes": loaded.classes,
        "has_proba": loaded.has_proba,
        "n_features": loaded.n_features,
        "feature_names": loaded.feature_names,
    }
