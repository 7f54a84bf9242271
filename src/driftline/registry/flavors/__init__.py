"""Model flavors: how models of each library are saved, loaded and called.

One flavor per library, one module each: ``sklearn`` (any fitted estimator, Pipelines
included), ``xgboost``, ``lightgbm``, ``onnx`` (onnxruntime), ``torch`` (TorchScript, a
``torch.export`` program, or a module class + state_dict) and ``python`` (any object with
``predict``). Every flavor offers the same contract:

- ``detect(model)``: can it save this in-memory object; :func:`flavor_for` picks one.
- ``save(model) -> SavedModel``: bytes plus JSON-ready ``meta`` (flavor, format, library
  version, and what loading needs: ONNX input names, a torch class path, class labels).
- ``from_file(path) -> SavedModel``: a model file written the library's own way (what
  ``driftline models register NAME FILE --flavor F`` reads), checked to really load.
- ``load(data, meta) -> LoadedModel``: ``predict``, ``predict_proba`` when ``has_proba``,
  ``classes``; ``X`` is a DataFrame in the model's column order or a 2-D array, and
  calls are safe from many threads (each flavor module says how).

Importing this package imports none of torch, xgboost, lightgbm or onnxruntime: each flavor
imports its library on first use through :func:`driftline._optional.require`, and the error
names the extra to install (``pip install "driftline[xgboost]"``).

Why loading waits for the hash check
------------------------------------
The ``sklearn`` and ``python`` flavors store pickles (``uses_pickle``). Unpickling runs
code: a pickle names callables that the loader calls to rebuild the object, so a tampered
artifact runs whatever its author wrote, with the server's rights, at load time, before any
prediction could look wrong. The registry therefore compares the artifact's sha256 with the
digest it recorded at registration and calls ``load`` only when they match; bytes changed
on disk or in the object store are refused unread. The other formats (XGBoost UBJSON,
LightGBM text, ONNX protobuf, TorchScript, exported programs, state_dicts read with
``weights_only=True``) run no stored code, but the native parsers of XGBoost and LightGBM
can crash the process on damaged bytes. Their flavors check the bytes' structure before
parsing (so truncated or garbage bytes give a ValidationError), ``from_file`` has a child
process read and predict with a user's file first, and the registry's hash check keeps
any later damage away. The hash check proves the bytes are the ones that were registered,
not that whoever registered them is trusted: register only models from people allowed to
run code on the serving machines.
"""

from driftline.registry.flavors._base import Flavor, Frame, LoadedModel, SavedModel
from driftline.registry.flavors._catalog import (
    FLAVORS,
    available_flavors,
    flavor_for,
    get_flavor,
)
from driftline.registry.flavors.lightgbm import LightGBMFlavor
from driftline.registry.flavors.onnx import OnnxFlavor
from driftline.registry.flavors.python import PythonFlavor
from driftline.registry.flavors.sklearn import SklearnFlavor
from driftline.registry.flavors.torch import TorchFlavor, TorchModel
from driftline.registry.flavors.xgboost import XGBoostFlavor

__all__ = [
    "FLAVORS",
    "Flavor",
    "Frame",
    "LightGBMFlavor",
    "LoadedModel",
    "OnnxFlavor",
    "PythonFlavor",
    "SavedModel",
    "SklearnFlavor",
    "TorchFlavor",
    "TorchModel",
    "XGBoostFlavor",
    "available_flavors",
    "flavor_for",
    "get_flavor",
]
