"""The PyTorch flavor: TorchScript, torch.export programs, or a module class plus state_dict.

Three formats, chosen by what is saved:

- a ``torch.jit.ScriptModule``: TorchScript (``torch.jit.save``). TorchScript is deprecated
  upstream (torch 2.13 emits a DeprecationWarning from every ``torch.jit`` call); it is kept
  for the models that exist in that form.
- a ``torch.export.ExportedProgram``: ``torch.export.save``, upstream's successor format.
- any other ``torch.nn.Module``: its ``state_dict`` (read back with ``weights_only=True``,
  so no pickled code runs) plus the class as ``"package.module:Class"`` and the
  constructor's keyword arguments, given with :class:`TorchModel`.

:class:`TorchModel` also says what the output means: plain values (``"value"``), class
``"logits"`` (softmax, or a sigmoid for one column) or ``"probabilities"``; the last two
need ``classes`` and give the model ``predict_proba``. Inputs are cast to one float32
tensor ``[rows, columns]``.

Threads: each call runs under ``torch.inference_mode()`` (thread-local, no autograd
state), and modules are put in eval mode once at load, so the forward pass only reads
weights and one module serves concurrent calls. Loading changes no global state unless
``TorchFlavor(num_threads=n)`` asks for ``torch.set_num_threads(n)``, which is process-wide:
the server that owns the process chooses it (1 or 2 when a thread pool already runs several
requests at once).
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from driftline.exceptions import DependencyMissingError, ValidationError
from driftline.registry.flavors._base import (
    Flavor,
    Frame,
    LoadedModel,
    json_labels,
    type_name,
)

__all__ = ["TorchFlavor", "TorchLoadedModel", "TorchModel"]

_OUTPUTS = ("value", "logits", "probabilities")


@dataclass(frozen=True, eq=False)
class TorchModel:
    """A torch module with what it takes to rebuild it and to read its output.

    ``init_kwargs`` (JSON-ready) rebuild a plain ``nn.Module`` from its class; they are not
    used for TorchScript or exported programs.
    """

    module: Any
    init_kwargs: Mapping[str, Any] = field(default_factory=dict)
    output: str = "value"
    classes: Sequence[Any] | None = None


class TorchLoadedModel(LoadedModel):
    """A loaded torch module, called on a float32 tensor under ``torch.inference_mode()``."""

    flavor = "torch"

    def __init__(self, module: Any, *, output: str, classes: list[Any] | None) -> None:
        super().__init__(native=module, classes=classes if output != "value" else None)
        self.output = output
        # Shape mismatches surface as RuntimeError from a module, and as AssertionError from
        # an exported program's input guards: both mean the input does not fit the model.
        self._input_errors = (ValueError, TypeError, RuntimeError, AssertionError)

    @property
    def has_proba(self) -> bool:
        """Whether the output is class logits or probabilities."""
        return self.output != "value"

    def _forward(self, X: Frame) -> Any:
        import torch

        values = X.to_numpy(dtype=np.float32) if not isinstance(X, np.ndarray) else X
        # A copy: pandas 3 hands out read-only arrays, which torch cannot wrap safely.
        tensor = torch.from_numpy(np.array(values, dtype=np.float32, order="C"))
        with torch.inference_mode():
            out = self.native(tensor)
            if self.output == "logits":
                two = out.ndim == 1 or out.shape[1] == 1
                out = _binary(torch.sigmoid(out)) if two else torch.softmax(out, dim=1)
            elif self.output == "probabilities" and (out.ndim == 1 or out.shape[1] == 1):
                out = _binary(out)
            return out.cpu().numpy()

    def _predict(self, X: Frame) -> Any:
        out = self._forward(X)
        if self.output != "value":
            return np.asarray(self.classes)[np.argmax(out, axis=1)]
        return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out

    def _predict_proba(self, X: Frame) -> Any:
        return self._forward(X)


class TorchFlavor(Flavor):
    """PyTorch modules: TorchScript, ``torch.export`` programs, or class + state_dict.

    Parameters
    ----------
    num_threads
        If set, ``torch.set_num_threads(num_threads)`` at load (process-wide); None leaves
        torch's setting alone.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from driftline.registry.flavors import TorchFlavor, TorchModel
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Linear(3, 2)
    >>> flavor = TorchFlavor()
    >>> saved = flavor.save(TorchModel(net, init_kwargs={"in_features": 3, "out_features": 2},
    ...                                output="logits", classes=["no", "yes"]))
    >>> saved.meta["format"], saved.meta["class"]
    ('state_dict', 'torch.nn.modules.linear:Linear')
    >>> loaded = flavor.load(saved.data, saved.meta)
    >>> X = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    >>> proba = loaded.predict_proba(X)
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
    ((4, 2), True)
    """

    name = "torch"
    extra = "torch"
    library = "torch"
    supports = "torch modules (nn.Module, ScriptModule, ExportedProgram, or a TorchModel)"
    file_kinds = "a TorchScript file (torch.jit.save) or a torch.export program (.pt2)"

    def __init__(self, *, num_threads: int | None = None) -> None:
        self.num_threads = num_threads

    def detect(self, model: Any) -> bool:
        """Whether ``model`` is a torch module, an exported program or a :class:`TorchModel`."""
        if isinstance(model, TorchModel):
            return True
        torch = sys.modules.get("torch")
        return torch is not None and isinstance(
            model, torch.nn.Module | torch.export.ExportedProgram
        )

    def _save(self, model: Any) -> tuple[bytes, dict[str, Any]]:
        torch = self._lib()
        spec = model if isinstance(model, TorchModel) else TorchModel(model)
        facts = _output_facts(spec)
        module, buffer = spec.module, io.BytesIO()
        if isinstance(module, torch.jit.ScriptModule | torch.export.ExportedProgram):
            if spec.init_kwargs:
                raise ValidationError(
                    "init_kwargs rebuild a module class from its state_dict; a TorchScript "
                    "module or exported program carries its own code, so leave them out"
                )
            if isinstance(module, torch.jit.ScriptModule):
                torch.jit.save(module, buffer)
                return buffer.getvalue(), {"format": "torchscript", **facts}
            torch.export.save(module, buffer)
            return buffer.getvalue(), {"format": "exported_program", **facts}
        if not isinstance(module, torch.nn.Module):
            raise ValidationError(
                f"TorchModel.module must be a torch module, not {type_name(module)}"
            )
        path, kwargs = _class_path(module), _json_kwargs(spec.init_kwargs)
        torch.save(module.state_dict(), buffer)
        data = buffer.getvalue()
        # Rebuild once now, so wrong init_kwargs fail at registration and not when serving.
        _rebuild(torch, path, kwargs, data)
        return data, {"format": "state_dict", "class": path, "init_kwargs": kwargs, **facts}

    def _describe(self, data: bytes) -> dict[str, Any]:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        if any(n.endswith("/constants.pkl") for n in names):
            fmt = "torchscript"
        elif any(n.endswith("/archive_format") for n in names):
            fmt = "exported_program"
        else:
            raise ValidationError(
                "the archive is neither TorchScript nor a torch.export program; a bare "
                "state_dict cannot be registered from a file: save "
                "TorchModel(module, init_kwargs=...) from Python instead"
            )
        return {"format": fmt, "output": "value", "classes": None, "has_proba": False}

    def _load(self, data: bytes, meta: dict[str, Any]) -> LoadedModel:
        torch = self._lib()
        fmt = meta.get("format")
        if fmt == "torchscript":
            module = torch.jit.load(io.BytesIO(data), map_location="cpu").eval()
        elif fmt == "exported_program":
            # An exported graph is fixed in the mode it was exported in; it has no eval().
            module = torch.export.load(io.BytesIO(data)).module()
        elif fmt == "state_dict":
            module = _rebuild(torch, str(meta.get("class")), meta.get("init_kwargs") or {}, data)
        else:
            raise ValidationError(f"unknown torch model format {fmt!r} in the meta")
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        return TorchLoadedModel(
            module, output=meta.get("output", "value"), classes=meta.get("classes")
        )

    def __repr__(self) -> str:
        return f"TorchFlavor(num_threads={self.num_threads})"


def _binary(p: Any) -> Any:
    import torch

    p = p.reshape(-1, 1)
    return torch.cat((1.0 - p, p), dim=1)


def _output_facts(spec: TorchModel) -> dict[str, Any]:
    if spec.output not in _OUTPUTS:
        raise ValidationError(f"TorchModel output {spec.output!r} is not one of {_OUTPUTS}")
    if spec.output != "value" and (spec.classes is None or len(spec.classes) < 2):
        raise ValidationError(
            f"TorchModel output {spec.output!r} needs classes: the labels of the output "
            "columns, at least two"
        )
    classes = json_labels(spec.classes) if spec.output != "value" else None
    return {"output": spec.output, "classes": classes, "has_proba": spec.output != "value"}


def _class_path(module: Any) -> str:
    kind = type(module)
    path = f"{kind.__module__}:{kind.__qualname__}"
    if kind.__module__ == "__main__" or "<locals>" in kind.__qualname__:
        raise ValidationError(
            f"cannot save {path} by its state_dict: the class must live in an importable "
            "module for the process that loads it; move it there, or save TorchScript or "
            "a torch.export program instead"
        )
    return path


def _json_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return dict(json.loads(json.dumps(dict(kwargs))))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"TorchModel.init_kwargs must be JSON-ready: {exc}") from exc


def _rebuild(torch: Any, path: str, kwargs: Mapping[str, Any], data: bytes) -> Any:
    module_name, _, qualname = path.partition(":")
    try:
        cls: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise DependencyMissingError(
            f"the torch model class {path!r} cannot be imported ({exc}); install the package "
            "that defines it"
        ) from exc
    for part in qualname.split("."):
        cls = getattr(cls, part, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise ValidationError(f"{path!r} does not name a torch.nn.Module class")
    try:
        module = cls(**kwargs)
    except TypeError as exc:
        raise ValidationError(f"{path}(**{kwargs}) failed: {exc}; check init_kwargs") from exc
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:  # torch lists every missing, unexpected or mis-sized tensor
        detail = " ".join(str(exc).split())
        raise ValidationError(
            f"the state_dict does not fit {path}(**{kwargs}): {detail[:400]}; check init_kwargs"
        ) from exc
    return module.eval()
