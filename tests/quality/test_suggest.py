"""suggest(): a starting suite inferred from reference data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from driftline.exceptions import ValidationError
from driftline.quality import (
    AllowedValues,
    Completeness,
    Schema,
    Suite,
    Uniqueness,
    ValueRange,
    suggest,
)


def _by_kind(suite: Suite, cls, column: str):
    return next(c for c in suite.checks if isinstance(c, cls) and column in c.data_columns)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 1000
    price = rng.uniform(10.0, 20.0, n)
    price[:40] = np.nan
    return pd.DataFrame(
        {
            "order_id": [f"o{i:05d}" for i in range(n)],
            "price": price,
            "qty": rng.integers(1, 9, n),
            "tier": rng.choice(["a", "b", "c"], n),
            "note": [f"free text {i}" for i in rng.integers(0, 600, n)],
        }
    )


def test_the_suggested_suite_passes_on_its_reference(reference: pd.DataFrame) -> None:
    suite = suggest(reference)
    result = suite.run(reference)
    assert result.passed, [c.name for c in result.failed]
    assert suite.run(pl.from_pandas(reference)).to_dict()["checks"] == result.to_dict()["checks"]


def test_completeness_uses_the_observed_share_plus_slack(reference: pd.DataFrame) -> None:
    suite = suggest(reference, slack=0.02)
    assert _by_kind(suite, Completeness, "price").max_missing == pytest.approx(0.04 + 0.02)
    assert _by_kind(suite, Completeness, "qty").max_missing == pytest.approx(0.02)


def test_ranges_are_widened_by_the_margin(reference: pd.DataFrame) -> None:
    suite = suggest(reference, margin=0.1)
    price = _by_kind(suite, ValueRange, "price")
    low, high = reference["price"].min(), reference["price"].max()
    span = high - low
    assert price.min == pytest.approx(low - 0.1 * span, rel=1e-5)
    assert price.max == pytest.approx(high + 0.1 * span, rel=1e-5)
    assert price.min <= low - 0.1 * span and price.max >= high + 0.1 * span
    qty = _by_kind(suite, ValueRange, "qty")
    assert (qty.min, qty.max) == (0, 9)  # whole numbers, never below 0 for a count


def test_categories_ids_and_types(reference: pd.DataFrame) -> None:
    suite = suggest(reference, max_categories=5)
    assert _by_kind(suite, AllowedValues, "tier").values == frozenset({"a", "b", "c"})
    assert not any(isinstance(c, AllowedValues) and c.column == "note" for c in suite.checks)
    uniques = [c.data_columns for c in suite.checks if isinstance(c, Uniqueness)]
    assert uniques == [("order_id",)]
    schema = next(c for c in suite.checks if isinstance(c, Schema))
    assert schema.types == {
        "order_id": "text",
        "price": "numeric",
        "qty": "numeric",
        "tier": "categorical",
        "note": "text",
    }


def test_the_suggested_suite_catches_broken_data(reference: pd.DataFrame) -> None:
    suite = suggest(reference)
    broken = reference.copy()
    broken.loc[:99, "price"] = np.nan
    broken.loc[5, "qty"] = 500
    broken.loc[6, "tier"] = "z"
    broken.loc[7, "order_id"] = broken.loc[8, "order_id"]
    failed = {(c.name, c.column) for c in suite.run(broken).failed}
    assert failed == {
        ("completeness", "price"),
        ("range", "qty"),
        ("allowed_values", "tier"),
        ("unique", "order_id"),
    }


def test_suggested_suites_write_yaml_that_reads_back(reference: pd.DataFrame) -> None:
    suite = suggest(reference)
    assert Suite.from_yaml(suite.to_yaml()) == suite


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(ValidationError, match="margin"):
        suggest({"x": [1]}, margin=-1)
