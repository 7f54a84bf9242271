"""The flavor contract: what a saved model is, what a loaded model offers, and the shared checks."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import platform
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import numpy as np
import pandas as pd

from driftline.exceptions import (
    DependencyMissingError,
    DriftlineError,
    NotFoundError,
    ValidationError,
)

__all__ = ["Flavor", "Frame", "LoadedModel", "SavedModel", "json_labels"]

Frame: TypeAlias = pd.DataFrame | np.ndarray

# Library messages can carry whole C++ stack traces; the first line is the useful part.
_MAX_REASON = 300


@dataclass(frozen=True)
class SavedModel:
    """A model as bytes plus the JSON-ready facts needed to load it again.

    ``meta`` always holds ``flavor``, ``format``, ``library_version`` and ``python_version``;
    each flavor adds what its ``load`` needs (ONNX input names, a torch class path, ...).
    """

    data: bytes
    meta: dict[str, Any]

    @property
    def sha256(self) -> str:
        """The hex sha256 of ``data``: the name the artifact store gives these bytes."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def flavor(self) -> str:
        """The name of the flavor that wrote the bytes."""
        return str(self.meta["flavor"])

    def __repr__(self) -> str:
        return f"SavedModel(flavor={self.flavor!r}, size={len(self.data)}, sha256={self.sha256!r})"


class LoadedModel(ABC):
    """A model ready to predict, whatever library made it.

    ``X`` is a pandas DataFrame whose columns are in the model's input order, or a 2-D numpy
    array in that order. Calls may come from many threads at once; each flavor says in its
    module docstring how it keeps that safe.
    """

    #: The flavor that loaded the model.
    flavor: ClassVar[str] = ""
    # Exceptions a library raises for input it cannot use; they become ValidationError.
    _input_errors: tuple[type[BaseException], ...] = (ValueError, TypeError)

    def __init__(
        self,
        *,
        native: Any,
        classes: Iterable[Any] | None = None,
        feature_names: Iterable[str] | None = None,
        n_features: int | None = None,
        serialize: bool = False,
    ) -> None:
        self.native = native
        self.classes = None if classes is None else list(classes)
        self.feature_names = None if feature_names is None else [str(n) for n in feature_names]
        if n_features is None and self.feature_names is not None:
            n_features = len(self.feature_names)
        self.n_features = n_features
        self._guard: AbstractContextManager[Any] = threading.Lock() if serialize else nullcontext()

    @property
    def has_proba(self) -> bool:
        """Whether :meth:`predict_proba` is available (a classifier that reports probabilities)."""
        return False

    def predict(self, X: Frame) -> np.ndarray:
        """Predictions for the rows of ``X``: one value per row, or one row per row."""
        frame = self._check_input(X)
        with self._guard:
            out = self._call(self._predict, frame)
        return np.asarray(out)

    def predict_proba(self, X: Frame) -> np.ndarray:
        """Class probabilities, shape ``(rows, len(classes))``, columns in ``classes`` order."""
        if not self.has_proba:
            raise ValidationError(
                f"this {self.flavor} model has no predict_proba: it is not a classifier that "
                "reports probabilities; check has_proba before calling it"
            )
        frame = self._check_input(X)
        with self._guard:
            out = self._call(self._predict_proba, frame)
        return np.asarray(out)

    @abstractmethod
    def _predict(self, X: Frame) -> Any: ...

    def _predict_proba(self, X: Frame) -> Any:
        raise NotImplementedError

    def _call(self, method: Any, X: Frame) -> Any:
        try:
            return method(X)
        except self._input_errors as exc:
            raise ValidationError(
                f"the {self.flavor} model cannot predict on this input: {reason(exc)}"
            ) from exc

    def _check_input(self, X: Any) -> Frame:
        if isinstance(X, pd.DataFrame):
            shape = X.shape
        elif isinstance(X, np.ndarray):
            if X.ndim != 2:
                raise ValidationError(
                    f"X must be 2-D (one row per sample) for the {self.flavor} model; "
                    f"got an array of shape {X.shape}"
                )
            shape = X.shape
        else:
            raise ValidationError(
                f"X must be a pandas DataFrame or a 2-D numpy array for the {self.flavor} "
                f"model, got {type(X).__name__}"
            )
        if shape[0] == 0:
            raise ValidationError(f"X has no rows: nothing for the {self.flavor} model to predict")
        if self.n_features is not None and shape[1] != self.n_features:
            names = f" ({', '.join(self.feature_names)})" if self.feature_names else ""
            raise ValidationError(
                f"X has {shape[1]} columns but the {self.flavor} model expects "
                f"{self.n_features}{names}"
            )
        return X

    def __repr__(self) -> str:
        kind = f"classes={self.classes!r}" if self.classes is not None else "no classes"
        return f"<{type(self).__name__} {self.flavor}, {kind}, n_features={self.n_features}>"


