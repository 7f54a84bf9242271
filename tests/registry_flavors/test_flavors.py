"""Flavor behaviour beyond the conformance suite: choice, lazy imports, refusals, formats."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import driftline.registry.flavors as flavors
from driftline.exceptions import DependencyMissingError, ValidationError
from driftline.registry.flavors import (
    PythonFlavor,
    flavor_for,
    get_flavor,
)

from .conftest import NearestCentroid, build_case

HEAVY = ("torch", "xgboost", "lightgbm", "onnxruntime", "onnx", "skl2onnx")


def test_public_api_is_curated() -> None:
    assert sorted(flavors.__all__) == sorted(set(flavors.__all__))
    assert set(flavors.__all__) == {
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
    }
    assert list(flavors.FLAVORS) == ["torch", "xgboost", "lightgbm", "onnx", "sklearn", "python"]
    assert {f.extra for f in flavors.FLAVORS.values()} == {
        "torch",
        "xgboost",
        "lightgbm",
        "onnx",
        None,
    }


def test_importing_the_flavors_imports_no_heavy_library() -> None:
    code = (
        "import sys, driftline.registry.flavors as f; f.get_flavor('torch'); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "onnxruntime", "torch"])
def test_a_missing_library_names_the_extra_to_install(
    library: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flavor = next(f for f in flavors.FLAVORS.values() if f.library == library)
    monkeypatch.setitem(sys.modules, library, None)  # makes `import library` fail
    with pytest.raises(DependencyMissingError, match=rf'pip install "driftline\[{flavor.extra}\]"'):
        flavor.load(b"bytes", {"flavor": flavor.name})
    (tmp_path / "model.bin").write_bytes(b"bytes")
    with pytest.raises(DependencyMissingError, match=flavor.extra or ""):
        flavor.from_file(tmp_path / "model.bin")


def test_flavor_for_prefers_the_library_flavor_over_sklearn_and_python() -> None:
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # Both are scikit-learn estimators with predict(): only the order makes them native.
    assert flavor_for(xgb.XGBRegressor()).name == "xgboost"
    assert flavor_for(lgb.LGBMRegressor()).name == "lightgbm"
    assert flavor_for(make_pipeline(StandardScaler(), xgb.XGBRegressor())).name == "sklearn"
    assert flavor_for(NearestCentroid()).name == "python"


def test_flavor_for_an_unsupported_object_lists_what_is_supported() -> None:
    with pytest.raises(ValidationError) as info:
        flavor_for({"weights": [1, 2]})
    message = str(info.value)
    assert message.startswith("no flavor can save an object of type builtins.dict; supported:")
    assert all(name in message for name in flavors.FLAVORS)
    with pytest.raises(ValidationError, match="unknown flavor 'keras'; choose one of torch, "):
        get_flavor("keras")
    with pytest.raises(ValidationError, match=r"the sklearn flavor cannot save .*builtins\.str"):
        get_flavor("sklearn").save("not a model")


def test_saved_model_is_named_by_the_sha256_of_its_bytes() -> None:
    case = build_case("python-object")
    saved = case.flavor.save(case.model)
    assert saved.sha256 == hashlib.sha256(saved.data).hexdigest()
    assert (
        repr(saved)
        == f"SavedModel(flavor='python', size={len(saved.data)}, sha256='{saved.sha256}')"
    )
    assert saved.meta["class"] == "tests.registry_flavors.conftest:NearestCentroid"
    assert saved.meta["classes"] == [0, 1]


def test_unfitted_models_are_refused_with_call_fit_first() -> None:
    from sklearn.linear_model import LogisticRegression

    unfitted: list[Any] = [LogisticRegression()]
    for module, cls in (("xgboost", "XGBClassifier"), ("lightgbm", "LGBMClassifier")):
        library = pytest.importorskip(module)
        unfitted.append(getattr(library, cls)())
    for model in unfitted:
        with pytest.raises(ValidationError, match=r"is not fitted: call fit\(\) first"):
            flavor_for(model).save(model)


class _Doubler:
    def predict(self, X: Any) -> Any:
        return np.asarray(X)[:, 0] * 2


def test_code_defined_in_main_is_refused_at_save(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    # A class and a function as a notebook defines them: importable only as __main__.X.
    main = type("Doubler", (_Doubler,), {"__module__": "__main__"})
    monkeypatch.setattr(sys.modules["__main__"], "Doubler", main, raising=False)

    def square(X: Any) -> Any:
        return X**2

    square.__module__, square.__qualname__ = "__main__", "square"
    monkeypatch.setattr(sys.modules["__main__"], "square", square, raising=False)
    with pytest.raises(ValidationError, match="defined in __main__"):
        PythonFlavor().save(main())
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5.0)
    pipeline = make_pipeline(FunctionTransformer(square), _linear()).fit(X, y)
    with pytest.raises(ValidationError, match="defined in __main__"):
        get_flavor("sklearn").save(pipeline)


def _linear() -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression()


def test_a_file_that_holds_no_model_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "settings.pkl"
    path.write_bytes(pickle.dumps({"threshold": 0.5}))
    for name in ("sklearn", "python"):
        with pytest.raises(ValidationError, match=rf"'{path}' is not a loadable {name} model"):
            get_flavor(name).from_file(path)


class Rendezvous:
    """A model whose two concurrent calls meet at a barrier, if they may run at once."""

    def __init__(self) -> None:
        self.__setstate__({})

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.barrier = threading.Barrier(2, timeout=0.5)
        self.met: list[bool] = []

    def predict(self, X: Any) -> Any:
        try:
            self.barrier.wait()
            self.met.append(True)
        except threading.BrokenBarrierError:
            self.met.append(False)
        return np.zeros(len(X))


@pytest.mark.parametrize("thread_safe", [True, False])
def test_python_models_are_serialized_unless_declared_thread_safe(thread_safe: bool) -> None:
    flavor = PythonFlavor(thread_safe=thread_safe)
    saved = flavor.save(Rendezvous())
    loaded = flavor.load(saved.data, saved.meta)
    threads = [threading.Thread(target=loaded.predict, args=(np.zeros((2, 1)),)) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Unlocked, both calls reach the barrier together; locked, the first one times out.
    assert loaded.native.met == ([True, True] if thread_safe else [False, False])
