"""XGBoost and LightGBM: formats, labels, and damaged files that would crash the process."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from driftline.exceptions import ValidationError
from driftline.registry.flavors import get_flavor

from .conftest import TEST, TRAIN, bank, build_case, credit


def test_xgboost_reads_json_and_ubj_files_with_their_wrapper_class(tmp_path: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    case = build_case("xgboost-classifier")
    flavor = get_flavor("xgboost")
    for suffix in ("json", "ubj"):
        path = tmp_path / f"model.{suffix}"
        case.model.save_model(path)
        meta = flavor.from_file(path).meta
        assert (meta["format"], meta["model_class"], meta["classes"]) == (
            suffix,
            "XGBClassifier",
            [0, 1],
        )
    # A Booster from xgb.train has no wrapper: it predicts what its objective outputs.
    X, y = credit()
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3},
        xgb.DMatrix(X.iloc[TRAIN], label=y.iloc[TRAIN]),
        num_boost_round=10,
    )
    saved = flavor.save(booster)
    loaded = flavor.load(saved.data, saved.meta)
    assert saved.meta["model_class"] == "Booster" and not loaded.has_proba
    expected = booster.predict(xgb.DMatrix(X.iloc[TEST]))
    assert np.array_equal(loaded.predict(X.iloc[TEST]), expected)


def test_lightgbm_keeps_string_labels_and_a_file_gives_class_indices(tmp_path: Path) -> None:
    lgb = pytest.importorskip("lightgbm")
    X, y = bank()
    numeric = X.select_dtypes("number")
    model = lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(numeric, y)
    flavor = get_flavor("lightgbm")
    saved = flavor.save(model)
    loaded = flavor.load(saved.data, saved.meta)
    assert saved.meta["classes"] == ["no", "yes"] and loaded.classes == ["no", "yes"]
    assert np.array_equal(loaded.predict(numeric), model.predict(numeric))
    # A model file holds no labels: the same probabilities, with classes 0 and 1.
    model.booster_.save_model(tmp_path / "model.txt")
    from_file = flavor.from_file(tmp_path / "model.txt")
    read_back = flavor.load(from_file.data, from_file.meta)
    assert read_back.classes == [0, 1]
    assert np.array_equal(read_back.predict_proba(numeric), model.predict_proba(numeric))


def test_a_bare_lightgbm_booster_classifies_when_its_objective_does() -> None:
    lgb = pytest.importorskip("lightgbm")
    X, y = credit()
    params = {"objective": "binary", "num_leaves": 8, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(X.iloc[TRAIN], y.iloc[TRAIN]), num_boost_round=10)
    flavor = get_flavor("lightgbm")
    saved = flavor.save(booster)
    loaded = flavor.load(saved.data, saved.meta)
    p = booster.predict(X.iloc[TEST])
    assert loaded.classes == [0, 1]
    assert np.array_equal(loaded.predict_proba(X.iloc[TEST]), np.column_stack([1 - p, p]))
    assert np.array_equal(loaded.predict(X.iloc[TEST]), (p > 0.5).astype(int))
    regression = lgb.train({**params, "objective": "regression"}, lgb.Dataset(X, y), 5)
    assert get_flavor("lightgbm").save(regression).meta["has_proba"] is False


@pytest.mark.parametrize("fraction", np.linspace(0.01, 0.99, 25).round(2).tolist())
@pytest.mark.parametrize("case_name", ["xgboost-classifier", "lightgbm-classifier"])
def test_truncated_tree_models_are_refused_without_crashing(
    case_name: str, fraction: float
) -> None:
    case = build_case(case_name)
    saved = case.flavor.save(case.model)
    # Both native parsers read past the end of such bytes (crashing, aborting, or
    # allocating gigabytes): the structure checks must refuse them first.
    with pytest.raises(ValidationError, match=case.flavor.name):
        case.flavor.load(saved.data[: int(len(saved.data) * fraction)], saved.meta)


def test_a_damaged_lightgbm_file_is_read_in_a_child_process(tmp_path: Path) -> None:
    case = build_case("lightgbm-classifier")
    path = case.write_file(tmp_path)
    text = path.read_text()
    # Same length, so the header's tree sizes still match, but a required field is gone:
    # LightGBM calls std::terminate on this, which would end the test process.
    path.write_text(text.replace("leaf_value=", "leaf_vaXue=", 1))
    with pytest.raises(
        ValidationError, match=r"'.*model\.txt' is not a loadable lightgbm .*crashed"
    ):
        case.flavor.from_file(path)


def test_a_damaged_xgboost_file_is_read_in_a_child_process(tmp_path: Path) -> None:
    case = build_case("xgboost-regressor")
    path = case.write_file(tmp_path)  # UBJSON
    data = bytearray(path.read_bytes())
    marker = b"split_indices[$l#L"
    at = data.find(marker) + len(marker) + 8  # past the int64 length: the root's feature
    assert at > len(marker) + 8, "no split_indices array in the UBJSON model"
    # A root split on feature 100000 of a 12-feature model: XGBoost reads out of bounds.
    data[at : at + 4] = struct.pack(">i", 100_000)
    path.write_bytes(bytes(data))
    with pytest.raises(ValidationError, match=r"is not a loadable xgboost model.*crashed"):
        case.flavor.from_file(path)
    # The intact file still registers after the same child-process read.
    intact = tmp_path / "intact"
    intact.mkdir()
    assert case.flavor.from_file(case.write_file(intact)).meta["model_class"] == "XGBRegressor"


def test_the_ubjson_check_walks_every_length_to_the_end() -> None:
    from driftline.registry.flavors._ubjson import check_ubjson

    # {"a": [two float32]} with a typed, counted array, as XGBoost writes its arrays.
    doc = b"{L" + (1).to_bytes(8, "big") + b"a" + b"[$d#i\x02" + bytes(8) + b"}"
    check_ubjson(doc)
    huge = b"[$d#L" + (1 << 40).to_bytes(8, "big")
    for damaged, reason in (
        (doc[:-1], "runs past the end"),
        (doc + b"Z", "1 bytes follow the end"),
        (huge, "runs past the end"),
        (b"[" * 100, "nested more than 64 deep"),
        (b"{Q}", "expected an integer length"),
        (b"Q", "unknown marker 'Q'"),
    ):
        with pytest.raises(ValidationError, match=reason):
            check_ubjson(damaged)
