"""The python flavor: any object with a ``predict`` method, pickled.

Threads: nothing is known about a user's object, so by default calls to one loaded model are
serialized by a lock; ``PythonFlavor(thread_safe=True)`` drops the lock for objects whose
``predict`` only reads their state.
"""

from __future__ import annotations

from typing import Any

from driftline.exceptions import ValidationError
from driftline.registry.flavors import _pickled
from driftline.registry.flavors._base import Flavor, Frame, LoadedModel, json_labels, type_name

__all__ = ["PythonFlavor", "PythonModel"]


class PythonModel(LoadedModel):
    """A loaded Python object; ``X`` reaches its ``predict`` as given."""

    flavor = "python"

    def __init__(self, obj: Any, *, thread_safe: bool) -> None:
        classes = getattr(obj, "classes_", None)
        names = getattr(obj, "feature_names_in_", None)
        super().__init__(
            native=obj,
            classes=None if classes is None else json_labels(classes),
            feature_names=None if names is None else list(names),
            serialize=not thread_safe,
        )

    @property
    def has_proba(self) -> bool:
        """Whether the object has ``predict_proba``."""
        return callable(getattr(self.native, "predict_proba", None))

    def _predict(self, X: Frame) -> Any:
        return self.native.predict(X)

    def _predict_proba(self, X: Frame) -> Any:
        return self.native.predict_proba(X)


class PythonFlavor(Flavor):
    """Any object with ``predict`` (and optionally ``predict_proba`` and ``classes_``).

    The object's class must live in an importable module: the process that loads the model
    imports it by name.

    Parameters
    ----------
    thread_safe
        Whether the objects' ``predict`` may run in several threads at once.

    Examples
    --------
    Any object with ``predict`` will do; here a scikit-learn model stands in for one.

    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from driftline.registry.flavors import PythonFlavor
    >>> model = DummyClassifier(strategy="constant", constant=1).fit([[0], [1]], [0, 1])
    >>> flavor = PythonFlavor()
    >>> saved = flavor.save(model)
    >>> flavor.load(saved.data, saved.meta).predict(np.array([[0.2], [3.0]])).tolist()
    [1, 1]
    """

    name = "python"
    extra = None
    library = "pickle"
    uses_pickle = True
    supports = "any object with a callable predict()"
    file_kinds = "a pickle.dump or joblib.dump file of an object with predict()"

    def __init__(self, *, thread_safe: bool = False) -> None:
        self.thread_safe = thread_safe

    def library_version(self) -> str:
        """The pickle protocol in use (the library is the standard library)."""
        return "pickle-5"

    def detect(self, model: Any) -> bool:
        """Whether ``model`` is an instance (not a class) with a callable ``predict``."""
        return not isinstance(model, type) and callable(getattr(model, "predict", None))

    def _save(self, model: Any) -> tuple[bytes, dict[str, Any]]:
        return _pickled.dumps(model, self.name), self._facts(model, "pickle")

    def _describe(self, data: bytes) -> dict[str, Any]:
        return self._facts(self._object(data), "joblib")

    def _load(self, data: bytes, meta: dict[str, Any]) -> LoadedModel:
        return PythonModel(self._object(data), thread_safe=self.thread_safe)

    def _object(self, data: bytes) -> Any:
        obj = _pickled.loads(data)
        if not self.detect(obj):
            raise ValidationError(f"the bytes hold a {type_name(obj)}, which has no predict()")
        return obj

    def _facts(self, model: Any, fmt: str) -> dict[str, Any]:
        return {
            "format": fmt,
            "class": _pickled.class_path(model),
            "classes": json_labels(getattr(model, "classes_", None)),
            "has_proba": callable(getattr(model, "predict_proba", None)),
        }

    def __repr__(self) -> str:
        return f"PythonFlavor(thread_safe={self.thread_safe})"
