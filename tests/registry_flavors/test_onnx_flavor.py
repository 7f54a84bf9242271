"""ONNX: graphs with one input per column, and meta that must match the graph."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from driftline.exceptions import ValidationError
from driftline.registry.flavors import get_flavor

from .conftest import FLOAT32_ATOL, TEST, TRAIN, build_case, credit


def test_onnx_graph_with_one_input_per_column_matches_sklearn() -> None:
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = credit()
    X = X[["LIMIT_BAL", "AGE", "PAY_0", "BILL_AMT1"]].astype("float32")
    model = make_pipeline(
        make_column_transformer((StandardScaler(), list(X.columns))),
        LogisticRegression(max_iter=1000),
    ).fit(X.iloc[TRAIN], y.iloc[TRAIN])
    # From a DataFrame, skl2onnx makes one [N, 1] input per column.
    proto = skl2onnx.to_onnx(model, X.iloc[:1], options={"zipmap": False})
    flavor = get_flavor("onnx")
    saved = flavor.save(proto)
    assert [i["name"] for i in saved.meta["inputs"]] == list(X.columns)
    loaded = flavor.load(saved.data, saved.meta)
    assert loaded.feature_names == list(X.columns) and loaded.n_features == 4
    Xt = X.iloc[TEST]
    assert np.array_equal(loaded.predict(Xt), model.predict(Xt))
    proba: Any = loaded.predict_proba(Xt.to_numpy())
    assert np.abs(proba - model.predict_proba(Xt)).max() <= FLOAT32_ATOL
    with pytest.raises(ValidationError, match=r"X has 3 columns but the onnx model expects 4 "):
        loaded.predict(Xt.iloc[:, :3])


def test_an_onnx_meta_that_does_not_match_the_graph_is_refused() -> None:
    case = build_case("onnx-regressor")
    saved = case.flavor.save(case.model)
    meta = {**saved.meta, "inputs": [{**saved.meta["inputs"][0], "name": "features"}]}
    with pytest.raises(
        ValidationError, match=r"inputs \['X'\] differ from the meta's \['features'\]"
    ):
        case.flavor.load(saved.data, meta)
