"""Profiles of a Dask DataFrame, computed partition by partition on a Dask cluster and merged.

Two passes over the partitions, each a tree reduction (``split_every`` inputs per merge):

1. every partition sketches each numeric column (a
   :class:`~driftline.drift.sketch.QuantileSketch` with the profile's ``sketch_size`` and
   ``max_exact``); the sketches are merged and the bin edges are read off the merged sketch, so
   every partition is counted on the same edges;
2. every partition is profiled on those edges (the step :meth:`Profile.profile_like` runs) and
   the partition profiles are merged (:meth:`Profile.merge`).

What equals the in-memory ``Profile().fit(ddf.compute())``:

- counts, missing and infinite counts, min and max, and categorical counts: exactly (the
  categorical ones as long as no column has more than ``top_k`` distinct labels);
- the moments: within floating-point rounding (merged with Chan et al.'s update);
- the bin edges: exactly when the column has at most ``max_exact`` finite values (the merged
  sketch is then the exact sorted sample). Beyond that, each edge is read from the merged sketch
  whose rank error is ``R = sketch.rank_error`` (about ``n / sketch_size`` plus what the merges
  add): where the in-memory edge is the sorted column's value of rank ``r``, the Dask edge lies
  between the values of ranks ``r - R`` and ``r + R``. The bin counts are then exact counts on
  these edges;
- the quantile sketch: exact in the first case; otherwise a merged sketch whose own
  ``error_bound`` holds, like any merged sketch.

Columns are profiled one after another inside a task: Dask runs the partitions in parallel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from driftline._optional import require
from driftline.drift._inputs import as_table
from driftline.drift.feature_profiles import quantile_edges
from driftline.drift.profile import Profile
from driftline.drift.sketch import QuantileSketch
from driftline.exceptions import ValidationError

__all__ = ["profile_dask", "sketch_edges"]

# per column after pass 1: ("numeric", sketch), ("categorical" | "empty" | "unsupported", None)
Kinds = dict[str, tuple[str, QuantileSketch | None]]


def profile_dask(
    ddf: Any,
    *,
    profile: Profile | None = None,
    split_every: int = 8,
    scheduler: Any = None,
) -> Profile:
    """Profile a Dask DataFrame partition by partition and merge (see the module doc).

    Parameters
    ----------
    ddf:
        A ``dask.dataframe.DataFrame``; computed on the active Dask client when there is one.
    profile:
        An unfitted :class:`Profile` whose parameters to use (default ``Profile()``); it is
        not modified: a new fitted profile is returned.
    split_every:
        Inputs merged per task of the tree reductions.
    scheduler:
        Passed to ``dask.compute`` (``None``: the active client or Dask's default).

    >>> import numpy as np, pandas as pd
    >>> import dask.dataframe as dd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"x": rng.normal(size=2_000), "c": rng.choice(["a", "b"], 2_000)})
    >>> merged = profile_dask(dd.from_pandas(frame, npartitions=4), scheduler="sync")
    >>> in_memory = Profile().fit(frame)
    >>> merged.n_rows_, merged["x"].bin_counts.tolist() == in_memory["x"].bin_counts.tolist()
    (2000, True)
    >>> merged["c"].counts.tolist() == in_memory["c"].counts.tolist()
    True
    """
    dask = require("dask", "dask", purpose="profiling a Dask DataFrame")
    template = Profile() if profile is None else profile
    _check_args(ddf, split_every)
    names = [str(c) for c in ddf.columns]
    params = _params(template)
    parts = ddf.to_delayed()
    sketch_one = dask.delayed(_partition_kinds, pure=True)
    merge_kinds = dask.delayed(_merge_kinds, pure=True)
    kinds_root = _tree([sketch_one(p, params) for p in parts], merge_kinds, split_every)
    (kinds,) = dask.compute(kinds_root, scheduler=scheduler)
    if kinds is None:
        raise ValidationError("the Dask DataFrame has no rows; a profile needs at least one")
    edges = {name: _edges(kinds[name], template.n_bins) for name in names}
    profile_one = dask.delayed(_partition_profile, pure=True)
    merge_profiles = dask.delayed(_merge_profiles, pure=True)
    root = _tree([profile_one(p, params, edges) for p in parts], merge_profiles, split_every)
    (merged,) = dask.compute(root, scheduler=scheduler)
    out = template._like()
    out.features_ = merged.features_
    out.n_rows_ = merged.n_rows_
    return out


def sketch_edges(sketch: QuantileSketch, n_bins: int) -> np.ndarray:
    """Interior bin edges at the ``i / n_bins`` quantiles, read from a sketch.

    Equal to :func:`~driftline.drift.feature_profiles.quantile_edges` of the sorted values
    when the sketch is exact; otherwise within its rank error (see the module doc).
    """
    if sketch.is_exact:
        return quantile_edges(sketch.levels[0] if sketch.levels else np.empty(0), n_bins)
    if n_bins < 1:
        raise ValidationError(f"n_bins must be at least 1, got {n_bins}")
    if sketch.n == 0:
        return np.empty(0)
    # the in-memory edge i is the value of rank r = (i * n) // n_bins + 1 (1-based): here the
    # first stored value whose estimated rank reaches r
    ranks = (np.arange(1, n_bins) * sketch.n) // n_bins + 1
    items, cum = sketch.weighted_items()
    idx = np.searchsorted(cum, ranks.astype(np.float64), side="left")
    return np.unique(items[np.minimum(idx, len(items) - 1)])


def _params(template: Profile) -> dict[str, Any]:
    return {
        "n_bins": template.n_bins,
        "top_k": template.top_k,
        "max_exact": template.max_exact,
        "sketch_size": template.sketch_size,
        "missing_values": tuple(template.missing_values),
        "n_jobs": 1,
    }


def _check_args(ddf: Any, split_every: int) -> None:
    module = type(ddf).__module__.split(".")[0]
    if module not in {"dask", "dask_expr"} or not hasattr(ddf, "to_delayed"):
        raise ValidationError(
            f"profile_dask needs a dask.dataframe.DataFrame, got a {type(ddf).__name__}; "
            "use Profile().fit(data) for in-memory data"
        )
    if not hasattr(ddf, "columns"):
        raise ValidationError("profile_dask needs a Dask DataFrame, not a Series")
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValidationError(f"split_every must be an integer >= 2, got {split_every!r}")


def _tree(items: Sequence[Any], combine: Callable[..., Any], split_every: int) -> Any:
    """Merge ``items`` ``split_every`` at a time until one is left (a tree of delayed calls)."""
    level = list(items)
    while len(level) > 1:
        level = [combine(*level[i : i + split_every]) for i in range(0, len(level), split_every)]
    return level[0]


def _partition_kinds(frame: Any, params: Mapping[str, Any]) -> Kinds | None:
    """Pass 1 on one partition: each column's kind, and a sketch of each numeric column."""
    if len(frame) == 0:
        return None
    table = as_table(frame, role="a partition", missing_values=params["missing_values"])
    out: Kinds = {}
    for name in table.names:
        column = table.load(name)
        if column.kind == "numeric" and column.values is not None:
            values = column.values
            ordered = np.sort(values[np.isfinite(values)])
            sketch = QuantileSketch.from_sorted(
                ordered, k=params["sketch_size"], max_exact=params["max_exact"]
            )
            out[name] = ("numeric", sketch)
        else:
            out[name] = (column.kind, None)
    return out


