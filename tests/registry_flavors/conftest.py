"""Small models of every flavor, trained here on real datasets, as conformance cases.

Each builder trains once per session (a few hundred rows) and computes what the model's own
library predicts; a case whose library is missing is skipped with the reason.
"""

from __future__ import annotations

import functools
import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest

from driftline.registry.flavors import get_flavor
from driftline.testing.flavor_checks import FlavorCase

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
TRAIN, TEST = slice(0, 400), slice(400, 600)
# The torch and ONNX cases run in float32: their predictions agree within this.
FLOAT32_ATOL = 1e-5

try:
    import torch
except ModuleNotFoundError:  # the torch cases skip; the rest need no torch
    torch = None  # type: ignore[assignment]

if torch is not None:

    class CreditNet(torch.nn.Module):
        """A two-layer network, rebuilt from its class path and state_dict."""

        def __init__(self, n_features: int, hidden: int) -> None:
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(n_features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layers(x)


class NearestCentroid:
    """A plain Python classifier: the closest class mean wins (the python flavor's model)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> NearestCentroid:
        self.classes_ = np.unique(y)
        self.scale_ = X.std(axis=0) + 1e-9
        self.centroids_ = np.stack([X[y == c].mean(axis=0) for c in self.classes_])
        return self

    def _distances(self, X: Any) -> np.ndarray:
        Z = np.asarray(X, dtype=float) / self.scale_
        return np.linalg.norm(Z[:, None, :] - self.centroids_ / self.scale_, axis=2)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmin(self._distances(X), axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        weights = np.exp(-self._distances(X))
        return weights / weights.sum(axis=1, keepdims=True)


@functools.cache
def _read(name: str, rows: int = 600) -> pd.DataFrame:
    path = DATASETS / name
    if not path.is_file():
        pytest.skip(f"shared dataset {name} not found at {DATASETS}")
    return pd.read_csv(path, nrows=rows)


def credit() -> tuple[pd.DataFrame, pd.Series]:
    """Credit card default: 23 numeric features, binary target."""
    frame = _read("credit_default_taiwan.csv.gz")
    return frame.drop(columns=["ID", "defaulted"]).astype("float64"), frame["defaulted"]


def bike() -> tuple[pd.DataFrame, pd.Series]:
    """Hourly bike rentals: numeric features, count target (regression)."""
    frame = _read("bike_sharing_hour.csv.gz")
    features = [
        "season",
        "yr",
        "mnth",
        "hr",
        "holiday",
        "weekday",
        "workingday",
        "weathersit",
        "temp",
        "atemp",
        "hum",
        "windspeed",
    ]
    return frame[features].astype("float64"), frame["cnt"].astype("float64")


def bank() -> tuple[pd.DataFrame, pd.Series]:
    """Bank marketing: mixed numeric and categorical features, yes/no target."""
    frame = _read("bank_marketing.csv.gz", rows=2000).iloc[::3].reset_index(drop=True)
    return frame.drop(columns=["y"]), frame["y"]


def _writer(write: Callable[[Path], None], filename: str) -> Callable[[Path], Path]:
    def write_file(directory: Path) -> Path:
        path = directory / filename
        write(path)
        return path

    return write_file


def _sklearn_pipeline() -> FlavorCase:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = bank()
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric)
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X.iloc[TRAIN], y.iloc[TRAIN])
    Xt = X.iloc[TEST]
    return FlavorCase(
        flavor=get_flavor("sklearn"),
        model=model,
        X=Xt,
        expected=model.predict(Xt),
        expected_proba=model.predict_proba(Xt),
        write_file=_writer(lambda p: joblib.dump(model, p, compress=3), "pipeline.joblib"),
    )


def _sklearn_regressor() -> FlavorCase:
    from sklearn.ensemble import RandomForestRegressor

    X, y = bike()
    # Fitted on an array (no column names), to cover that input path too.
    model = RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0)
    model.fit(X.iloc[TRAIN].to_numpy(), y.iloc[TRAIN])
    Xt = X.iloc[TEST].to_numpy()

    def write(path: Path) -> None:
        path.write_bytes(pickle.dumps(model, protocol=4))

    return FlavorCase(
        flavor=get_flavor("sklearn"),
        model=model,
        X=Xt,
        expected=model.predict(Xt),
        write_file=_writer(write, "forest.pkl"),
    )


def _xgboost_classifier() -> FlavorCase:
    xgb = pytest.importorskip("xgboost", reason="xgboost is not installed")
    X, y = credit()
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, random_state=0).fit(
        X.iloc[TRAIN], y.iloc[TRAIN]
    )
    Xt = X.iloc[TEST]
    return FlavorCase(
        flavor=get_flavor("xgboost"),
        model=model,
        X=Xt,
        expected=model.predict(Xt),
        expected_proba=model.predict_proba(Xt),
        write_file=_writer(model.save_model, "model.json"),
    )


def _xgboost_regressor() -> FlavorCase:
    xgb = pytest.importorskip("xgboost", reason="xgboost is not installed")
    X, y = bike()
    model = xgb.XGBRegressor(n_estimators=20, max_depth=4, random_state=0).fit(
        X.iloc[TRAIN], y.iloc[TRAIN]
    )
    Xt = X.iloc[TEST]
    return FlavorCase(
        flavor=get_flavor("xgboost"),
        model=model,
        X=Xt,
        expected=model.predict(Xt),
        write_file=_writer(model.save_model, "model.ubj"),
    )


def _lightgbm_classifier() -> FlavorCase:
    lgb = pytest.importorskip("lightgbm", reason="lightgbm is not installed")
    X, y = credit()
    model = lgb.LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1, random_state=0)
    model.fit(X.iloc[TRAIN], y.iloc[TRAIN])
    Xt = X.iloc[TEST]
    return FlavorCase(
        flavor=get_flavor("lightgbm"),
        model=model,
        X=Xt,
        expected=model.predict(Xt),
        expected_proba=model.predict_proba(Xt),
        write_file=_writer(model.booster_.save_model, "model.txt"),
    )


def _lightgbm_regressor() -> FlavorCase:
    lgb = pytest.importorskip("lightgbm", reason="lightgbm is not installed")
    X, y = bike()
    model = lgb.LGBMRegressor(n_estimators=20, num_leaves=8, verbose=-1, random_state=0)
    model.fit(X.iloc[TRAIN], y.iloc[TRAIN])
    Xt = X.iloc[TEST]
    return FlavorCase(
        flavor=get_flavor("lightgbm"),
        model=model,
        X=Xt,
        expected=model.predict(Xt),
        write_file=_writer(model.booster_.save_model, "model.txt"),
    )


def _onnx_classifier() -> FlavorCase:
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is not installed")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = credit()
    X = X.astype("float32")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(X.iloc[TRAIN].to_numpy(), y.iloc[TRAIN])
    proto = skl2onnx.to_onnx(model, X.iloc[TRAIN].to_numpy()[:1])  # with ZipMap: dicts per row
    Xt = X.iloc[TEST]
    # The reference is scikit-learn's own float64 answer: ONNX must reproduce it in float32.
    return FlavorCase(
        flavor=get_flavor("onnx"),
        model=proto,
        X=Xt,
        atol=FLOAT32_ATOL,
        expected=model.predict(Xt.to_numpy()),
        expected_proba=model.predict_proba(Xt.to_numpy()),
        write_file=_writer(lambda p: p.write_bytes(proto.SerializeToString()), "model.onnx"),
    )


def _onnx_regressor() -> FlavorCase:
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    skl2onnx = pytest.importorskip("skl2onnx", reason="skl2onnx is not installed")
    from sklearn.linear_model import Ridge

    X, y = bike()
    X = X.astype("float32")
    model = Ridge(alpha=1.0).fit(X.iloc[TRAIN].to_numpy(), y.iloc[TRAIN])
    proto = skl2onnx.to_onnx(model, X.iloc[TRAIN].to_numpy()[:1])
    Xt = X.iloc[TEST]
    # Counts in the hundreds: float32 keeps about 7 digits, so compare to 1e-5 relative.
    expected = model.predict(Xt.to_numpy())
    return FlavorCase(
        flavor=get_flavor("onnx"),
        model=proto,
        X=Xt,
        atol=FLOAT32_ATOL * float(np.abs(expected).max()),
        expected=expected,
        write_file=_writer(lambda p: p.write_bytes(proto.SerializeToString()), "ridge.onnx"),
    )


def _standardized_credit() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    X, y = credit()
    mean, std = X.iloc[TRAIN].mean(), X.iloc[TRAIN].std() + 1e-9
    Z = ((X - mean) / std).astype("float32")
    return Z.iloc[TRAIN], Z.iloc[TEST], y.iloc[TRAIN].to_numpy()


def _train(module: Any, X: pd.DataFrame, y: np.ndarray, loss_fn: Any) -> Any:
    torch.manual_seed(0)
    inputs, target = torch.from_numpy(X.to_numpy()), torch.from_numpy(y)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    for _ in range(60):
        optimizer.zero_grad()
        loss_fn(module(inputs), target).backward()
        optimizer.step()
    return module.eval()


def _forward(module: Any, X: pd.DataFrame) -> np.ndarray:
    with torch.no_grad():
        return np.asarray(module(torch.from_numpy(X.to_numpy())).numpy())


def _torch_state_dict() -> FlavorCase:
    if torch is None:
        pytest.skip("torch is not installed")
    from driftline.registry.flavors import TorchModel

    train, test, y = _standardized_credit()
    torch.manual_seed(0)
    net = _train(CreditNet(23, 16), train, y.astype("int64"), torch.nn.functional.cross_entropy)
    logits = _forward(net, test)
    proba = np.asarray(torch.softmax(torch.from_numpy(logits), dim=1).numpy())

    def write(path: Path) -> None:  # the user's own file is TorchScript, with no labels
        torch.jit.save(torch.jit.script(net), str(path))

    return FlavorCase(
        flavor=get_flavor("torch"),
        X=test,
        atol=FLOAT32_ATOL,
        model=TorchModel(
            net, init_kwargs={"n_features": 23, "hidden": 16}, output="logits", classes=[0, 1]
        ),
        expected=np.array([0, 1])[proba.argmax(axis=1)],
        expected_proba=proba,
        write_file=_writer(write, "net.pt"),
        file_expected=logits,
    )


def _torch_script() -> FlavorCase:
    if torch is None:
        pytest.skip("torch is not installed")
    X, y = bike()
    mean, std = X.iloc[TRAIN].mean(), X.iloc[TRAIN].std() + 1e-9
    Z = ((X - mean) / std).astype("float32")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    target = (y.iloc[TRAIN].to_numpy(dtype="float32") / 100.0).reshape(-1, 1)
    _train(net, Z.iloc[TRAIN], target, torch.nn.functional.mse_loss)
    scripted = torch.jit.script(net)
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    return FlavorCase(
        flavor=get_flavor("torch"),
        model=scripted,
        X=Z.iloc[TEST],
        atol=FLOAT32_ATOL,
        expected=_forward(net, Z.iloc[TEST])[:, 0],
        write_file=_writer(lambda p: p.write_bytes(buffer.getvalue()), "regressor.pt"),
    )


def _torch_exported() -> FlavorCase:
    if torch is None:
        pytest.skip("torch is not installed")
    train, test, y = _standardized_credit()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(23, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    _train(net, train, y.astype("float32").reshape(-1, 1), torch.nn.functional.mse_loss)
    rows = torch.export.Dim("rows")
    program = torch.export.export(
        net, (torch.from_numpy(train.to_numpy()[:5]),), dynamic_shapes=({0: rows},)
    )
    return FlavorCase(
        flavor=get_flavor("torch"),
        model=program,
        X=test,
        atol=FLOAT32_ATOL,
        expected=_forward(net, test)[:, 0],
        write_file=_writer(lambda p: torch.export.save(program, str(p)), "program.pt2"),
    )


def _python_object() -> FlavorCase:
    X, y = credit()
    model = NearestCentroid().fit(X.iloc[TRAIN].to_numpy(), y.iloc[TRAIN].to_numpy())
    Xt = X.iloc[TEST]
    return FlavorCase(
        flavor=get_flavor("python"),
        model=model,
        X=Xt,
        expected=model.predict(Xt),
        expected_proba=model.predict_proba(Xt),
        write_file=_writer(lambda p: p.write_bytes(pickle.dumps(model)), "centroids.pkl"),
    )


CASES: dict[str, Callable[[], FlavorCase]] = {
    "sklearn-pipeline-classifier": _sklearn_pipeline,
    "sklearn-forest-regressor": _sklearn_regressor,
    "xgboost-classifier": _xgboost_classifier,
    "xgboost-regressor": _xgboost_regressor,
    "lightgbm-classifier": _lightgbm_classifier,
    "lightgbm-regressor": _lightgbm_regressor,
    "onnx-classifier": _onnx_classifier,
    "onnx-regressor": _onnx_regressor,
    "torch-state-dict-classifier": _torch_state_dict,
    "torch-torchscript-regressor": _torch_script,
    "torch-exported-program": _torch_exported,
    "python-object": _python_object,
}


@functools.cache
def build_case(name: str) -> FlavorCase:
    """The case called ``name``, trained once per session."""
    return CASES[name]()
