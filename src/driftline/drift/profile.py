"""`Profile`: the per-feature reference summary a model version stores for drift."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from driftline.drift._inputs import ColumnData, Table, as_table
from driftline.drift._parallel import map_columns
from driftline.drift.feature_profiles import (
    CategoricalProfile,
    FeatureProfile,
    NumericProfile,
    UnsupportedProfile,
    feature_profile_from_dict,
)
from driftline.exceptions import ValidationError

__all__ = ["FORMAT", "Profile", "profile_column"]

FORMAT = "driftline.drift.profile/1"


class Profile:
    """Bounded-size, mergeable, serialisable summary of every feature of a dataset.

    Parameters
    ----------
    n_bins:
        Numeric bins per feature; edges sit at the reference's quantiles and stay fixed.
    top_k:
        Labels kept per categorical feature; rarer labels are counted together as ``other``.
    max_exact:
        Numeric values kept exactly (sorted) per feature; beyond that a quantile sketch.
    sketch_size:
        ``k`` of the :class:`~driftline.drift.sketch.QuantileSketch` (error bound about 1/k).
    missing_values:
        Labels that mean "missing" in categorical columns (e.g. ``"?"``).
    n_jobs:
        Threads used to profile columns in parallel (``None``: one per core).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> data = {"age": rng.normal(40, 10, 1000), "city": rng.choice(["a", "b"], 1000)}
    >>> profile = Profile(n_bins=5).fit(data)
    >>> profile.n_rows_, sorted(profile.features_)
    (1000, ['age', 'city'])
    >>> int(profile["age"].bin_counts.sum()), profile["city"].categories
    (1000, ('b', 'a'))
    >>> Profile.from_dict(profile.to_dict()).to_dict() == profile.to_dict()
    True
    """

    def __init__(
        self,
        *,
        n_bins: int = 10,
        top_k: int = 1000,
        max_exact: int = 10_000,
        sketch_size: int = 2048,
        missing_values: Sequence[str] = (),
        n_jobs: int | None = None,
    ) -> None:
        self.n_bins = n_bins
        self.top_k = top_k
        self.max_exact = max_exact
        self.sketch_size = sketch_size
        self.missing_values = missing_values
        self.n_jobs = n_jobs

    def fit(self, data: Any, *, feature_names: Sequence[str] | None = None) -> Profile:
        """Profile every column of ``data``; returns ``self``."""
        table = as_table(
            data, role="data", feature_names=feature_names, missing_values=self.missing_values
        )
        profiles = map_columns(
            lambda name: profile_column(table.load(name), self._settings())[0],
            table.names,
            self.n_jobs,
        )
        self.features_: dict[str, FeatureProfile] = dict(zip(table.names, profiles, strict=True))
        self.n_rows_: int = table.n_rows
        return self

    def profile_like(self, data: Any, *, feature_names: Sequence[str] | None = None) -> Profile:
        """A new fitted profile of ``data`` on this profile's bin edges (mergeable with it)."""
        self._check_fitted()
        table = as_table(
            data, role="data", feature_names=feature_names, missing_values=self.missing_values
        )
        edges = {
            name: f.edges if isinstance(f, NumericProfile) else None
            for name, f in self.features_.items()
        }
        return self._like()._fit_on_edges(table, edges)

    def _fit_on_edges(self, table: Table, edges: Mapping[str, np.ndarray | None]) -> Profile:
        """Profile the columns named in ``edges``; numeric ones on the given bin edges.

        ``None`` lets a numeric column take edges from its own quantiles. This is the step
        :meth:`profile_like` and :func:`~driftline.drift.profile_dask` share; returns ``self``.
        """
        missing = [name for name in edges if name not in table.names]
        if missing:
            raise ValidationError(f"{table.role} lacks the profiled columns {missing}")

        def one(name: str) -> FeatureProfile:
            return profile_column(table.load(name), self._settings(), edges=edges[name])[0]

        names = list(edges)
        self.features_ = dict(zip(names, map_columns(one, names, self.n_jobs), strict=True))
        self.n_rows_ = table.n_rows
        return self

    def merge(self, other: Profile) -> Profile:
        """Profile of the concatenation of both inputs (see :mod:`feature_profiles`)."""
        self._check_fitted()
        other._check_fitted()
        if list(self.features_) != list(other.features_):
            raise ValidationError(
                f"cannot merge profiles of different columns: {list(self.features_)} "
                f"vs {list(other.features_)}"
            )
        out = self._like()
        out.features_ = {
            name: _merge_features(name, a, other.features_[name])
            for name, a in self.features_.items()
        }
        out.n_rows_ = self.n_rows_ + other.n_rows_
        return out

    def __getitem__(self, name: str) -> FeatureProfile:
        self._check_fitted()
        try:
            return self.features_[name]
        except KeyError:
            raise ValidationError(
                f"no feature {name!r} in the profile; it has {list(self.features_)}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (a model version stores this as its drift reference)."""
        self._check_fitted()
        return {
            "format": FORMAT,
            "params": {
                "n_bins": self.n_bins,
                "top_k": self.top_k,
                "max_exact": self.max_exact,
                "sketch_size": self.sketch_size,
                "missing_values": list(self.missing_values),
            },
            "n_rows": self.n_rows_,
            "features": {name: f.to_dict() for name, f in self.features_.items()},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Rebuild a fitted profile from :meth:`to_dict` output."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise ValidationError(f"not a serialised driftline profile (format {found!r})")
        try:
            params = dict(data["params"])
            params["missing_values"] = tuple(params.get("missing_values", ()))
            profile = cls(**params)
            profile.features_ = {
                str(name): feature_profile_from_dict(f) for name, f in data["features"].items()
            }
            profile.n_rows_ = int(data["n_rows"])
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"malformed serialised profile: {exc!r}") from exc
        return profile

    @classmethod
    def from_json(cls, text: str) -> Profile:
        """Inverse of :meth:`to_json`."""
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValidationError(f"profile JSON does not parse: {exc}") from exc

    def _settings(self) -> dict[str, Any]:
        return {
            "n_bins": self.n_bins,
            "top_k": self.top_k,
            "k": self.sketch_size,
            "max_exact": self.max_exact,
        }

    def _like(self) -> Profile:
        return Profile(
            n_bins=self.n_bins,
            top_k=self.top_k,
            max_exact=self.max_exact,
            sketch_size=self.sketch_size,
            missing_values=self.missing_values,
            n_jobs=self.n_jobs,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "features_"):
            raise ValidationError("this Profile is not fitted yet; call fit() first")

    def __repr__(self) -> str:
        if not hasattr(self, "features_"):
            return f"Profile(n_bins={self.n_bins}, top_k={self.top_k}, unfitted)"
        return f"Profile(n_rows={self.n_rows_}, features={list(self.features_)})"


def profile_column(
    column: ColumnData, settings: Mapping[str, Any], *, edges: np.ndarray | None = None
) -> tuple[FeatureProfile, np.ndarray | None]:
    """Profile one converted column; numeric columns also return their sorted finite values."""
    if column.kind == "numeric" and column.values is not None:
        return NumericProfile.from_column(
            column.values,
            n_bins=settings["n_bins"],
            edges=edges,
            k=settings["k"],
            max_exact=settings["max_exact"],
        )
    if column.kind == "categorical" and column.codes is not None:
        profile = CategoricalProfile.from_codes(
            column.codes, column.labels, top_k=settings["top_k"]
        )
        return profile, None
    if column.kind == "empty":
        if edges is not None:  # profiled against a numeric reference: stays numeric
            empty = np.full(column.n_rows, np.nan)
            return NumericProfile.from_column(
                empty, edges=edges, k=settings["k"], max_exact=settings["max_exact"]
            )
        codes = np.full(column.n_rows, -1, dtype=np.int64)
        return CategoricalProfile.from_codes(codes, (), top_k=settings["top_k"]), None
    return UnsupportedProfile(column.n_rows, column.dtype), None


def _merge_features(name: str, a: FeatureProfile, b: FeatureProfile) -> FeatureProfile:
    try:
        return a.merge(b)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ValidationError(f"column {name!r}: {exc}") from exc