def _merge_kinds(*parts: Kinds | None) -> Kinds | None:
    """Merge pass-1 results: sketches merge; a column empty in one partition takes the other's."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    out = dict(present[0])
    for part in present[1:]:
        for name, (kind, sketch) in part.items():
            mine, my_sketch = out[name]
            if kind == "empty":
                continue
            if mine == "empty":
                out[name] = (kind, sketch)
            elif mine != kind:
                raise ValidationError(
                    f"column {name!r} is {mine} in one partition and {kind} in another; "
                    "cast it to one type before profiling"
                )
            elif my_sketch is not None and sketch is not None:
                out[name] = (kind, my_sketch.merge(sketch))
    return out


def _edges(entry: tuple[str, QuantileSketch | None], n_bins: int) -> np.ndarray | None:
    kind, sketch = entry
    return sketch_edges(sketch, n_bins) if kind == "numeric" and sketch is not None else None


def _partition_profile(
    frame: Any, params: Mapping[str, Any], edges: Mapping[str, np.ndarray | None]
) -> Profile | None:
    """Pass 2 on one partition: its profile on the shared edges."""
    if len(frame) == 0:
        return None
    profile = Profile(**params)
    table = as_table(frame, role="a partition", missing_values=profile.missing_values)
    return profile._fit_on_edges(table, edges)


def _merge_profiles(*parts: Profile | None) -> Profile | None:
    present = [p for p in parts if p is not None]
    if not present:
        return None
    merged = present[0]
    for part in present[1:]:
        merged = merged.merge(part)
    return merged
