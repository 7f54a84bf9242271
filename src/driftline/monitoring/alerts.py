"""Stored alerts: open, move and list them; silences; the record of deliveries."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from driftline._canonical import canonical_json
from driftline.exceptions import ConflictError, NotFoundError, ValidationError
from driftline.ids import uuid7
from driftline.monitoring._alert_types import Alert, AlertState, Delivery, Silence, Transition
from driftline.monitoring._durations import parse_duration
from driftline.monitoring._series import check_labels, to_utc
from driftline.monitoring.rules import AlertRule
from driftline.store import AuditLog, Clock, MetadataStore, iso_utc
from driftline.store._monitoring_tables import (
    alert_deliveries,
    alert_silences,
    alert_transitions,
    alerts,
)

if TYPE_CHECKING:
    from driftline.lineage import Lineage

__all__ = ["Alerts"]

_STATES = ("firing", "pending", "resolved", "inactive", "active", "all")


def _json(value: Any) -> str:
    return canonical_json(value).decode()


class Alerts:
    """The alerts of a workspace: each change stored with its audit entry and lineage.

    >>> import tempfile
    >>> from driftline import Workspace
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> book = Alerts(store=ws.store, audit=ws.audit, lineage=ws.lineage)
    >>> book.silence(rule="FeatureDrift", duration="2h", reason="retraining").rule
    'FeatureDrift'
    >>> book.query(state="firing")
    []
    >>> ws.close()
    """

    def __init__(
        self,
        *,
        store: MetadataStore,
        audit: AuditLog,
        lineage: Lineage | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.audit = audit
        self.lineage = lineage
        self.clock = clock or store.clock

    # -- reading --------------------------------------------------------------------------

    def query(
        self, *, state: str = "all", rule: str | None = None, limit: int | None = 100
    ) -> list[Alert]:
        """Alerts newest first: ``state`` is firing, pending, resolved, inactive, active or all."""
        if state not in _STATES:
            raise ValidationError(f"alert state {state!r} is not one of {', '.join(_STATES)}")
        stmt = select(alerts).order_by(alerts.c.started_at.desc(), alerts.c.id.desc())
        if state == "active":
            stmt = stmt.where(alerts.c.state.in_(["pending", "firing"]))
        elif state != "all":
            stmt = stmt.where(alerts.c.state == state)
        if rule is not None:
            stmt = stmt.where(alerts.c.rule == rule)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.store.read() as conn:
            return [Alert.from_row(row) for row in conn.execute(stmt).mappings()]

    def get(self, alert_id: str) -> Alert:
        """The alert with ``alert_id``, or NotFoundError."""
        with self.store.read() as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"alert {alert_id!r} not found; list alerts with `alerts list`")
        return Alert.from_row(row)

    def active(self, rules: Collection[str] | None = None) -> list[Alert]:
        """Open (pending or firing) alerts, of ``rules`` only when given."""
        stmt = select(alerts).where(alerts.c.active_fingerprint.is_not(None))
        if rules is not None:
            stmt = stmt.where(alerts.c.rule.in_(list(rules)))
        with self.store.read() as conn:
            return [Alert.from_row(row) for row in conn.execute(stmt).mappings()]

    def ended_since(self, since: datetime, rules: Collection[str]) -> list[Alert]:
        """Alerts of ``rules`` resolved at or after ``since``."""
        stmt = (
            select(alerts)
            .where(alerts.c.state == AlertState.RESOLVED.value)
            .where(alerts.c.ended_at >= iso_utc(since))
            .where(alerts.c.rule.in_(list(rules)))
        )
        with self.store.read() as conn:
            return [Alert.from_row(row) for row in conn.execute(stmt).mappings()]

    def transitions(self, alert_id: str) -> list[Transition]:
        """Every state change of one alert, oldest first."""
        stmt = (
            select(alert_transitions)
            .where(alert_transitions.c.alert_id == alert_id)
            .order_by(alert_transitions.c.time, alert_transitions.c.id)
        )
        with self.store.read() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [
            Transition(
                r["alert_id"],
                AlertState(r["from_state"]),
                AlertState(r["to_state"]),
                r["value"],
                to_utc(datetime.fromisoformat(r["time"])),
            )
            for r in rows
        ]

    def deliveries(self, alert_ids: Collection[str] | None = None) -> list[Delivery]:
        """Delivery records (of ``alert_ids`` when given), oldest first."""
        stmt = select(alert_deliveries).order_by(alert_deliveries.c.time, alert_deliveries.c.id)
        if alert_ids is not None:
            stmt = stmt.where(alert_deliveries.c.alert_id.in_(list(alert_ids)))
        with self.store.read() as conn:
            return [Delivery.from_row(row) for row in conn.execute(stmt).mappings()]

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        """Deliveries per channel and status, e.g. ``{"slack": {"failed": 3}}``."""
        stmt = select(alert_deliveries.c.channel, alert_deliveries.c.status, func.count()).group_by(
            alert_deliveries.c.channel, alert_deliveries.c.status
        )
        counts: dict[str, dict[str, int]] = {}
        with self.store.read() as conn:
            for channel, status, count in conn.execute(stmt):
                counts.setdefault(channel, {})[status] = int(count)
        return counts

    # -- silences -------------------------------------------------------------------------

    def silence(
        self,
        *,
        rule: str | None = None,
        matchers: Mapping[str, str] | None = None,
        duration: timedelta | str | float,
        reason: str = "",
        starts_at: datetime | None = None,
    ) -> Silence:
        """Mute notifications of matching alerts for ``duration`` (e.g. ``"2h"``)."""
        checked = check_labels(matchers)
        if rule is None and not checked:
            raise ValidationError("a silence needs a rule name, label matchers or both")
        if rule is not None and (not isinstance(rule, str) or not rule.strip()):
            raise ValidationError(f"silence: rule {rule!r} must be a non-empty name")
        length = parse_duration(duration, what="silence duration")
        if length <= timedelta(0):
            raise ValidationError(f"silence duration must be positive, got {duration!r}")
        now = to_utc(self.clock())
        start = to_utc(starts_at) if starts_at else now
        silence = Silence(
            str(uuid7()), rule, checked, reason, self.audit.actor, now, start, start + length
        )
        with self.store.write() as conn:
            row = {
                **silence.to_dict(),
                "matchers": _json(checked),
                "created_at": iso_utc(now),
                "starts_at": iso_utc(start),
                "expires_at": iso_utc(silence.expires_at),
            }
            conn.execute(insert(alert_silences).values(**row))
            self.audit.append(
                conn, action="alert.silence.add", subject=silence.id, payload=silence.to_dict()
            )
        return silence

    def expire_silence(self, silence_id: str) -> Silence:
        """End a silence now."""
        now = to_utc(self.clock())
        with self.store.write() as conn:
            row = (
                conn.execute(select(alert_silences).where(alert_silences.c.id == silence_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"silence {silence_id!r} not found")
            conn.execute(
                update(alert_silences)
                .where(alert_silences.c.id == silence_id)
                .values(expires_at=min(row["expires_at"], iso_utc(now)))
            )
            self.audit.append(conn, action="alert.silence.expire", subject=silence_id)
        return Silence.from_row({**row, "expires_at": min(row["expires_at"], iso_utc(now))})

    def silences(
        self, *, at: datetime | None = None, include_expired: bool = False
    ) -> list[Silence]:
        """Silences in force at ``at`` (default now), or every silence."""
        stmt = select(alert_silences).order_by(alert_silences.c.created_at)
        moment = to_utc(at or self.clock())
        if not include_expired:
            stmt = stmt.where(alert_silences.c.expires_at > iso_utc(moment))
        with self.store.read() as conn:
            found = [Silence.from_row(row) for row in conn.execute(stmt).mappings()]
        return found if include_expired else [s for s in found if s.active_at(moment)]

    # -- changes, used by AlertManager ----------------------------------------------------

    def open(
        self,
        rule: AlertRule,
        *,
        labels: Mapping[str, str],
        fingerprint: str,
        value: float,
        at: datetime,
        references: Mapping[str, str],
    ) -> Alert:
        """Start an alert: pending, or firing at once when the rule has no ``for``."""
        state = AlertState.FIRING if rule.for_duration <= timedelta(0) else AlertState.PENDING
        alert = Alert(
            id=str(uuid7(now_ms=int(at.timestamp() * 1000))),
            fingerprint=fingerprint,
            rule=rule.name,
            metric=rule.metric,
            severity=rule.severity,
            state=state,
            labels=dict(labels),
            annotations=_annotations(rule, labels, value),
            value=value,
            threshold=rule.threshold,
            started_at=at,
            fired_at=at if state is AlertState.FIRING else None,
            ended_at=None,
            updated_at=at,
        )
        try:
            with self.store.write() as conn:
                conn.execute(insert(alerts).values(**_row(alert), active_fingerprint=fingerprint))
                self._link(conn, alert, rule, references, new=True)
                self._record(conn, alert, AlertState.INACTIVE, references)
        except DBIntegrityError as exc:
            raise ConflictError(
                f"rule {rule.name!r}: an alert with fingerprint {fingerprint[:12]} is already "
                "open (another evaluator opened it first)"
            ) from exc
        return alert

    def move(
        self,
        alert: Alert,
        to: AlertState,
        *,
        rule: AlertRule | None,
        value: float | None,
        at: datetime,
        references: Mapping[str, str] | None = None,
    ) -> Alert:
        """Change an open alert's state (pending -> firing, -> resolved or inactive)."""
        annotations = _annotations(rule, alert.labels, value) if rule else alert.annotations
        moved = replace(
            alert,
            state=to,
            value=alert.value if value is None else value,
            annotations=annotations,
            fired_at=at if to is AlertState.FIRING else alert.fired_at,
            ended_at=None if to.active else at,
            updated_at=at,
        )
        with self.store.write() as conn:
            changed = conn.execute(
                update(alerts)
                .where(alerts.c.id == alert.id)
                .where(alerts.c.state == alert.state.value)
                .values(
                    **_row(moved),
                    active_fingerprint=alert.fingerprint if to.active else None,
                )
            ).rowcount
            if changed != 1:
                raise ConflictError(
                    f"alert {alert.id!r} is no longer {alert.state}; another evaluator moved it"
                )
            if rule is not None:
                self._link(conn, moved, rule, references or {}, new=False)
            self._record(conn, moved, alert.state, references or {})
        return moved

    def touch(
        self,
        alert: Alert,
        *,
        rule: AlertRule,
        value: float,
        at: datetime,
        references: Mapping[str, str] | None = None,
    ) -> Alert:
        """Refresh an open alert's latest value and annotations and link new signal nodes."""
        annotations = _annotations(rule, alert.labels, value)
        with self.store.write() as conn:
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert.id)
                .values(value=value, annotations=_json(annotations), updated_at=iso_utc(at))
            )
            self._link(conn, alert, rule, references or {}, new=False)
        return replace(alert, value=value, annotations=annotations, updated_at=at)

    def record_deliveries(self, rows: list[dict[str, Any]]) -> None:
        """Store delivery records (one per alert per channel attempt)."""
        if rows:
            with self.store.write() as conn:
                conn.execute(insert(alert_deliveries), rows)

    def last_delivered(self, alert_ids: Collection[str]) -> dict[tuple[str, str, str], datetime]:
        """Newest successful delivery time per ``(alert_id, channel, event)``."""
        if not alert_ids:
            return {}
        stmt = (
            select(
                alert_deliveries.c.alert_id,
                alert_deliveries.c.channel,
                alert_deliveries.c.event,
                func.max(alert_deliveries.c.time),
            )
            .where(alert_deliveries.c.alert_id.in_(list(alert_ids)))
            .where(alert_deliveries.c.status == "delivered")
            .group_by(
                alert_deliveries.c.alert_id, alert_deliveries.c.channel, alert_deliveries.c.event
            )
        )
        with self.store.read() as conn:
            return {
                (a, c, e): to_utc(datetime.fromisoformat(t)) for a, c, e, t in conn.execute(stmt)
            }

    def _record(
        self, conn: Connection, alert: Alert, before: AlertState, references: Mapping[str, str]
    ) -> None:
        conn.execute(
            insert(alert_transitions).values(
                id=str(uuid7()),
                alert_id=alert.id,
                from_state=before.value,
                to_state=alert.state.value,
                value=alert.value,
                time=iso_utc(alert.updated_at),
            )
        )
        self.audit.append(
            conn,
            action=f"alert.{alert.state.value}",
            subject=alert.id,
            payload={
                "rule": alert.rule,
                "fingerprint": alert.fingerprint,
                "from": before.value,
                "to": alert.state.value,
                "labels": alert.labels,
                "value": alert.value,
                "threshold": alert.threshold,
                "references": dict(references),
            },
        )

    def _link(
        self,
        conn: Connection,
        alert: Alert,
        rule: AlertRule,
        references: Mapping[str, str],
        *,
        new: bool,
    ) -> None:
        if self.lineage is None:
            return
        if new:
            self.lineage.add_node(
                alert.id,
                "alert",
                alert.rule,
                attributes={
                    "fingerprint": alert.fingerprint,
                    "metric": rule.metric,
                    "op": rule.op,
                    "threshold": rule.threshold,
                    "severity": rule.severity,
                    "labels": alert.labels,
                },
                conn=conn,
            )
        for node_id in references.values():
            try:
                self.lineage.node(node_id, conn=conn)
            except (NotFoundError, ValidationError):
                continue  # a signal that names no recorded node still alerts; it just has no edge
            self.lineage.add_edge(node_id, alert.id, "triggered", conn=conn)


def _annotations(
    rule: AlertRule | None, labels: Mapping[str, str], value: float | None
) -> dict[str, str]:
    if rule is None:
        return {}
    keys = {"summary", *rule.annotations}
    return {key: rule.render(key, labels, value) for key in sorted(keys)}


def _row(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "fingerprint": alert.fingerprint,
        "rule": alert.rule,
        "metric": alert.metric,
        "severity": alert.severity,
        "state": alert.state.value,
        "labels": _json(alert.labels),
        "annotations": _json(alert.annotations),
        "value": alert.value,
        "threshold": alert.threshold,
        "started_at": iso_utc(alert.started_at),
        "fired_at": iso_utc(alert.fired_at) if alert.fired_at else None,
        "ended_at": iso_utc(alert.ended_at) if alert.ended_at else None,
        "updated_at": iso_utc(alert.updated_at),
    }
