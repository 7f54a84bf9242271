"""The scikit-learn flavor: any fitted estimator, Pipelines included, as a pickle.

Threads: a fitted scikit-learn estimator only reads its learned state in ``predict`` and
``predict_proba``, so concurrent calls share one object without a lock.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from driftline.exceptions import ValidationError
from driftline.registry.flavors import _pickled
from driftline.registry.flavors._base import (
    Flavor,
    Frame,
    LoadedModel,
    feature_frame,
    json_labels,
    type_name,
)

__all__ = ["SklearnFlavor", "SklearnModel"]


class SklearnModel(LoadedModel):
    """A loaded scikit-learn estimator.

    An array is given column names when the estimator was fitted on a DataFrame (and a
    DataFrame becomes an array when it was not), so both input forms predict alike.
    """

    flavor = "sklearn"

    def __init__(self, estimator: Any) -> None:
        names = getattr(estimator, "feature_names_in_", None)
        classes = getattr(estimator, "classes_", None)
        super().__init__(
            native=estimator,
            classes=None if classes is None else json_labels(classes),
            feature_names=None if names is None else list(names),
            n_features=getattr(estimator, "n_features_in_", None),
        )

    @property
    def has_proba(self) -> bool:
        """Whether the estimator has ``predict_proba``."""
        return callable(getattr(self.native, "predict_proba", None))

    def _predict(self, X: Frame) -> Any:
        return self.native.predict(feature_frame(X, self.feature_names))

    def _predict_proba(self, X: Frame) -> Any:
        return self.native.predict_proba(feature_frame(X, self.feature_names))


class SklearnFlavor(Flavor):
    """scikit-learn estimators and Pipelines, pickled (protocol 5).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from driftline.registry.flavors import SklearnFlavor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> model = LogisticRegression().fit(X, X[:, 0] > 0)
    >>> flavor = SklearnFlavor()
    >>> saved = flavor.save(model)
    >>> loaded = flavor.load(saved.data, saved.meta)
    >>> bool((loaded.predict(X) == model.predict(X)).all()), loaded.classes
    (True, [False, True])
    """

    name = "sklearn"
    extra = None
    library = "sklearn"
    uses_pickle = True
    supports = "fitted scikit-learn estimators and Pipelines"
    file_kinds = "a joblib.dump or pickle.dump file of a fitted estimator"

    def detect(self, model: Any) -> bool:
        """Whether ``model`` is a scikit-learn estimator with ``predict``."""
        # Nothing is an sklearn estimator unless sklearn was imported to make it.
        base = sys.modules.get("sklearn.base")
        return (
            base is not None
            and isinstance(model, base.BaseEstimator)
            and callable(getattr(model, "predict", None))
        )

    def _save(self, model: Any) -> tuple[bytes, dict[str, Any]]:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(model)
        except NotFittedError:
            raise ValidationError(
                f"the {type_name(model)} is not fitted: call fit() first, then save it"
            ) from None
        return _pickled.dumps(model, self.name), self._facts(model, "pickle")

    def _describe(self, data: bytes) -> dict[str, Any]:
        obj = _pickled.loads(data)
        if not callable(getattr(obj, "predict", None)):
            raise ValidationError(f"the file holds a {type_name(obj)}, which has no predict()")
        return self._facts(obj, "joblib")

    def _load(self, data: bytes, meta: dict[str, Any]) -> LoadedModel:
        obj = _pickled.loads(data)
        if not callable(getattr(obj, "predict", None)):
            raise ValidationError(f"the bytes hold a {type_name(obj)}, which has no predict()")
        return SklearnModel(obj)

    def _facts(self, model: Any, fmt: str) -> dict[str, Any]:
        names = getattr(model, "feature_names_in_", None)
        n_features = getattr(model, "n_features_in_", None)
        return {
            "format": fmt,
            "class": _pickled.class_path(model),
            "classes": json_labels(getattr(model, "classes_", None)),
            "has_proba": callable(getattr(model, "predict_proba", None)),
            "n_features": None if n_features is None else int(n_features),
            "feature_names": None if names is None else [str(n) for n in np.asarray(names)],
        }
