"""A served request's rows as columns: what the server hands the prediction log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

import numpy as np
import pandas as pd

from driftline.exceptions import ValidationError

__all__ = ["PredictionBatch"]


class JoinedIds(Sequence[str]):
    """Prediction ids kept as one newline-joined text; split only if one is asked for.

    The process writer's child gets each batch's ids as text, and the encoder wants them as
    text again: this skips the split and the join in between.

    >>> ids = JoinedIds("\\n".join(["a", "b", "c"]), 3)
    >>> len(ids), ids[1], list(ids)
    (3, 'b', ['a', 'b', 'c'])
    """

    __slots__ = ("_items", "_n", "text")

    def __init__(self, text: str, n: int) -> None:
        self.text, self._n = text, n
        self._items: list[str] | None = None

    def __len__(self) -> int:
        return self._n

    def _split(self) -> list[str]:
        if self._items is None:
            self._items = self.text.split("\n") if self._n else []
        return self._items

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self._split()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._split())


@dataclass(frozen=True, slots=True)
class PredictionBatch:
    """The rows of one answered request, kept as arrays until the log writer encodes them.

    Handing the log one batch per request costs the request path a constant few
    microseconds, however many rows it has; the writer's thread turns many batches into
    Arrow columns at once, with no per-row Python work for numeric features.
    ``features`` is a 2-D array or a DataFrame whose columns are ``feature_names``;
    ``predictions`` has one entry per row and ``probabilities`` (when given) one row per row.
    ``latency_ms`` is one number for every row or an array with one per row (a batch that
    merges several requests). ``time`` defaults to the writer's clock.

    >>> import numpy as np
    >>> batch = PredictionBatch(
    ...     model="fraud", version=3, prediction_ids=["a", "b"],
    ...     predictions=np.array([0, 1]), features=np.array([[1.0, 2.0], [3.0, 4.0]]),
    ...     feature_names=("amount", "age"),
    ... )
    >>> len(batch), batch.rows()[1]["features"]
    (2, {'amount': 3.0, 'age': 4.0})
    """

    model: str
    version: int
    prediction_ids: Sequence[str]
    predictions: np.ndarray
    features: np.ndarray | pd.DataFrame
    feature_names: tuple[str, ...]
    probabilities: np.ndarray | None = None
    route: str | None = None
    latency_ms: float | np.ndarray | None = None
    time: datetime | None = None

    def __post_init__(self) -> None:
        # Built once per request on the server's event loop: check cheaply, explain slowly.
        n = len(self.prediction_ids)
        features, proba = self.features, self.probabilities
        if (
            len(self.predictions) != n
            or features.shape[0] != n
            or (proba is not None and len(proba) != n)
            or (isinstance(self.latency_ms, np.ndarray) and len(self.latency_ms) != n)
            or features.ndim != 2
            or features.shape[1] != len(self.feature_names)
        ):
            raise ValidationError(self._mismatch())

    def _mismatch(self) -> str:
        n = len(self.prediction_ids)
        sizes = {"predictions": len(self.predictions), "features": int(self.features.shape[0])}
        if self.probabilities is not None:
            sizes["probabilities"] = len(self.probabilities)
        if isinstance(self.latency_ms, np.ndarray):
            sizes["latency_ms"] = len(self.latency_ms)
        wrong = ", ".join(f"{name} has {size}" for name, size in sizes.items() if size != n)
        if wrong:
            return f"prediction batch of {n} prediction_ids has mismatched rows: {wrong}"
        return (
            f"prediction batch features must be 2-D with {len(self.feature_names)} columns "
            f"(feature_names), got shape {self.features.shape}"
        )

    def __len__(self) -> int:
        return len(self.prediction_ids)

    def take(self, index: slice | np.ndarray) -> PredictionBatch:
        """The rows picked by a slice or a boolean mask, as a new batch."""
        ids = self.prediction_ids
        picked = (
            ids[index]
            if isinstance(index, slice)
            else [pid for pid, keep in zip(ids, index.tolist(), strict=True) if keep]
        )
        features = self.features
        return PredictionBatch(
            model=self.model,
            version=self.version,
            prediction_ids=picked,
            predictions=self.predictions[index],
            features=features.iloc[index]
            if isinstance(features, pd.DataFrame)
            else features[index],
            feature_names=self.feature_names,
            probabilities=None if self.probabilities is None else self.probabilities[index],
            route=self.route,
            latency_ms=self.latency_ms[index]
            if isinstance(self.latency_ms, np.ndarray)
            else self.latency_ms,
            time=self.time,
        )

    def rows(self) -> list[dict[str, Any]]:
        """One prediction-log row dict per row (for sinks that take rows)."""
        predictions = np.asarray(self.predictions).tolist()
        proba = self.probabilities
        probabilities = proba.tolist() if proba is not None else [None] * len(predictions)
        latency = self.latency_ms
        latencies = (
            latency.tolist() if isinstance(latency, np.ndarray) else [latency] * len(predictions)
        )
        return [
            {
                "prediction_id": pid,
                "time": self.time,
                "model": self.model,
                "version": self.version,
                "route": self.route,
                "latency_ms": latency_ms,
                "prediction": prediction,
                "probabilities": probs,
                "features": feats,
            }
            for pid, prediction, probs, feats, latency_ms in zip(
                self.prediction_ids,
                predictions,
                probabilities,
                self.feature_rows(),
                latencies,
                strict=True,
            )
        ]

    def feature_rows(self) -> list[dict[str, Any]]:
        """One ``{name: value}`` dict per row; nulls as None."""
        names = self.feature_names
        if isinstance(self.features, pd.DataFrame):
            frame = self.features.astype(object).where(self.features.notna(), None)
            return [dict(zip(names, row, strict=True)) for row in frame.itertuples(index=False)]
        return [dict(zip(names, row, strict=True)) for row in self.features.tolist()]
