"""Metric history in the metadata DB: record samples, query windows, compact old data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from driftline._canonical import canonical_json, loads
from driftline.exceptions import ValidationError
from driftline.monitoring._series import (
    check_labels,
    check_metric_name,
    check_value,
    floor_hour,
    parse_time,
    series_key,
    to_utc,
)
from driftline.monitoring.summary import MetricsSummary, summarize_series
from driftline.store import Clock, MetadataStore, iso_utc
from driftline.store._monitoring_tables import alerts, metric_samples

__all__ = ["CompactionResult", "MetricStore", "Sample"]

RAW = "raw"
HOURLY = "1h"
_DEFAULT_WINDOWS = (timedelta(hours=1), timedelta(days=1), timedelta(days=7))


@dataclass(frozen=True)
class Sample:
    """One value of one series at one time; an hourly rollup also carries count, min, max."""

    name: str
    labels: dict[str, str]
    value: float
    time: datetime
    resolution: str = RAW
    count: int = 1
    min: float | None = None
    max: float | None = None

    def matches(self, matchers: Mapping[str, str]) -> bool:
        """Whether every ``label: value`` in ``matchers`` is among this sample's labels."""
        return all(self.labels.get(k) == v for k, v in matchers.items())


@dataclass(frozen=True)
class CompactionResult:
    """What one :meth:`MetricStore.compact` did."""

    raw_rolled_up: int
    buckets_written: int
    rollups_deleted: int
    raw_cutoff: datetime
    rollup_cutoff: datetime


