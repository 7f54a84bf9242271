"""The alert manager: evaluate rules over the metric history, move alerts, notify channels."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.exc import SQLAlchemyError

from driftline._canonical import canonical_json
from driftline.exceptions import DriftlineError, ValidationError
from driftline.monitoring._alert_types import Alert, AlertState, Transition
from driftline.monitoring._dispatch import Dispatch, dispatch, due_alerts, group_alerts
from driftline.monitoring._series import to_utc
from driftline.monitoring.alerts import Alerts
from driftline.monitoring.catalogue import CATALOGUE, MetricCatalogue
from driftline.monitoring.history import MetricStore, Sample
from driftline.monitoring.notifications import Channel
from driftline.monitoring.rules import AlertRule
from driftline.store import Clock

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["REFERENCE_LABELS", "AlertManager", "EvaluationResult", "fingerprint"]

# Labels that name the lineage node behind a sample (e.g. the drift event that computed it).
# They link the alert to that node but are not part of the alert's identity: a new drift
# event on the same feature must not open a second alert.
REFERENCE_LABELS = ("drift_event", "quality_result", "prediction_batch")
_RESOLVED_RETRY_WINDOW = timedelta(days=1)


def fingerprint(labels: Mapping[str, str]) -> str:
    """The identity of an alert: sha256 of its canonical labels (``alertname`` included)."""
    return hashlib.sha256(canonical_json(dict(labels))).hexdigest()


@dataclass(frozen=True)
class _Observation:
    labels: dict[str, str]
    value: float
    references: dict[str, str]


@dataclass(frozen=True)
class EvaluationResult:
    """One evaluation cycle: state changes, notifications sent, and errors survived."""

    at: datetime
    transitions: tuple[Transition, ...] = ()
    dispatches: tuple[Dispatch, ...] = ()
    errors: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def delivery_failures(self) -> int:
        """Notifications a channel did not accept this cycle."""
        return sum(not d.result.ok for d in self.dispatches)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "at": self.at.isoformat(),
            "transitions": [t.to_dict() for t in self.transitions],
            "dispatches": [d.to_dict() for d in self.dispatches],
            "errors": list(self.errors),
            "counts": dict(self.counts),
        }


class AlertManager:
    """Evaluate ``rules`` against the latest samples and deliver what changed to ``channels``.

    Alerts are identified by fingerprint (rule + labels), so a condition that holds for many
    cycles is one alert, told once, and told again only after ``repeat_interval``. Alerts are
    grouped into one notification per distinct value of the ``group_by`` labels (``None``:
    one notification per alert). Delivery failures are recorded and retried next cycle.

    >>> import tempfile
    >>> from datetime import UTC, datetime
    >>> from driftline import Workspace
    >>> from driftline.monitoring import LogChannel, presets
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> manager = AlertManager.from_workspace(
    ...     ws, rules=[presets.feature_drift(threshold=0.2)], channels=[LogChannel()],
    ...     clock=lambda: now)
    >>> _ = manager.metrics.record("driftline_feature_drift_score", 0.4,
    ...     labels={"model": "fraud", "version": "1", "feature": "age"})
    >>> [str(t.to_state) for t in manager.evaluate().transitions]
    ['firing']
    >>> manager.evaluate().transitions  # still firing: nothing new
    ()
    >>> ws.close()
    """

    def __init__(
        self,
        *,
        alerts: Alerts,
        metrics: MetricStore,
        rules: Sequence[AlertRule],
        channels: Sequence[Channel] = (),
        catalogue: MetricCatalogue | None = CATALOGUE,
        group_by: Sequence[str] | None = None,
        repeat_interval: timedelta = timedelta(hours=4),
        lookback: timedelta = timedelta(minutes=5),
        reference_labels: Sequence[str] = REFERENCE_LABELS,
        clock: Clock | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.alerts = alerts
        self.metrics = metrics
        self.rules = _check_rules(rules, catalogue)
        self.channels = _check_channels(channels)
        self.group_by = None if group_by is None else tuple(group_by)
        self.repeat_interval = repeat_interval
        self.lookback = lookback
        self.reference_labels = tuple(reference_labels)
        self.clock = clock or alerts.clock
        self._counter = None
        if registry is not None:
            self._counter = Counter(
                "driftline_alert_notifications",
                "Alert notifications by channel and result (delivered or failed).",
                ["channel", "result"],
                registry=registry,
            )

    @classmethod
    def from_workspace(
        cls, workspace: Workspace, *, clock: Clock | None = None, **kwargs: Any
    ) -> AlertManager:
        """A manager over ``workspace``'s metric history, alerts, audit log and lineage."""
        clock = clock or workspace.store.clock
        alerts = Alerts(
            store=workspace.store, audit=workspace.audit, lineage=workspace.lineage, clock=clock
        )
        return cls(
            alerts=alerts, metrics=MetricStore(workspace.store, clock=clock), clock=clock, **kwargs
        )

    def evaluate(self, at: datetime | None = None) -> EvaluationResult:
        """Run one cycle at ``at`` (default now): evaluate every rule, then notify.

        Never raises for an unreachable database or a failing channel: what went wrong is
        in the result's ``errors`` (and failed deliveries in the delivery log), and the next
        cycle starts again from the stored state.
        """
        at = to_utc(at or self.clock())
        errors: list[str] = []
        try:
            open_alerts = {a.fingerprint: a for a in self.alerts.active(list(self.rules))}
        except (DriftlineError, SQLAlchemyError) as exc:
            return EvaluationResult(at=at, errors=(f"cannot read open alerts: {exc}",))
        transitions = self._evaluate_rules(open_alerts, at, errors)
        dispatches = self._notify(at, errors)
        return EvaluationResult(
            at=at,
            transitions=tuple(transitions),
            dispatches=tuple(dispatches),
            errors=tuple(errors),
            counts=self._counts(errors),
        )

    def _evaluate_rules(
        self, open_alerts: dict[str, Alert], at: datetime, errors: list[str]
    ) -> list[Transition]:
        transitions: list[Transition] = []
        kept: set[str] = set()
        for rule in self.rules.values():
            try:
                observed = self._observe(rule, at)
            except (DriftlineError, SQLAlchemyError) as exc:
                # Without data, leave this rule's alerts as they are rather than resolve them.
                errors.append(f"rule {rule.name!r}: cannot read {rule.metric!r}: {exc}")
                kept.update(fp for fp, a in open_alerts.items() if a.rule == rule.name)
                continue
            for fp, seen in observed.items():
                kept.add(fp)
                current = open_alerts.get(fp)
                self._guard(errors, rule, self._step, rule, fp, seen, current, at, transitions)
        for fp, alert in open_alerts.items():
            if fp not in kept:
                rule = self.rules[alert.rule]
                self._guard(errors, rule, self._end, alert, rule, at, transitions)
        return transitions

    def _guard(self, errors: list[str], rule: AlertRule, step: Any, *args: Any) -> None:
        # One alert's failed write (a lock, a race with another evaluator) is reported and
        # the cycle goes on; the alert is retried from the stored state next cycle.
        try:
            step(*args)
        except (DriftlineError, SQLAlchemyError) as exc:
            errors.append(f"rule {rule.name!r}: {exc}")

    def _observe(self, rule: AlertRule, at: datetime) -> dict[str, _Observation]:
        newest: dict[str, tuple[Sample, _Observation]] = {}
        for sample in self.metrics.latest(
            rule.metric, matchers=rule.matchers, at=at, lookback=self.lookback
        ):
            refs = {k: v for k, v in sample.labels.items() if k in self.reference_labels}
            identity = {k: v for k, v in sample.labels.items() if k not in self.reference_labels}
            labels = {**identity, **rule.labels, "alertname": rule.name, "severity": rule.severity}
            fp = fingerprint(labels)
            if fp not in newest or sample.time >= newest[fp][0].time:
                newest[fp] = (sample, _Observation(labels, sample.value, refs))
        return {fp: obs for fp, (_, obs) in newest.items() if rule.holds(obs.value)}

    def _step(
        self,
        rule: AlertRule,
        fp: str,
        seen: _Observation,
        alert: Alert | None,
        at: datetime,
        transitions: list[Transition],
    ) -> None:
        if alert is None:
            opened = self.alerts.open(
                rule,
                labels=seen.labels,
                fingerprint=fp,
                value=seen.value,
                at=at,
                references=seen.references,
            )
            transitions.append(
                Transition(opened.id, AlertState.INACTIVE, opened.state, seen.value, at)
            )
        elif alert.state is AlertState.PENDING and at - alert.started_at >= rule.for_duration:
            self.alerts.move(
                alert,
                AlertState.FIRING,
                rule=rule,
                value=seen.value,
                at=at,
                references=seen.references,
            )
            transitions.append(Transition(alert.id, alert.state, AlertState.FIRING, seen.value, at))
        elif alert.value != seen.value or seen.references:
            self.alerts.touch(alert, rule=rule, value=seen.value, at=at, references=seen.references)

    def _end(
        self, alert: Alert, rule: AlertRule, at: datetime, transitions: list[Transition]
    ) -> None:
        to = AlertState.RESOLVED if alert.state is AlertState.FIRING else AlertState.INACTIVE
        self.alerts.move(alert, to, rule=rule, value=None, at=at)
        transitions.append(Transition(alert.id, alert.state, to, alert.value, at))

    def _notify(self, at: datetime, errors: list[str]) -> list[Dispatch]:
        if not self.channels:
            return []
        names = list(self.rules)
        try:
            firing = [a for a in self.alerts.active(names) if a.state is AlertState.FIRING]
            resolved = self.alerts.ended_since(at - _RESOLVED_RETRY_WINDOW, names)
            delivered = self.alerts.last_delivered([a.id for a in (*firing, *resolved)])
            silences = self.alerts.silences(at=at)
        except (DriftlineError, SQLAlchemyError) as exc:
            errors.append(f"cannot plan notifications: {exc}")
            return []
        dispatches: list[Dispatch] = []
        rows: list[dict[str, Any]] = []
        for channel in self.channels.values():
            due = due_alerts(
                channel.name,
                firing=firing,
                resolved=resolved,
                delivered=delivered,
                silences=silences,
                at=at,
                repeat_interval=self.repeat_interval,
            )
            groups = group_alerts(due, self.group_by)
            rows += dispatch(
                channel, groups, at=at, on_result=lambda d: self._dispatched(d, dispatches)
            )
        try:
            self.alerts.record_deliveries(rows)
        except (DriftlineError, SQLAlchemyError) as exc:
            errors.append(f"cannot record {len(rows)} deliveries: {exc}")
        return dispatches

    def _dispatched(self, done: Dispatch, dispatches: list[Dispatch]) -> None:
        dispatches.append(done)
        if self._counter is not None:
            result = "delivered" if done.result.ok else "failed"
            self._counter.labels(done.channel, result).inc()

    def _counts(self, errors: list[str]) -> dict[str, int]:
        counts = {"pending": 0, "firing": 0}
        try:
            for alert in self.alerts.active(list(self.rules)):
                counts[alert.state.value] += 1
        except (DriftlineError, SQLAlchemyError) as exc:
            errors.append(f"cannot count open alerts: {exc}")
        return counts


def _check_rules(
    rules: Sequence[AlertRule], catalogue: MetricCatalogue | None
) -> dict[str, AlertRule]:
    checked: dict[str, AlertRule] = {}
    for rule in rules:
        if not isinstance(rule, AlertRule):
            raise ValidationError(f"rules: {rule!r} is not an AlertRule")
        if rule.name in checked:
            raise ValidationError(f"rules: two rules are named {rule.name!r}")
        if catalogue is not None:
            rule.check(catalogue)
        checked[rule.name] = rule
    return checked


def _check_channels(channels: Sequence[Channel]) -> dict[str, Channel]:
    checked: dict[str, Channel] = {}
    for channel in channels:
        if not isinstance(channel, Channel):
            raise ValidationError(f"channels: {channel!r} has no name and send(notification)")
        if channel.name in checked:
            raise ValidationError(
                f"channels: two channels are named {channel.name!r}; give each a distinct name="
            )
        checked[channel.name] = channel
    return checked
