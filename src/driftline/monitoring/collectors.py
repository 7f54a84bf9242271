"""Monitoring state as Prometheus metrics, computed at scrape time by a custom collector.

:class:`MonitoringCollector` reads, on every scrape, the newest drift event of each model
version from the metadata DB (``driftline_feature_drift_score``,
``driftline_dataset_drift_share``, ``driftline_dataset_drift``) and the newest sample of each
performance, quality and business series from the metric history, so Prometheus sees what
the monitors found without anyone pushing it. Register it on the server's registry
(``create_app(..., metrics_registry=registry)``) or on ``driftline monitor run
--metrics-port``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from driftline._canonical import loads
from driftline.exceptions import DriftlineError
from driftline.monitoring._series import parse_time, to_utc
from driftline.monitoring.catalogue import CATALOGUE, MetricCatalogue, MetricSpec
from driftline.monitoring.history import MetricStore
from driftline.monitoring.signals.drift_windows import DriftEvent
from driftline.monitoring.signals.system import SystemMetrics
from driftline.store import Clock
from driftline.store._drift_tables import drift_events

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["SAMPLED_METRICS", "MonitoringCollector", "latest_drift_events"]

_log = logging.getLogger("driftline.monitoring")

#: Metric-history series the collector exposes: what the cycle records that Prometheus
#: cannot compute itself.
SAMPLED_METRICS = tuple(
    spec.name
    for spec in CATALOGUE
    if spec.kind == "gauge"
    and spec.source in ("performance monitor", "quality monitor", "business monitor")
)
_DRIFT_NAMES = (
    "driftline_feature_drift_score",
    "driftline_dataset_drift_share",
    "driftline_dataset_drift",
)
_SYSTEM_NAMES = (
    "driftline_system_cpu_percent",
    "driftline_system_memory_percent",
    "driftline_system_disk_percent",
    "driftline_system_network_bytes_total",
)


def latest_drift_events(
    workspace: Workspace, models: Sequence[str] | None = None, *, since: datetime | None = None
) -> list[DriftEvent]:
    """The newest drift event of each (model, version), optionally ending after ``since``."""
    newest = select(
        drift_events.c.model_name,
        drift_events.c.model_version,
        func.max(drift_events.c.window_end).label("window_end"),
    ).group_by(drift_events.c.model_name, drift_events.c.model_version)
    if models is not None:
        newest = newest.where(drift_events.c.model_name.in_(list(models)))
    last = newest.subquery()
    query = (
        select(drift_events)
        .join(
            last,
            and_(
                drift_events.c.model_name == last.c.model_name,
                drift_events.c.model_version == last.c.model_version,
                drift_events.c.window_end == last.c.window_end,
            ),
        )
        .order_by(drift_events.c.model_name, drift_events.c.model_version, drift_events.c.id)
    )
    with workspace.store.read() as conn:
        rows = conn.execute(query).mappings().all()
    chosen: dict[tuple[str, int], DriftEvent] = {}
    for r in rows:  # two events ending at the same instant: the later id (UUIDv7) wins
        event = _event(r)
        if since is None or parse_time(event.window_end) >= to_utc(since):
            chosen[(event.model_name, event.model_version)] = event
    return list(chosen.values())


def _event(row: Any) -> DriftEvent:
    return DriftEvent(
        id=row["id"],
        model_name=row["model_name"],
        model_version=int(row["model_version"]),
        window_start=row["window_start"],
        window_end=row["window_end"],
        rows=int(row["rows"]),
        drift_detected=bool(row["drift_detected"]),
        drift_share=float(row["drift_share"]),
        features=loads(row["report"]),
    )


class MonitoringCollector:
    """A ``prometheus_client`` collector of drift, performance, quality and business gauges.

    ``models`` narrows it to these model names; ``max_age`` hides drift events and samples
    older than that (a model that stopped serving stops showing); ``system`` adds the
    ``driftline_system_*`` gauges; ``metrics`` lists the metric-history series to expose
    (default :data:`SAMPLED_METRICS`, plus the names of business metrics you record, with
    ``catalogue`` knowing them). A scrape that cannot read the DB exposes what it could and
    counts the failure in ``driftline_monitor_collect_errors_total``.

    >>> import tempfile
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from driftline import Workspace
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> _ = MetricStore(ws.store).record(
    ...     "driftline_model_accuracy", 0.91, labels={"model": "fraud", "version": "3"})
    >>> registry = CollectorRegistry()
    >>> registry.register(MonitoringCollector(ws))
    >>> [line for line in generate_latest(registry).decode().splitlines()
    ...  if line.startswith("driftline_model_accuracy{")]
    ['driftline_model_accuracy{model="fraud",version="3"} 0.91']
    >>> ws.close()
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        models: Sequence[str] | None = None,
        metrics: Sequence[str] = SAMPLED_METRICS,
        catalogue: MetricCatalogue = CATALOGUE,
        max_age: timedelta = timedelta(hours=1),
        system: SystemMetrics | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.workspace = workspace
        self.models = None if models is None else tuple(models)
        self.metrics = tuple(metrics)
        self.catalogue = catalogue
        self.max_age = max_age
        self.system = system
        self.clock = clock or workspace.store.clock
        self.errors = 0

    def describe(self) -> list[Metric]:
        """Every family this collector may expose (no samples): lets a registry catch clashes."""
        names = [*_DRIFT_NAMES, *self.metrics, *(_SYSTEM_NAMES if self.system else ())]
        families = [_family(self.catalogue.get(name)) for name in names]
        return [*families, self._errors_family()]

    def collect(self) -> Iterator[Metric]:
        """The current families, read now."""
        now = to_utc(self.clock())
        try:
            yield from self._drift(now)
            yield from self._sampled(now)
        except (DriftlineError, SQLAlchemyError) as exc:
            # A scrape must answer even when the DB does not: the serving metrics still matter.
            self.errors += 1
            _log.warning("monitoring collector could not read the metadata DB: %s", exc)
        if self.system is not None:
            yield from self._system(self.system.collect())
        yield self._errors_family()

    def _errors_family(self) -> Metric:
        family = _family(self.catalogue.get("driftline_monitor_collect_errors_total"))
        family.add_metric([], self.errors)
        return family

    def _drift(self, now: datetime) -> Iterator[Metric]:
        score, share, decided = (_family(self.catalogue.get(n)) for n in _DRIFT_NAMES)
        for event in latest_drift_events(self.workspace, self.models, since=now - self.max_age):
            mv = [event.model_name, str(event.model_version)]
            share.add_metric(mv, event.drift_share)
            decided.add_metric(mv, 1.0 if event.drift_detected else 0.0)
            for feature, result in sorted(event.features.items()):
                if isinstance(result.get("statistic"), int | float):
                    score.add_metric([*mv, feature], float(result["statistic"]))
        yield from (score, share, decided)

    def _sampled(self, now: datetime) -> Iterator[Metric]:
        store = MetricStore(self.workspace.store, clock=self.clock)
        for name in self.metrics:
            spec = self.catalogue.get(name)
            newest: dict[tuple[str, ...], tuple[datetime, float]] = {}
            for sample in store.latest(name, at=now, lookback=self.max_age):
                if self.models is not None and sample.labels.get("model") not in self.models:
                    continue
                # Reference labels (the drift event behind a value) are not exposed: one
                # series per catalogue label set, its newest value.
                values = tuple(sample.labels.get(label, "") for label in spec.labels)
                if values not in newest or newest[values][0] <= sample.time:
                    newest[values] = (sample.time, sample.value)
            family = _family(spec)
            for values, (_, value) in sorted(newest.items()):
                family.add_metric(list(values), value)
            yield family

    def _system(self, values: dict[str, float]) -> Iterator[Metric]:
        cpu, memory, disk, network = (_family(self.catalogue.get(n)) for n in _SYSTEM_NAMES)
        cpu.add_metric([], values["cpu_percent"])
        memory.add_metric([], values["memory_percent"])
        disk.add_metric([str(self.system.disk_path) if self.system else ""], values["disk_percent"])
        network.add_metric(["sent"], values["network_sent_bytes"])
        network.add_metric(["received"], values["network_received_bytes"])
        yield from (cpu, memory, disk, network)


def _family(spec: MetricSpec) -> GaugeMetricFamily | CounterMetricFamily:
    if spec.kind == "counter":  # prometheus_client adds the _total itself
        return CounterMetricFamily(spec.name.removesuffix("_total"), spec.help, labels=spec.labels)
    return GaugeMetricFamily(spec.name, spec.help, labels=list(spec.labels))
