"""Alias moves and their history, each inside the caller's write transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from driftline.exceptions import ConflictError, NotFoundError, ValidationError
from driftline.registry._records import AliasChange, alias_change
from driftline.registry._uri import check_alias
from driftline.store import AuditLog
from driftline.store._registry_tables import model_alias_history, model_aliases, model_versions

__all__ = ["aliases_of", "history", "move_alias", "version_at"]


def move_alias(
    conn: Connection,
    audit: AuditLog,
    *,
    name: str,
    alias: str,
    version: int | None,
    reason: str,
    time: str,
) -> AliasChange:
    """Point ``alias`` of ``name`` at ``version`` (None removes it), recording why."""
    check_alias(alias)
    if not reason or not reason.strip():
        raise ValidationError(f"moving alias {alias!r} of {name!r} needs a reason")
    current = conn.execute(
        select(model_aliases.c.version)
        .where(model_aliases.c.name == name, model_aliases.c.alias == alias)
        .with_for_update()
    ).scalar()
    if version is None:
        if current is None:
            raise NotFoundError(f"model {name!r} has no alias {alias!r}")
        conn.execute(
            delete(model_aliases).where(
                model_aliases.c.name == name, model_aliases.c.alias == alias
            )
        )
    else:
        target = _target(conn, name, version)
        values = {
            "version": version,
            "model_version_id": target["id"],
            "updated_at": time,
            "updated_by": audit.actor,
        }
        if current is None:
            conn.execute(insert(model_aliases).values(name=name, alias=alias, **values))
        else:
            conn.execute(
                update(model_aliases)
                .where(model_aliases.c.name == name, model_aliases.c.alias == alias)
                .values(**values)
            )
    change = AliasChange(name, alias, current, version, reason.strip(), audit.actor, time)
    conn.execute(insert(model_alias_history).values(**change.to_dict()))
    audit.append(
        conn,
        action="model.alias",
        subject=f"model/{name}@{alias}",
        payload={"from": current, "to": version, "reason": change.reason},
    )
    return change


def _target(conn: Connection, name: str, version: int) -> Any:
    row = (
        conn.execute(
            select(model_versions.c.id, model_versions.c.status).where(
                model_versions.c.name == name, model_versions.c.version == version
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"model {name!r} has no version {version}; nothing was changed")
    if row["status"] == "archived":
        raise ConflictError(f"models:/{name}/{version} is archived; an alias cannot point at it")
    return row


def history(conn: Connection, name: str, alias: str) -> list[AliasChange]:
    """Every move of ``alias``, oldest first."""
    rows = conn.execute(
        select(model_alias_history)
        .where(model_alias_history.c.name == name, model_alias_history.c.alias == alias)
        .order_by(model_alias_history.c.time, model_alias_history.c.id)
    ).mappings()
    return [alias_change(row) for row in rows]


def version_at(conn: Connection, name: str, alias: str, time: str) -> int | None:
    """The version ``alias`` pointed at, at ``time`` (None if it pointed nowhere)."""
    row = conn.execute(
        select(model_alias_history.c.to_version)
        .where(
            model_alias_history.c.name == name,
            model_alias_history.c.alias == alias,
            model_alias_history.c.time <= time,
        )
        .order_by(model_alias_history.c.time.desc(), model_alias_history.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else row[0]


def aliases_of(conn: Connection, name: str) -> dict[int, tuple[str, ...]]:
    """Aliases per version of ``name``."""
    found: dict[int, list[str]] = {}
    rows = conn.execute(
        select(model_aliases.c.version, model_aliases.c.alias)
        .where(model_aliases.c.name == name)
        .order_by(model_aliases.c.alias)
    )
    for version, alias in rows:
        found.setdefault(int(version), []).append(alias)
    return {v: tuple(a) for v, a in found.items()}
