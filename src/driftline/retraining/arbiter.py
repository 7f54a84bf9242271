"""The arbiter: may a retrain start now? Guardrails against retraining storms.

In order: a circuit breaker (after ``breaker_after`` rejected or rolled-back challengers in a
row, automatic retraining stops until a person resets it), no retraining while a canary
bakes, a cooldown since the last retrain, a budget per period, an idempotency key (model,
reasons, window, data snapshot) so the same evidence never retrains twice, and single flight:
a lease row in the metadata DB, so two controllers on two machines never retrain one model at
once. Every decision, "not now, and why" included, is stored and audited.

A controller that dies mid-retrain leaves its decision ``started`` and its lease held;
:meth:`Arbiter.abandon_stale` (run at the start of every controller cycle) marks such a
decision ``abandoned`` and frees the lease once its owner is provably gone: the owner is this
arbiter (a restart), the lease expired, or the owner is ``host:pid`` (what the CLI uses) of a
process that no longer runs on this host. A live controller's retrain is never touched.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from driftline._canonical import canonical_json, loads
from driftline.exceptions import ConflictError, NotFoundError, ValidationError
from driftline.ids import uuid7
from driftline.retraining.triggers import TriggerResult
from driftline.store import iso_utc
from driftline.store._retraining_tables import retrain_decisions, retrain_leases

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["Arbiter", "ArbiterPolicy", "Decision"]

_REJECTED = ("rejected", "rolled_back")
_OUTCOMES = ("promoted", "rejected", "rolled_back", "failed", "abandoned")


@dataclass(frozen=True)
class ArbiterPolicy:
    """Limits on automatic retraining."""

    cooldown: timedelta = timedelta(hours=6)
    budget: int = 4
    budget_period: timedelta = timedelta(days=1)
    breaker_after: int = 3
    lease_ttl: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.budget < 1 or self.breaker_after < 1:
            raise ValidationError("arbiter policy: budget and breaker_after must be at least 1")


@dataclass(frozen=True)
class Decision:
    """One stored decision about retraining a model."""

    id: str
    model: str
    time: str
    allowed: bool
    reason: str
    triggers: list[dict[str, Any]]
    idempotency_key: str | None
    status: str
    outcome: str | None = None
    challenger_version: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


class Arbiter:
    """Decides, records and leases; one per controller process (``owner``)."""

    def __init__(
        self, workspace: Workspace, policy: ArbiterPolicy | None = None, *, owner: str
    ) -> None:
        self.workspace = workspace
        self.policy = policy or ArbiterPolicy()
        self.owner = owner

    def decide(
        self,
        model: str,
        triggers: Sequence[TriggerResult],
        *,
        window_key: str,
        data_snapshot: str,
        canary_active: bool = False,
        evidence: dict[str, Any] | None = None,
    ) -> Decision:
        """Allow a retrain (taking the model's lease) or refuse with the reason; stored either
        way, with ``evidence`` (JSON-ready facts the next cycles may need) in its details.
        Call only when at least one trigger fired."""
        fired = [t for t in triggers if t.fired]
        if not fired:
            raise ValidationError("decide() needs at least one fired trigger")
        now = self.workspace.store.clock()
        key = _idempotency_key(model, fired, window_key, data_snapshot)
        manual = any(t.trigger == "manual" for t in fired)
        with self.workspace.store.write() as conn:
            self.workspace.store.lock(conn, f"retrain/{model}")
            refusal = self._refusal(conn, model, now, key, canary_active, manual)
            if refusal is None and not self._take_lease(conn, model, now):
                refusal = self._lease_holder(conn, model)
            return self._record(conn, model, now, fired, key, refusal, evidence=evidence)

    def finish(
        self,
        decision_id: str,
        *,
        outcome: str,
        challenger_version: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> Decision:
        """Record how an allowed retrain ended and release the model's lease.

        A decision another controller already marked ``abandoned`` (its owner looked dead)
        may still be finished by its owner, so the record says what really happened."""
        if outcome not in _OUTCOMES:
            raise ValidationError(f"outcome {outcome!r} is not one of {', '.join(_OUTCOMES)}")
        with self.workspace.store.write() as conn:
            decision = self._get(conn, decision_id)
            if decision.status != "started" and decision.outcome != "abandoned":
                raise ConflictError(f"decision {decision_id} is {decision.status}, not started")
            self._finish(conn, decision, outcome, challenger_version, details or {})
            return self._get(conn, decision_id)

    def progress(
        self,
        decision_id: str,
        *,
        stage: str,
        challenger_version: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> Decision:
        """Record how far a started retrain got (and renew its lease), so a restart after a
        crash knows what was half done."""
        now = self.workspace.store.clock()
        with self.workspace.store.write() as conn:
            decision = self._get(conn, decision_id)
            if decision.status != "started":
                raise ConflictError(f"decision {decision_id} is {decision.status}, not started")
            merged = {**decision.details, **(details or {}), "stage": stage}
            conn.execute(
                update(retrain_decisions)
                .where(retrain_decisions.c.id == decision_id)
                .values(
                    challenger_version=_first(challenger_version, decision.challenger_version),
                    updated_at=iso_utc(now),
                    details=canonical_json(merged).decode(),
                )
            )
            conn.execute(
                update(retrain_leases)
                .where(
                    retrain_leases.c.model_name == decision.model,
                    retrain_leases.c.owner == decision.details.get("owner"),
                )
                .values(expires_at=iso_utc(now + self.policy.lease_ttl))
            )
            self.workspace.audit.append(
                conn,
                action="retrain.progress",
                subject=f"retrain/{decision_id}",
                payload={
                    "model": decision.model,
                    "stage": stage,
                    "challenger_version": challenger_version,
                },
            )
            return self._get(conn, decision_id)

    def abandon_stale(self, model: str) -> list[Decision]:
        """Mark retrains whose controller is gone ``abandoned`` and free their lease, so the
        next cycle can start cleanly; returns the decisions it abandoned."""
        now = self.workspace.store.clock()
        with self.workspace.store.write() as conn:
            self.workspace.store.lock(conn, f"retrain/{model}")
            lease = (
                conn.execute(
                    select(retrain_leases)
                    .where(retrain_leases.c.model_name == model)
                    .with_for_update()
                )
                .mappings()
                .first()
            )
            live = lease["owner"] if lease is not None and self._live(lease, now) else None
            rows = (
                conn.execute(
                    select(retrain_decisions)
                    .where(
                        retrain_decisions.c.model_name == model,
                        retrain_decisions.c.status == "started",
                    )
                    .order_by(retrain_decisions.c.time, retrain_decisions.c.id)
                )
                .mappings()
                .all()
            )
            started = [_decision(r) for r in rows]
            stale = [d for d in started if d.details.get("owner") != live]
            if lease is not None and live is None:
                conn.execute(delete(retrain_leases).where(retrain_leases.c.model_name == model))
                self.workspace.audit.append(
                    conn,
                    action="retrain.lease_free",
                    subject=f"retrain-lease/{model}",
                    payload={
                        "model": model,
                        "owner": lease["owner"],
                        "expires_at": lease["expires_at"],
                        "freed_by": self.owner,
                    },
                )
            for decision in stale:
                self._finish(conn, decision, "abandoned", None, {"abandoned_by": self.owner})
            return [self._get(conn, d.id) for d in stale]

    def reset_breaker(self, model: str, *, reason: str) -> Decision:
        """A person re-enables automatic retraining after the breaker opened."""
        if not reason.strip():
            raise ValidationError("resetting the circuit breaker needs a reason")
        now = self.workspace.store.clock()
        with self.workspace.store.write() as conn:
            return self._record(
                conn, model, now, [], None, f"breaker reset: {reason}", status="reset"
            )

    def breaker_open(self, model: str) -> bool:
        """Whether the last ``breaker_after`` finished retrains were all rejected."""
        with self.workspace.store.read() as conn:
            return self._breaker_open(conn, model)

    def decisions(self, model: str, *, limit: int = 100) -> list[Decision]:
        """Stored decisions for ``model``, newest first."""
        with self.workspace.store.read() as conn:
            rows = (
                conn.execute(
                    select(retrain_decisions)
                    .where(retrain_decisions.c.model_name == model)
                    .order_by(retrain_decisions.c.time.desc(), retrain_decisions.c.id.desc())
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        return [_decision(r) for r in rows]

    # -- the checks ------------------------------------------------------------------------
    def _refusal(
        self,
        conn: Connection,
        model: str,
        now: datetime,
        key: str,
        canary_active: bool,
        manual: bool,
    ) -> str | None:
        if self._breaker_open(conn, model) and not manual:
            return (
                f"circuit breaker open: the last {self.policy.breaker_after} challengers "
                "were rejected; a person must reset it (driftline retrain reset)"
            )
        if canary_active:
            return "a canary is baking; retraining waits until it is promoted or rolled back"
        same = conn.execute(
            select(retrain_decisions.c.id).where(retrain_decisions.c.idempotency_key == key)
        ).scalar()
        if same:
            return f"already decided for the same evidence (decision {same})"
        last = conn.execute(
            select(func.max(retrain_decisions.c.time)).where(
                retrain_decisions.c.model_name == model, retrain_decisions.c.allowed.is_(True)
            )
        ).scalar()
        if last and not manual and now - datetime.fromisoformat(last) < self.policy.cooldown:
            return f"cooldown: last retrain started {last}, cooldown {self.policy.cooldown}"
        used = conn.execute(
            select(func.count())
            .select_from(retrain_decisions)
            .where(
                retrain_decisions.c.model_name == model,
                retrain_decisions.c.allowed.is_(True),
                retrain_decisions.c.time > iso_utc(now - self.policy.budget_period),
            )
        ).scalar_one()
        if used >= self.policy.budget and not manual:
            return (
                f"budget: {used} retrains in the last {self.policy.budget_period} "
                f"(budget {self.policy.budget})"
            )
        return None

    def _breaker_open(self, conn: Connection, model: str) -> bool:
        rows = conn.execute(
            select(retrain_decisions.c.status, retrain_decisions.c.outcome)
            .where(
                retrain_decisions.c.model_name == model,
                retrain_decisions.c.status.in_(("finished", "reset")),
            )
            .order_by(retrain_decisions.c.updated_at.desc(), retrain_decisions.c.id.desc())
            .limit(self.policy.breaker_after)
        ).all()
        return len(rows) == self.policy.breaker_after and all(
            status == "finished" and outcome in _REJECTED for status, outcome in rows
        )

    def _take_lease(self, conn: Connection, model: str, now: datetime) -> bool:
        lease = (
            conn.execute(
                select(retrain_leases).where(retrain_leases.c.model_name == model).with_for_update()
            )
            .mappings()
            .first()
        )
        values = {
            "owner": self.owner,
            "acquired_at": iso_utc(now),
            "expires_at": iso_utc(now + self.policy.lease_ttl),
        }
        if lease is None:
            conn.execute(insert(retrain_leases).values(model_name=model, **values))
            return True
        if lease["owner"] == self.owner or lease["expires_at"] <= iso_utc(now):
            conn.execute(
                update(retrain_leases).where(retrain_leases.c.model_name == model).values(**values)
            )
            return True
        return False

    def _live(self, lease: Any, now: datetime) -> bool:
        """Whether ``lease`` belongs to another controller that may still be working."""
        owner = lease["owner"]
        return owner != self.owner and lease["expires_at"] > iso_utc(now) and not _gone(owner)

    def _finish(
        self,
        conn: Connection,
        decision: Decision,
        outcome: str,
        challenger_version: int | None,
        details: dict[str, Any],
    ) -> None:
        challenger = _first(challenger_version, decision.challenger_version)
        values: dict[str, Any] = {
            "status": "finished",
            "outcome": outcome,
            "challenger_version": challenger,
            "updated_at": iso_utc(self.workspace.store.clock()),
            "details": canonical_json({**decision.details, **details}).decode(),
        }
        if outcome == "abandoned":
            # The evidence was never answered: a later cycle may retrain on it again.
            values["idempotency_key"] = None
        conn.execute(
            update(retrain_decisions).where(retrain_decisions.c.id == decision.id).values(**values)
        )
        # Only the decision's own lease: after an expiry another controller may hold it.
        conn.execute(
            delete(retrain_leases).where(
                retrain_leases.c.model_name == decision.model,
                retrain_leases.c.owner == decision.details.get("owner"),
            )
        )
        self.workspace.audit.append(
            conn,
            action="retrain.finish",
            subject=f"retrain/{decision.id}",
            payload={
                "model": decision.model,
                "outcome": outcome,
                "challenger_version": challenger,
                "details": details,
            },
        )

    @staticmethod
    def _lease_holder(conn: Connection, model: str) -> str:
        lease = (
            conn.execute(select(retrain_leases).where(retrain_leases.c.model_name == model))
            .mappings()
            .one()
        )
        return (
            f"single flight: {lease['owner']} holds the retrain lease of {model!r} "
            f"until {lease['expires_at']}"
        )

    def _record(
        self,
        conn: Connection,
        model: str,
        now: datetime,
        fired: Sequence[TriggerResult],
        key: str | None,
        refusal: str | None,
        status: str | None = None,
        *,
        evidence: dict[str, Any] | None = None,
    ) -> Decision:
        allowed = refusal is None and status is None
        reason = refusal or "; ".join(f"{t.trigger}: {t.reason}" for t in fired)
        row = {
            "id": str(uuid7()),
            "model_name": model,
            "time": iso_utc(now),
            "allowed": allowed,
            "reason": reason,
            "triggers": canonical_json([asdict(t) for t in fired]).decode(),
            "idempotency_key": key if allowed else None,
            "status": status or ("started" if allowed else "refused"),
            "details": canonical_json({**(evidence or {}), "owner": self.owner}).decode(),
            "updated_at": iso_utc(now),
        }
        conn.execute(insert(retrain_decisions).values(**row))
        self.workspace.audit.append(
            conn,
            action="retrain.decide",
            subject=f"retrain/{row['id']}",
            payload={"model": model, "allowed": allowed, "reason": reason, "status": row["status"]},
        )
        return _decision(row)

    @staticmethod
    def _get(conn: Connection, decision_id: str) -> Decision:
        row = (
            conn.execute(select(retrain_decisions).where(retrain_decisions.c.id == decision_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError(f"retrain decision {decision_id!r} not found")
        return _decision(row)


def _idempotency_key(model: str, fired: Sequence[TriggerResult], window: str, snapshot: str) -> str:
    reasons = sorted(t.trigger for t in fired)
    text = canonical_json({"model": model, "reasons": reasons, "window": window, "data": snapshot})
    return hashlib.sha256(text).hexdigest()


def _first(*versions: int | None) -> int | None:
    return next((v for v in versions if v is not None), None)


def _gone(owner: str) -> bool:
    """Whether ``owner`` is ``host:pid`` of a process that no longer runs on this host."""
    host, _, pid = owner.rpartition(":")
    if os.name != "posix" or host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists but belongs to someone else
        return False
    return False


def _decision(row: Any) -> Decision:
    return Decision(
        id=row["id"],
        model=row["model_name"],
        time=row["time"],
        allowed=bool(row["allowed"]),
        reason=row["reason"],
        triggers=loads(row["triggers"]),
        idempotency_key=row["idempotency_key"],
        status=row["status"],
        outcome=row.get("outcome"),
        challenger_version=row.get("challenger_version"),
        details=loads(row["details"]),
    )