class Flavor(ABC):
    """How models of one library are saved, read from a user's file, and loaded.

    Subclasses name their library and implement ``detect``, ``_save``, ``_describe`` and
    ``_load``; this class turns whatever a library raises on bad bytes into a
    :class:`~driftline.exceptions.ValidationError` that names the flavor.
    """

    #: The flavor's name, as the CLI's ``--flavor`` and the registry record spell it.
    name: ClassVar[str]
    #: The pip extra that provides the library (``pip install "driftline[EXTRA]"``), or None.
    extra: ClassVar[str | None]
    #: The import name of the library.
    library: ClassVar[str]
    #: Whether loading unpickles, i.e. can run code stored in the bytes.
    uses_pickle: ClassVar[bool] = False
    #: What ``detect`` accepts, for error messages.
    supports: ClassVar[str]
    #: What ``from_file`` reads, for error messages and CLI help.
    file_kinds: ClassVar[str]

    def available(self) -> bool:
        """Whether the flavor's library is installed (found without importing it)."""
        return importlib.util.find_spec(self.library) is not None

    def _lib(self) -> Any:
        if self.extra is None:
            return importlib.import_module(self.library)
        from driftline._optional import require

        return require(self.library, self.extra, purpose=f"{self.name} models")

    def library_version(self) -> str:
        """The installed version of the flavor's library."""
        return str(getattr(self._lib(), "__version__", "unknown"))

    @abstractmethod
    def detect(self, model: Any) -> bool:
        """Whether this flavor can save the in-memory object ``model``."""

    def save(self, model: Any) -> SavedModel:
        """The model as bytes plus the meta that ``load`` needs."""
        if not self.detect(model):
            raise ValidationError(
                f"the {self.name} flavor cannot save an object of type {type_name(model)}; "
                f"it saves {self.supports}"
            )
        try:
            data, meta = self._save(model)
        except DriftlineError:
            raise
        except Exception as exc:  # a library's own error type: name the flavor and the object
            raise ValidationError(
                f"cannot save the {type_name(model)} object with the {self.name} flavor: "
                f"{reason(exc)}"
            ) from exc
        return SavedModel(data=bytes(data), meta=self._meta(meta))

    def from_file(self, path: str | Path) -> SavedModel:
        """Read a model file written the library's own way, after checking it really loads.

        The bytes are kept as they are, so the artifact's sha256 is the file's.
        """
        source = Path(path)
        if not source.is_file():
            raise NotFoundError(f"model file {str(source)!r} does not exist or is not a file")
        data = source.read_bytes()
        self._lib()
        try:
            saved = SavedModel(data=data, meta=self._meta(self._describe(data)))
            self.load(saved.data, saved.meta)
        except DependencyMissingError:
            raise
        except Exception as exc:  # any library error means: not a usable file of this flavor
            raise ValidationError(
                f"{str(source)!r} is not a loadable {self.name} model (expected "
                f"{self.file_kinds}): {reason(exc)}"
            ) from exc
        return saved

    def load(self, data: bytes, meta: dict[str, Any]) -> LoadedModel:
        """A model ready to predict, from bytes this flavor wrote or accepted.

        The caller (the registry) has checked ``data`` against its recorded sha256.
        """
        if meta.get("flavor") != self.name:
            raise ValidationError(
                f"the {self.name} flavor cannot load a model whose meta says flavor "
                f"{meta.get('flavor')!r}; load it with that flavor"
            )
        self._lib()
        what = f"the {self.name} model ({len(data)} bytes, format {meta.get('format')!r})"
        try:
            return self._load(bytes(data), meta)
        except ValidationError as exc:
            raise ValidationError(f"cannot load {what}: {exc}") from exc
        except DriftlineError:
            raise
        except ModuleNotFoundError as exc:
            raise DependencyMissingError(
                f"the {self.name} model needs the module {exc.name!r}, which is not installed "
                "here; install the package that provides it"
            ) from exc
        except Exception as exc:  # corrupt or foreign bytes raise whatever the library raises
            raise ValidationError(f"cannot load {what}: {reason(exc)}") from exc

    @abstractmethod
    def _save(self, model: Any) -> tuple[bytes, dict[str, Any]]: ...

    @abstractmethod
    def _describe(self, data: bytes) -> dict[str, Any]: ...

    @abstractmethod
    def _load(self, data: bytes, meta: dict[str, Any]) -> LoadedModel: ...

    def _meta(self, specific: dict[str, Any]) -> dict[str, Any]:
        meta = {
            "flavor": self.name,
            "library_version": self.library_version(),
            "python_version": platform.python_version(),
            **specific,
        }
        try:
            return dict(json.loads(json.dumps(meta)))
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"the {self.name} model's metadata is not JSON-ready: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def json_labels(values: Iterable[Any] | None) -> list[Any] | None:
    """Class labels as plain str, int, float or bool values (numpy scalars unwrapped)."""
    if values is None:
        return None
    labels = [v.item() if isinstance(v, np.generic) else v for v in values]
    for label in labels:
        if not isinstance(label, str | int | float | bool):
            raise ValidationError(
                f"class label {label!r} of type {type(label).__name__} cannot be recorded; "
                "labels must be str, int, float or bool"
            )
    return labels


def type_name(obj: Any) -> str:
    """``module.QualName`` of an object's type, for messages."""
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def reason(exc: BaseException) -> str:
    """The first line of an exception's message, with its type, trimmed for a message."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if text.endswith(":") and len(lines) > 1:  # "Error(s) in ...:" puts the detail below
        text = f"{text} {lines[1]}"
    if len(text) > _MAX_REASON:
        text = text[:_MAX_REASON] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def feature_frame(X: Frame, names: list[str] | None) -> Frame:
    """``X`` in the form a model fitted on named (or unnamed) columns expects."""
    if names is not None and isinstance(X, np.ndarray):
        return pd.DataFrame(X, columns=names)
    if names is None and isinstance(X, pd.DataFrame):
        return X.to_numpy()
    return X
