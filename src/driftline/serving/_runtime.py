"""A model version as the server runs it: loaded, warmed, called fast, drained on swap.

scikit-learn spends most of a single-row call on input checks: a DataFrame costs ~0.5 ms,
a float array ~0.15 ms. A model fitted on a DataFrame warns when given an array, so the
server calls a shallow copy whose ``feature_names_in_`` is removed, with the columns already
put in the fitted order; the copy is kept only if, at warm-up, it answers exactly like the
registry's own loader and without a warning. Classifiers whose ``predict`` is the arg-max
of ``predict_proba`` are called once, not twice.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from driftline.exceptions import ValidationError
from driftline.serving._inputs import InputSchema, ModelInput

if TYPE_CHECKING:
    from driftline.registry import ModelVersion
    from driftline.registry.flavors import LoadedModel

__all__ = ["Prediction", "ServedVersion"]

_log = logging.getLogger("driftline.serving")

# Final estimators whose predict() is classes_[argmax(predict_proba())].
_ARGMAX_CLASSIFIERS = frozenset(
    {
        "LogisticRegression",
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "DecisionTreeClassifier",
        "ExtraTreeClassifier",
        "GradientBoostingClassifier",
        "HistGradientBoostingClassifier",
        "GaussianNB",
        "MultinomialNB",
        "BernoulliNB",
        "ComplementNB",
    }
)


@dataclass(frozen=True)
class Prediction:
    """A model's answers for some rows: predictions and, for classifiers, probabilities."""

    predictions: np.ndarray
    probabilities: np.ndarray | None

    def rows(self, start: int, stop: int) -> Prediction:
        """The answers for rows ``start:stop``."""
        proba = None if self.probabilities is None else self.probabilities[start:stop]
        return Prediction(self.predictions[start:stop], proba)


class ServedVersion:
    """One loaded version: its record, model, input schema and in-flight requests."""

    def __init__(self, version: ModelVersion, model: LoadedModel, *, max_rows: int) -> None:
        self.record = version
        self.model = model
        self.name = version.name
        self.number = version.version
        self.label = str(version.version)
        self.schema = InputSchema(
            version.signature, feature_names=model.feature_names, max_rows=max_rows
        )
        self.classes = model.classes
        self.has_proba = bool(model.has_proba and model.classes)
        self.warm = False
        self.inflight = 0
        # Set when the version is replaced; the drain waits on it until inflight is 0.
        self.idle: asyncio.Event | None = None
        self._fast: Any = None
        self._argmax = False
        self._labels = _label_array(self.classes or [])

    # -- calling the model (in a worker thread) ---------------------------------------------
    def infer(self, data: np.ndarray | pd.DataFrame) -> Prediction:
        """Predict (and class probabilities when the model has them) for ``data``."""
        fast = self._fast
        if fast is not None and isinstance(data, np.ndarray):
            return self._call(fast.predict, fast.predict_proba, data)
        return self._call(self.model.predict, self.model.predict_proba, data)

    def _call(self, predict: Any, proba: Any, data: Any) -> Prediction:
        try:
            if self._argmax:
                scores = np.asarray(proba(data))
                return Prediction(self._labels[scores.argmax(axis=1)], scores)
            predictions = np.asarray(predict(data))
            probabilities = np.asarray(proba(data)) if self.has_proba else None
        except ValidationError:
            raise
        except (ValueError, TypeError) as exc:  # the library refused these values
            raise ValidationError(
                f"model {self.name} v{self.number} cannot predict: {exc}"
            ) from exc
        return Prediction(predictions, probabilities)

    # -- warming up (in a worker thread, before the version takes traffic) ------------------
    def warm_up(self) -> None:
        """Call the model once on made-up rows; pick the fast path if it answers the same."""
        sample = self._sample()
        if sample is None:
            self.warm = True
            return
        try:
            expected = self._call(self.model.predict, self.model.predict_proba, sample.data)
        except ValidationError as exc:  # made-up rows; the registry smoke-tested real ones
            _log.info("warm-up of %s v%s skipped: %s", self.name, self.number, exc)
            self.warm = True
            return
        if isinstance(sample.data, np.ndarray):
            self._try_fast_path(sample.data, expected)
        self.warm = True

    def _sample(self) -> ModelInput | None:
        columns = self.schema.columns
        if columns is None:
            return None
        rng = np.random.default_rng(0)
        matrix = np.vstack([np.zeros(len(columns)), np.ones(len(columns))])
        matrix = np.vstack([matrix, rng.uniform(size=(3, len(columns)))])
        if self.schema.numeric:
            return ModelInput(matrix, columns)
        frame = pd.DataFrame(matrix, columns=list(columns))
        for spec in self.schema.signature.inputs if self.schema.signature else ():
            if spec.type == "string":
                frame[spec.name] = ""
            elif spec.type == "boolean":
                frame[spec.name] = False
            elif spec.type == "long":
                frame[spec.name] = frame[spec.name].round().astype("int64")
        try:
            self._call(self.model.predict, self.model.predict_proba, frame)
        except ValidationError as exc:  # made-up text values may be unknown categories
            _log.info("warm-up of %s v%s skipped: %s", self.name, self.number, exc)
        return None

    def _try_fast_path(self, sample: np.ndarray, expected: Prediction) -> None:
        stripped = _without_feature_names(self.model) if self.model.flavor == "sklearn" else None
        argmax = self.has_proba and _final_name(self.model.native) in _ARGMAX_CLASSIFIERS
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fast = self._probe(stripped, argmax, sample)
            except Exception as exc:  # any surprise: keep the registry's loader
                _log.info("fast path of %s v%s disabled: %s", self.name, self.number, exc)
                return
        if caught or not _same(fast, expected):
            return
        self._fast, self._argmax = stripped, argmax

    def _probe(self, stripped: Any, argmax: bool, sample: np.ndarray) -> Prediction:
        self._argmax = argmax
        try:
            if stripped is None:
                return self._call(self.model.predict, self.model.predict_proba, sample)
            return self._call(stripped.predict, stripped.predict_proba, sample)
        finally:
            self._argmax = False


def _label_array(classes: list[Any]) -> np.ndarray:
    """The class labels as a typed array when they share a plain type (cheaper to log)."""
    kinds = {type(c) for c in classes}
    if len(kinds) == 1 and kinds <= {int, float, str, bool}:
        return np.asarray(classes)
    return np.asarray(classes, dtype=object)


def _without_feature_names(model: LoadedModel) -> Any:
    """A shallow copy of the estimator that takes a bare array without a warning, or None."""
    native = model.native
    if "feature_names_in_" in vars(native):
        clone = copy.copy(native)
        del clone.feature_names_in_
        return clone
    steps = getattr(native, "steps", None)
    if isinstance(steps, list) and steps and "feature_names_in_" in vars(steps[0][1]):
        first = copy.copy(steps[0][1])
        del first.feature_names_in_
        clone = copy.copy(native)
        clone.steps = [(steps[0][0], first), *steps[1:]]
        return clone
    return None if hasattr(native, "feature_names_in_") else native


def _final_name(native: Any) -> str:
    steps = getattr(native, "steps", None)
    final = steps[-1][1] if isinstance(steps, list) and steps else native
    return type(final).__name__


def _same(a: Prediction, b: Prediction) -> bool:
    if a.predictions.tolist() != b.predictions.tolist():
        return False
    if (a.probabilities is None) != (b.probabilities is None):
        return False
    if a.probabilities is None or b.probabilities is None:
        return True
    return bool(np.allclose(a.probabilities, b.probabilities))
