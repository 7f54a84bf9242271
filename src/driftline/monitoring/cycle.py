"""The monitoring cycle: every signal of every monitored model, recorded, then the alert rules.

One :meth:`MonitoringCycle.run_once` at ``now``, for each monitored model (a ``models:/``
URI; by default every model with a ``champion`` alias):

1. drift: compare the complete prediction-log windows not compared yet with the version's
   reference profile (stored as drift events), then record the newest event's drift share,
   dataset decision and per-feature scores (statistic of each feature's test);
2. performance: join feedback to predictions by ``prediction_id`` and measure the current
   version over ``performance_window`` (metrics, accuracy, label coverage, label delay p50 and
   p90, loss from the registry baseline); for classifiers, an accuracy *estimate* for the
   predictions still without labels, calibrated on the version's labelled predictions;
3. live data quality: the version's suite (see :mod:`driftline.monitoring.live_quality`)
   over the inputs of the last ``window``, as violation rates per check;
4. traffic: p95/p99 of the logged latency per route over the last ``window``;
5. business: the user's :class:`~driftline.monitoring.business.BusinessMetric` s over the
   performance window, and CPU seconds per prediction since the previous cycle;

then system metrics, feedback set aside (unknown ``prediction_id``, label of the wrong type),
and one :meth:`AlertManager.evaluate` with delivery. A failing signal is reported in the
summary and the others go on; nothing here sleeps: ``run`` waits through an injectable
``wait``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from prometheus_client import CollectorRegistry

from driftline.exceptions import ValidationError
from driftline.monitoring import _model_signals as signals
from driftline.monitoring._durations import parse_duration
from driftline.monitoring._series import check_labels, check_value, to_utc
from driftline.monitoring.business import BusinessMetric, CpuCost
from driftline.monitoring.catalogue import CATALOGUE
from driftline.monitoring.collectors import latest_drift_events
from driftline.monitoring.history import Sample
from driftline.monitoring.live_quality import LiveSuite, suite_for_version
from driftline.monitoring.manager import AlertManager, EvaluationResult
from driftline.monitoring.notifications import Channel
from driftline.monitoring.presets import default_rules
from driftline.monitoring.rules import AlertRule
from driftline.monitoring.signals.drift_windows import DriftMonitor
from driftline.monitoring.signals.system import SystemMetrics
from driftline.store import Clock

if TYPE_CHECKING:
    from driftline.registry import ModelVersion
    from driftline.workspace import Workspace

__all__ = ["CycleSummary", "ModelReport", "MonitoringCycle"]

_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class ModelReport:
    """One monitored model in one cycle: its version, each signal's report, what failed."""

    uri: str
    model: str
    version: int | None
    task: str | None = None
    signals: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "uri": self.uri,
            "model": self.model,
            "version": self.version,
            "task": self.task,
            "signals": self.signals,
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class CycleSummary:
    """What one cycle saw, recorded and decided."""

    at: datetime
    models: tuple[ModelReport, ...]
    samples: int
    evaluation: EvaluationResult
    system: dict[str, float] = field(default_factory=dict)
    feedback: dict[str, int] = field(default_factory=dict)
    backlog: int = 0
    errors: tuple[str, ...] = ()

    @property
    def all_errors(self) -> tuple[str, ...]:
        """Every error of the cycle: its own, each model's and the alert evaluation's."""
        per_model = tuple(e for m in self.models for e in m.errors)
        return (*self.errors, *per_model, *self.evaluation.errors)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "at": self.at.isoformat(),
            "models": [m.to_dict() for m in self.models],
            "samples": self.samples,
            "system": dict(self.system),
            "feedback": dict(self.feedback),
            "backlog": self.backlog,
            "alerts": self.evaluation.to_dict(),
            "errors": list(self.errors),
        }


@dataclass
class _Logs:
    predictions: pd.DataFrame
    feedback: pd.DataFrame