class MetricStore:
    """Named metric samples ``(name, labels, value, time)`` kept in the metadata DB.

    Raw samples are kept for ``raw_retention``; :meth:`compact` folds older ones into hourly
    rollups (mean, min, max, count) kept for ``rollup_retention``.

    >>> import tempfile
    >>> from datetime import UTC, datetime
    >>> from driftline import Workspace
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> metrics = MetricStore(ws.store, clock=lambda: t0)
    >>> for i, v in enumerate([0.1, 0.2, 0.3]):
    ...     _ = metrics.record("driftline_dataset_drift_share", v, labels={"model": "m"},
    ...                        time=t0 - timedelta(minutes=3 - i))
    >>> [s.value for s in metrics.latest("driftline_dataset_drift_share")]
    [0.3]
    >>> round(metrics.summary().series[0].trend.slope_per_hour, 6)
    6.0
    >>> ws.close()
    """

    def __init__(
        self,
        store: MetadataStore,
        *,
        raw_retention: timedelta = timedelta(days=7),
        rollup_retention: timedelta = timedelta(days=90),
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.raw_retention = raw_retention
        self.rollup_retention = rollup_retention
        self.clock = clock or store.clock

    def record(
        self,
        name: str,
        value: float,
        *,
        labels: Mapping[str, str] | None = None,
        time: datetime | None = None,
    ) -> Sample:
        """Record one sample (at ``time``, default now) and return it."""
        sample = self._sample(name, value, labels, time)
        with self.store.write() as conn:
            _insert(conn, [sample])
        return sample

    def record_many(self, samples: Iterable[Sample]) -> int:
        """Record many samples in one transaction (all or none); return how many."""
        checked = [self._sample(s.name, s.value, s.labels, s.time) for s in samples]
        if checked:
            with self.store.write() as conn:
                _insert(conn, checked)
        return len(checked)

    def query(
        self,
        name: str,
        *,
        matchers: Mapping[str, str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Sample]:
        """Samples (raw and rollups) of ``name`` with ``start < time <= end``, oldest first."""
        stmt = select(metric_samples).where(metric_samples.c.name == check_metric_name(name))
        if start is not None:
            stmt = stmt.where(metric_samples.c.time > iso_utc(start))
        if end is not None:
            stmt = stmt.where(metric_samples.c.time <= iso_utc(end))
        stmt = stmt.order_by(metric_samples.c.time, metric_samples.c.id)
        with self.store.read() as conn:
            rows = conn.execute(stmt).mappings().all()
        wanted = dict(matchers or {})
        return [s for s in map(_from_row, rows) if s.matches(wanted)]

    def latest(
        self,
        name: str,
        *,
        matchers: Mapping[str, str] | None = None,
        at: datetime | None = None,
        lookback: timedelta = timedelta(minutes=5),
    ) -> list[Sample]:
        """The newest raw sample of each matching series within ``lookback`` before ``at``.

        A series with no sample in that window is stale and left out, as Prometheus does.
        """
        at = to_utc(at or self.clock())
        newest: dict[str, Sample] = {}
        for sample in self.query(name, matchers=matchers, start=at - lookback, end=at):
            if sample.resolution == RAW:
                newest[series_key(sample.name, sample.labels)] = sample
        return sorted(newest.values(), key=lambda s: sorted(s.labels.items()))

    def names(self) -> list[str]:
        """Every metric name with stored samples."""
        with self.store.read() as conn:
            rows = conn.execute(select(metric_samples.c.name).distinct()).scalars().all()
        return sorted(rows)

    def compact(self, *, now: datetime | None = None) -> CompactionResult:
        """Fold raw samples older than ``raw_retention`` into hourly rollups; drop old rollups.

        Only whole hours are folded, and a late sample for an hour already folded is merged
        into that hour's rollup, so compacting twice changes nothing.
        """
        now = to_utc(now or self.clock())
        raw_cutoff = floor_hour(now - self.raw_retention)
        rollup_cutoff = now - self.rollup_retention
        with self.store.write() as conn:
            old = conn.execute(
                select(metric_samples)
                .where(metric_samples.c.resolution == RAW)
                .where(metric_samples.c.time < iso_utc(raw_cutoff))
            ).mappings()
            buckets = _bucket(map(_from_row, old))
            for bucket in buckets.values():
                _merge_rollup(conn, bucket)
            rolled = sum(b.count for b in buckets.values())
            conn.execute(
                delete(metric_samples)
                .where(metric_samples.c.resolution == RAW)
                .where(metric_samples.c.time < iso_utc(raw_cutoff))
            )
            dropped = conn.execute(
                delete(metric_samples)
                .where(metric_samples.c.resolution == HOURLY)
                .where(metric_samples.c.time < iso_utc(rollup_cutoff))
            ).rowcount
        return CompactionResult(rolled, len(buckets), int(dropped or 0), raw_cutoff, rollup_cutoff)

    def summary(
        self,
        names: Sequence[str] | None = None,
        *,
        at: datetime | None = None,
        windows: Sequence[timedelta] = _DEFAULT_WINDOWS,
        trend_window: timedelta = timedelta(days=1),
    ) -> MetricsSummary:
        """Current value, mean per window and trend of every series, with alert counts.

        The history read reaches back to the longest of ``windows`` and ``trend_window``;
        an hourly rollup counts in a window when its hour starts inside it.
        """
        if not windows:
            raise ValidationError("summary: give at least one window")
        at = to_utc(at or self.clock())
        since = at - max(*windows, trend_window) - timedelta(hours=1)
        series: list[Any] = []
        for name in names if names is not None else self.names():
            grouped: dict[str, list[Sample]] = defaultdict(list)
            for sample in self.query(name, start=since, end=at):
                grouped[series_key(name, sample.labels)].append(sample)
            for samples in grouped.values():
                series.append(
                    summarize_series(
                        name,
                        samples[0].labels,
                        samples,
                        at=at,
                        windows=windows,
                        trend_window=trend_window,
                    )
                )
        series.sort(key=lambda s: (s.name, sorted(s.labels.items())))
        return MetricsSummary(at=at, series=tuple(series), alerts=self._alert_counts())

    def _alert_counts(self) -> dict[str, int]:
        with self.store.read() as conn:
            rows = conn.execute(select(alerts.c.state, func.count()).group_by(alerts.c.state)).all()
        return {state: int(count) for state, count in rows}

    def _sample(
        self, name: str, value: Any, labels: Mapping[str, Any] | None, time: datetime | None
    ) -> Sample:
        name = check_metric_name(name)
        return Sample(
            name=name,
            labels=check_labels(labels, metric=name),
            value=check_value(value, metric=name),
            time=to_utc(time or self.clock()),
        )


def _insert(conn: Connection, samples: Sequence[Sample]) -> None:
    conn.execute(
        insert(metric_samples),
        [
            {
                "name": s.name,
                "series": series_key(s.name, s.labels),
                "labels": canonical_json(s.labels).decode(),
                "time": iso_utc(s.time),
                "value": s.value,
                "resolution": s.resolution,
                "sample_count": s.count,
                "min_value": s.value if s.min is None else s.min,
                "max_value": s.value if s.max is None else s.max,
            }
            for s in samples
        ],
    )


def _from_row(row: Any) -> Sample:
    return Sample(
        name=row["name"],
        labels=loads(row["labels"]),
        value=float(row["value"]),
        time=parse_time(row["time"]),
        resolution=row["resolution"],
        count=int(row["sample_count"]),
        min=float(row["min_value"]),
        max=float(row["max_value"]),
    )


def _combine(a: Sample, b: Sample) -> Sample:
    count = a.count + b.count
    return Sample(
        name=a.name,
        labels=a.labels,
        value=(a.value * a.count + b.value * b.count) / count,
        time=a.time,
        resolution=HOURLY,
        count=count,
        min=min(x for x in (a.min, b.min, a.value, b.value) if x is not None),
        max=max(x for x in (a.max, b.max, a.value, b.value) if x is not None),
    )


def _bucket(samples: Iterable[Sample]) -> dict[tuple[str, datetime], Sample]:
    buckets: dict[tuple[str, datetime], Sample] = {}
    for s in samples:
        hour = floor_hour(s.time)
        as_rollup = Sample(s.name, s.labels, s.value, hour, HOURLY, s.count, s.min, s.max)
        key = (series_key(s.name, s.labels), hour)
        buckets[key] = _combine(buckets[key], as_rollup) if key in buckets else as_rollup
    return buckets


def _merge_rollup(conn: Connection, bucket: Sample) -> None:
    key = series_key(bucket.name, bucket.labels)
    where = (
        (metric_samples.c.series == key)
        & (metric_samples.c.resolution == HOURLY)
        & (metric_samples.c.time == iso_utc(bucket.time))
    )
    row = conn.execute(select(metric_samples).where(where)).mappings().first()
    if row is None:
        _insert(conn, [bucket])
        return
    merged = _combine(_from_row(row), bucket)
    conn.execute(
        update(metric_samples)
        .where(metric_samples.c.id == row["id"])
        .values(
            value=merged.value,
            sample_count=merged.count,
            min_value=merged.min,
            max_value=merged.max,
        )
    )
