"""The ONNX flavor: an ``onnx.ModelProto`` run by an onnxruntime ``InferenceSession``.

The meta records the graph's inputs and outputs, and for a classifier (an ``ai.onnx.ml``
node with class labels, as skl2onnx writes) the class labels and which outputs hold labels
and probabilities. Inputs are fed either as one 2-D tensor (``[N, n_features]``) or as one
``[N, 1]`` tensor per column, in column order, cast to the type each input declares.

Threads: ``InferenceSession.run`` is thread-safe, so one session serves concurrent calls.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import numpy as np

from driftline.exceptions import ValidationError
from driftline.registry.flavors._base import Flavor, Frame, LoadedModel, json_labels

__all__ = ["OnnxFlavor", "OnnxModel"]

_DTYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}
_LABEL_ATTRIBUTES = ("classlabels_strings", "classlabels_int64s", "classlabels_ints")


class OnnxModel(LoadedModel):
    """A loaded ONNX graph behind an onnxruntime session."""

    flavor = "onnx"

    def __init__(self, session: Any, meta: dict[str, Any], input_errors: tuple[Any, ...]) -> None:
        self._inputs: list[dict[str, Any]] = meta["inputs"]
        self._label = meta.get("label_output")
        self._proba = meta.get("proba_output")
        single = len(self._inputs) == 1
        super().__init__(
            native=session,
            classes=meta.get("classes") if self._proba else None,
            feature_names=None if single else [i["name"] for i in self._inputs],
            n_features=_width(self._inputs[0]) if single else len(self._inputs),
        )
        self._outputs = [o["name"] for o in meta["outputs"]]
        self._input_errors = (ValueError, TypeError, *input_errors)

    @property
    def has_proba(self) -> bool:
        """Whether the graph is a classifier with a probability output."""
        return self._proba is not None and self.classes is not None

    def _feed(self, X: Frame) -> dict[str, np.ndarray]:
        if len(self._inputs) == 1:
            spec = self._inputs[0]
            return {spec["name"]: _cast(np.asarray(X), spec["type"])}
        columns = X.to_numpy() if not isinstance(X, np.ndarray) else X
        return {
            spec["name"]: _cast(columns[:, [i]], spec["type"])
            for i, spec in enumerate(self._inputs)
        }

    def _predict(self, X: Frame) -> Any:
        if self.has_proba and self._label is not None:
            return self.native.run([self._label], self._feed(X))[0]
        out = np.asarray(self.native.run([self._outputs[0]], self._feed(X))[0])
        return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out

    def _predict_proba(self, X: Frame) -> Any:
        out = self.native.run([self._proba], self._feed(X))[0]
        if isinstance(out, list):  # a ZipMap output: one {label: probability} dict per row
            return np.array([[row[c] for c in self.classes or []] for row in out])
        return out


class OnnxFlavor(Flavor):
    """ONNX models (``onnx.ModelProto``), run with onnxruntime on the CPU.

    Parameters
    ----------
    intra_op_num_threads
        Threads each session uses inside one operator; None keeps onnxruntime's default.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skl2onnx import to_onnx
    >>> from driftline.registry.flavors import OnnxFlavor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3)).astype(np.float32)
    >>> proto = to_onnx(LogisticRegression().fit(X, (X[:, 0] > 0).astype(int)), X[:1])
    >>> flavor = OnnxFlavor()
    >>> saved = flavor.save(proto)
    >>> saved.meta["classes"], [i["name"] for i in saved.meta["inputs"]]
    ([0, 1], ['X'])
    >>> flavor.load(saved.data, saved.meta).predict_proba(X[:2]).shape
    (2, 2)
    """

    name = "onnx"
    extra = "onnx"
    library = "onnxruntime"
    supports = "ONNX models (onnx.ModelProto, e.g. from skl2onnx.to_onnx)"
    file_kinds = "an .onnx file"

    def __init__(self, *, intra_op_num_threads: int | None = None) -> None:
        self.intra_op_num_threads = intra_op_num_threads

    def available(self) -> bool:
        """Whether onnxruntime and onnx (which reads class labels) are both installed."""
        return super().available() and importlib.util.find_spec("onnx") is not None

    def detect(self, model: Any) -> bool:
        """Whether ``model`` is an ``onnx.ModelProto``."""
        onnx = sys.modules.get("onnx")
        return onnx is not None and isinstance(model, onnx.ModelProto)

    def _save(self, model: Any) -> tuple[bytes, dict[str, Any]]:
        data = model.SerializeToString()
        return data, self._describe(data)

    def _describe(self, data: bytes) -> dict[str, Any]:
        onnx = self._proto_lib()
        session = self._session(data)
        inputs = [_io(i) for i in session.get_inputs()]
        outputs = [_io(o) for o in session.get_outputs()]
        if len(inputs) > 1 and any(_width(i) not in (1, None) for i in inputs):
            raise ValidationError(
                "an ONNX model with several inputs must take one [N, 1] column per input; "
                f"this one takes {[(i['name'], i['shape']) for i in inputs]}"
            )
        classes = _class_labels(onnx.load_model_from_string(data))
        label = next((o["name"] for o in outputs if _is_label(o)), None)
        proba = next((o["name"] for o in outputs if _is_proba(o)), None) if classes else None
        return {
            "format": "onnx",
            "inputs": inputs,
            "outputs": outputs,
            "classes": classes,
            "label_output": label if proba else None,
            "proba_output": proba,
            "has_proba": proba is not None,
            "n_features": _width(inputs[0]) if len(inputs) == 1 else len(inputs),
        }

    def _load(self, data: bytes, meta: dict[str, Any]) -> LoadedModel:
        ort = self._lib()
        session = self._session(data)
        names = [i.name for i in session.get_inputs()]
        if names != [i["name"] for i in meta.get("inputs", [])]:
            raise ValidationError(
                f"the ONNX graph's inputs {names} differ from the meta's "
                f"{[i['name'] for i in meta.get('inputs', [])]}"
            )
        errors = ort.capi.onnxruntime_pybind11_state
        return OnnxModel(session, meta, (errors.InvalidArgument, errors.Fail))

    def _session(self, data: bytes) -> Any:
        ort = self._lib()
        options = ort.SessionOptions()
        if self.intra_op_num_threads is not None:
            options.intra_op_num_threads = self.intra_op_num_threads
        return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def _proto_lib(self) -> Any:
        from driftline._optional import require

        return require("onnx", self.extra or "onnx", purpose="reading ONNX class labels")

    def library_version(self) -> str:
        """The installed onnxruntime version."""
        return str(self._lib().__version__)

    def __repr__(self) -> str:
        return f"OnnxFlavor(intra_op_num_threads={self.intra_op_num_threads})"


def _io(node: Any) -> dict[str, Any]:
    shape = [d if isinstance(d, int) else None for d in (node.shape or [])]
    return {"name": node.name, "type": node.type, "shape": shape}


def _width(spec: dict[str, Any]) -> int | None:
    shape = spec["shape"]
    return shape[1] if len(shape) == 2 else None


def _cast(values: np.ndarray, onnx_type: str) -> np.ndarray:
    dtype = _DTYPES.get(onnx_type)
    if dtype is None:
        raise ValidationError(f"the ONNX model takes {onnx_type}, which driftline cannot feed")
    return values.astype(dtype, copy=False)


def _is_label(spec: dict[str, Any]) -> bool:
    return spec["type"] in ("tensor(int64)", "tensor(string)") and len(spec["shape"]) == 1


def _is_proba(spec: dict[str, Any]) -> bool:
    kind = spec["type"]
    return kind.startswith("seq(map(") or (
        kind in ("tensor(float)", "tensor(double)") and len(spec["shape"]) == 2
    )


def _class_labels(proto: Any) -> list[Any] | None:
    """Class labels from the first ``ai.onnx.ml`` node that declares them (ZipMap, a classifier)."""
    for node in proto.graph.node:
        if node.domain != "ai.onnx.ml":
            continue
        for attribute in node.attribute:
            if attribute.name in _LABEL_ATTRIBUTES:
                if attribute.strings:
                    return [s.decode("utf-8") for s in attribute.strings]
                return json_labels(list(attribute.ints))
    return None