class MonitoringCycle:
    """Run every monitor over ``models`` and the alert rules over what they recorded.

    ``window`` is the span of the drift windows and of the quality and latency signals;
    ``performance_window`` the span measured with labels (labels arrive late, so it is
    longer). ``rules`` default to :func:`driftline.monitoring.presets.default_rules`.
    ``cost`` measures CPU per prediction (default: this process's CPU time; pass
    ``CpuCost(pid=...)`` for a server in another process). ``registry`` counts notifications
    in Prometheus. Samples the metadata DB refused are kept (up to ``max_backlog``) and
    written with the next cycle's. See the module docstring for what a cycle does.

    >>> import tempfile
    >>> from datetime import UTC, datetime
    >>> from driftline import Workspace
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> cycle = MonitoringCycle(ws, models=[], rules=[], system=False)
    >>> summary = cycle.run_once(datetime(2026, 1, 1, tzinfo=UTC))
    >>> summary.to_dict()["models"], summary.evaluation.counts
    ([], {'pending': 0, 'firing': 0})
    >>> ws.close()
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        models: Sequence[str] | None = None,
        rules: Sequence[AlertRule] | None = None,
        channels: Sequence[Channel] = (),
        window: timedelta | str = timedelta(hours=1),
        performance_window: timedelta | str = timedelta(days=1),
        min_rows: int = 30,
        min_calibration_rows: int = 50,
        business_metrics: Sequence[BusinessMetric] = (),
        quality_functions: Mapping[str, Callable[..., Any]] | None = None,
        cost: CpuCost | None = None,
        system: bool = True,
        drift_max_age: timedelta | None = None,
        predictions_dir: Path | None = None,
        feedback_dir: Path | None = None,
        group_by: Sequence[str] | None = None,
        repeat_interval: timedelta = timedelta(hours=4),
        registry: CollectorRegistry | None = None,
        max_backlog: int = 100_000,
        clock: Clock | None = None,
    ) -> None:
        self.workspace = workspace
        self.models = None if models is None else list(models)
        self.window = parse_duration(window, what="window")
        self.performance_window = parse_duration(performance_window, what="performance_window")
        if self.window <= timedelta(0) or self.performance_window < self.window:
            raise ValidationError("window must be > 0 and performance_window at least window")
        self.min_rows = min_rows
        self.min_calibration_rows = min_calibration_rows
        self.business_metrics = tuple(business_metrics)
        self.quality_functions = quality_functions
        self.cost = cost if cost is not None else CpuCost()
        self.system = SystemMetrics(disk_path=workspace.home) if system else None
        self.drift_max_age = drift_max_age or 3 * self.window
        self.predictions_dir = predictions_dir or workspace.home / "predictions"
        self.feedback_dir = feedback_dir or workspace.home / "feedback"
        self.clock = clock or workspace.store.clock
        specs = [m.spec() for m in self.business_metrics if m.name not in CATALOGUE]
        self.manager = AlertManager.from_workspace(
            workspace,
            rules=default_rules() if rules is None else rules,
            channels=channels,
            catalogue=CATALOGUE.with_metrics(*specs),
            group_by=group_by,
            repeat_interval=repeat_interval,
            registry=registry,
            clock=self.clock,
        )
        self.max_backlog = max_backlog
        self.backlog: list[Sample] = []
        self._drift: dict[str, DriftMonitor] = {}
        self._suites: dict[str, LiveSuite] = {}
        self._last_at: datetime | None = None
        self._stop = threading.Event()

    # -- one cycle ---------------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> CycleSummary:
        """One cycle at ``now`` (default: the clock); see the module docstring."""
        now = to_utc(now or self.clock())
        errors: list[str] = []
        system = self._system(errors)
        logs = self._read_logs(now, errors)
        reports: list[ModelReport] = []
        recorded = rejected_types = new_rows = 0
        for uri in self._targets(errors):
            try:
                report, samples, counts = self._model(uri, now, logs)
            except Exception as exc:  # a bug in one model's path must not stop the others
                errors.append(f"{uri}: {type(exc).__name__}: {exc}")
                continue
            rejected_types += counts["label_type"]
            new_rows += counts["new_rows"]
            model_errors = list(report.errors)
            recorded += self._record(samples, model_errors)
            reports.append(_with_errors(report, model_errors))
        feedback = {
            "unknown_prediction_id": self._unknown_feedback(now, logs),
            "label_type": rejected_types,
        }
        tail = self._tail_samples(now, reports, feedback, new_rows, system, errors)
        recorded += self._record(tail, errors)
        evaluation = self.manager.evaluate(at=now)
        self._last_at = now
        return CycleSummary(
            at=now,
            models=tuple(reports),
            samples=recorded,
            evaluation=evaluation,
            system=system,
            feedback=feedback,
            backlog=len(self.backlog),
            errors=tuple(errors),
        )

    def _record(self, samples: list[Sample], errors: list[str]) -> int:
        batch = list(self.backlog)
        for sample in samples:
            try:  # a bad value is dropped here, so it cannot block the backlog forever
                check_value(sample.value, metric=sample.name)
                check_labels(sample.labels, metric=sample.name)
            except ValidationError as exc:
                errors.append(f"sample not recorded: {exc}")
                continue
            batch.append(sample)
        try:
            recorded = self.manager.metrics.record_many(batch)
        except Exception as exc:
            # The DB is away: keep the samples (newest max_backlog) and write them next time.
            self.backlog = batch[-self.max_backlog :]
            errors.append(
                f"cannot record {len(batch)} samples (kept for the next cycle): "
                f"{type(exc).__name__}: {exc}"
            )
            return 0
        self.backlog = []
        return recorded

    def _targets(self, errors: list[str]) -> list[str]:
        if self.models is not None:
            return self.models
        try:
            versions = self.workspace.registry.list()
        except Exception as exc:
            errors.append(f"cannot list registered models: {type(exc).__name__}: {exc}")
            return []
        names = sorted({v.name for v in versions if "champion" in v.aliases})
        return [f"models:/{name}@champion" for name in names]

    def _read_logs(self, now: datetime, errors: list[str]) -> _Logs:
        from driftline.predlog import (
            FEEDBACK_COLUMNS,
            PREDICTION_COLUMNS,
            read_feedback,
            read_predictions,
        )

        since, until = now - self.performance_window, now + _EPSILON
        predictions = pd.DataFrame(columns=list(PREDICTION_COLUMNS))
        feedback = pd.DataFrame(columns=list(FEEDBACK_COLUMNS))
        try:
            if self.predictions_dir.is_dir():
                predictions = read_predictions(self.predictions_dir, since=since, until=until)
            if self.feedback_dir.is_dir():
                feedback = read_feedback(self.feedback_dir, since=since, until=until)
        except Exception as exc:
            errors.append(f"cannot read the prediction or feedback log: {exc}")
        for frame in (predictions, feedback):
            # An empty log reads back untyped; the joins and time filters need real times.
            frame["time"] = pd.to_datetime(frame["time"], utc=True)
        return _Logs(predictions, feedback)

    # -- one model ---------------------------------------------------------------------------
    def _model(
        self, uri: str, now: datetime, logs: _Logs
    ) -> tuple[ModelReport, list[Sample], dict[str, int]]:
        counts = {"label_type": 0, "new_rows": 0}
        try:
            version = self.workspace.registry.get(uri)
        except Exception as exc:
            return ModelReport(uri, uri, None, errors=(f"{uri}: {exc}",)), [], counts
        run = _Runner(uri, now, {"model": version.name, "version": str(version.version)})
        run("drift", self._drift_signal, version, now)
        rows = logs.predictions[logs.predictions["model"] == version.name]
        counts["new_rows"] = self._new_rows(rows)
        recent = rows[rows["time"] > pd.Timestamp(now - self.window)]
        run("latency", signals.latency_signals, recent, model=version.name)
        current = rows[rows["version"] == version.version]
        task = signals.infer_task(version, current)
        if not len(current):
            run.skip("performance", f"no predictions of {version.uri} in the performance window")
        else:
            joined = run.frame("feedback join", self._joined, current, logs.feedback, task, now)
            if joined is not None:
                counts["label_type"] = joined[1]
                self._labelled_signals(run, version, task, joined[0], now)
        report = ModelReport(
            uri, version.name, version.version, task, run.reports, tuple(run.errors)
        )
        return report, run.samples, counts

    def _labelled_signals(
        self, run: _Runner, version: ModelVersion, task: str, joined: pd.DataFrame, now: datetime
    ) -> None:
        window = joined[joined["time"] > pd.Timestamp(now - self.window)]
        run("performance", signals.performance_signals, joined, task=task, baseline=version.metrics)
        if task == "classification":
            run(
                "estimate",
                signals.estimate_signals,
                joined,
                joined,
                min_rows=self.min_calibration_rows,
            )
        run("quality", self._quality_signal, version, window)
        if self.business_metrics:
            run("business", signals.business_signals, self.business_metrics, joined, run.errors)

    def _joined(
        self, current: pd.DataFrame, feedback: pd.DataFrame, task: str, now: datetime
    ) -> tuple[pd.DataFrame, int]:
        from driftline.predlog import join_feedback

        joined = join_feedback(current, feedback)
        cleaned, rejected = signals.clean_labels(joined, task)
        recent = joined["feedback_time"] > pd.Timestamp(now - self.window)
        return cleaned, int((rejected & recent).sum())

    def _drift_signal(self, found: signals.Found, version: ModelVersion, now: datetime) -> None:
        monitor = self._drift.get(version.name)
        if monitor is None:
            monitor = self._drift[version.name] = DriftMonitor(
                self.workspace,
                version.name,
                window=self.window,
                min_rows=self.min_rows,
                predictions_dir=self.predictions_dir,
            )
        new = [e for e in monitor.run_once(now=now) if e.model_version == version.version]
        latest = latest_drift_events(self.workspace, [version.name], since=now - self.drift_max_age)
        event = next((e for e in latest if e.model_version == version.version), None)
        signals.drift_signals(found, event, new_events=len(new))

    def _quality_signal(
        self, found: signals.Found, version: ModelVersion, window: pd.DataFrame
    ) -> None:
        from driftline.predlog import features_frame

        live = self._suites.get(version.id)
        if live is None:
            live = suite_for_version(self.workspace, version, functions=self.quality_functions)
            self._suites[version.id] = live
        found.report.update(live.to_dict())
        if live.suite is None:
            found.report["skipped"] = live.reason
            return
        features = features_frame(window) if len(window) else pd.DataFrame()
        signals.quality_signals(found, live.suite, features)

    def _new_rows(self, rows: pd.DataFrame) -> int:
        if self._last_at is None:
            return 0
        return int((rows["time"] > pd.Timestamp(self._last_at)).sum())

    # -- once per cycle ----------------------------------------------------------------------
    def _system(self, errors: list[str]) -> dict[str, float]:
        if self.system is None:
            return {}
        try:
            return self.system.collect()
        except Exception as exc:
            errors.append(f"cannot read system metrics: {type(exc).__name__}: {exc}")
            return {}

    def _unknown_feedback(self, now: datetime, logs: _Logs) -> int:
        feedback = logs.feedback
        recent = feedback[feedback["time"] > pd.Timestamp(now - self.window)]
        known = logs.predictions["prediction_id"]
        return int((~recent["prediction_id"].isin(known)).sum())

    def _tail_samples(
        self,
        now: datetime,
        reports: list[ModelReport],
        feedback: Mapping[str, int],
        new_rows: int,
        system: Mapping[str, float],
        errors: list[str],
    ) -> list[Sample]:
        out = [
            Sample("driftline_feedback_rejected_rows", {"reason": reason}, float(n), now)
            for reason, n in feedback.items()
        ]
        try:
            cost = self.cost.measure(new_rows)
        except Exception as exc:
            errors.append(f"cannot measure CPU cost: {type(exc).__name__}: {exc}")
            cost = None
        for report in reports:
            if report.version is None:
                continue
            report.signals["cost"] = {"cpu_seconds_per_prediction": cost, "predictions": new_rows}
            if cost is not None:
                labels = {"model": report.model, "version": str(report.version)}
                out.append(Sample("driftline_cost_per_prediction_seconds", labels, cost, now))
        system_samples = _system_samples(system, self.system, now)
        if self._last_at is None:
            # The first CPU reading covers only the moment since this cycle was built.
            system_samples = [s for s in system_samples if s.name != "driftline_system_cpu_percent"]
        return out + system_samples

    # -- continuous --------------------------------------------------------------------------
    def run(
        self,
        *,
        interval: timedelta | str | float,
        cycles: int | None = None,
        on_cycle: Callable[[CycleSummary], object] | None = None,
        wait: Callable[[float], bool] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> int:
        """Run a cycle every ``interval`` until ``cycles`` ran, :meth:`stop`, or Ctrl-C.

        ``wait(seconds)`` waits before the next cycle and returns True to stop (default: a
        wait that :meth:`stop` ends early). Returns how many cycles completed.
        """
        seconds = parse_duration(interval, what="interval").total_seconds()
        wait = wait or self._stop.wait
        done = 0
        try:
            while cycles is None or done < cycles:
                started = monotonic()
                summary = self.run_once()
                done += 1
                if on_cycle is not None:
                    on_cycle(summary)
                if cycles is not None and done >= cycles:
                    break
                if wait(max(0.0, seconds - (monotonic() - started))):
                    break
        except KeyboardInterrupt:
            # Ctrl-C: stop here. Each recorded batch committed whole, so nothing is half-kept.
            pass
        return done

    def stop(self) -> None:
        """Ask :meth:`run` to stop after the cycle in progress."""
        self._stop.set()


class _Runner:
    """Runs one model's signals, each guarded: a failing one is reported, the rest go on."""

    def __init__(self, uri: str, now: datetime, labels: dict[str, str]) -> None:
        self.uri, self.now, self.labels = uri, now, labels
        self.reports: dict[str, dict[str, Any]] = {}
        self.samples: list[Sample] = []
        self.errors: list[str] = []

    def __call__(self, signal: str, step: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        found = signals.Found(self.now, dict(self.labels))
        try:
            step(found, *args, **kwargs)
        except Exception as exc:  # one signal's failure must not cost the others
            self.errors.append(f"{self.uri}: {signal}: {type(exc).__name__}: {exc}")
            found.report["error"] = f"{type(exc).__name__}: {exc}"
            found.samples.clear()
        self.reports[signal] = found.report
        self.samples.extend(found.samples)

    def frame(self, what: str, make: Callable[..., Any], *args: Any) -> Any:
        try:
            return make(*args)
        except Exception as exc:
            self.errors.append(f"{self.uri}: {what}: {type(exc).__name__}: {exc}")
            return None

    def skip(self, signal: str, reason: str) -> None:
        self.reports[signal] = {"skipped": reason}


def _with_errors(report: ModelReport, errors: list[str]) -> ModelReport:
    if len(errors) == len(report.errors):
        return report
    return ModelReport(
        report.uri, report.model, report.version, report.task, report.signals, tuple(errors)
    )


def _system_samples(
    values: Mapping[str, float], system: SystemMetrics | None, now: datetime
) -> list[Sample]:
    if not values or system is None:
        return []
    path = {"path": str(system.disk_path)}
    return [
        Sample("driftline_system_cpu_percent", {}, values["cpu_percent"], now),
        Sample("driftline_system_memory_percent", {}, values["memory_percent"], now),
        Sample("driftline_system_disk_percent", path, values["disk_percent"], now),
        Sample(
            "driftline_system_network_bytes_total",
            {"direction": "sent"},
            values["network_sent_bytes"],
            now,
        ),
        Sample(
            "driftline_system_network_bytes_total",
            {"direction": "received"},
            values["network_received_bytes"],
            now,
        ),
    ]
