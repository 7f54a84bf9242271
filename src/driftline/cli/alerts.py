"""``driftline alerts ...``: list alerts with their delivery status; silence them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from driftline.cli._output import console, open_workspace, print_json
from driftline.exceptions import ValidationError
from driftline.monitoring import Alert, Alerts, Delivery, Silence
from driftline.workspace import Workspace

__all__ = ["register"]

group = typer.Typer(
    help="Alerts: list them with delivery status, silence them.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
_STATES = ("firing", "pending", "resolved", "inactive", "active", "all")


def _alerts(ws: Workspace) -> Alerts:
    return Alerts(store=ws.store, audit=ws.audit, lineage=ws.lineage)


def _latest_deliveries(deliveries: list[Delivery]) -> dict[str, list[dict[str, Any]]]:
    # The newest record per (alert, channel, event): what a reader needs to know now.
    newest: dict[tuple[str, str, str], Delivery] = {}
    failures: dict[tuple[str, str, str], int] = {}
    for d in deliveries:
        key = (d.alert_id, d.channel, d.event)
        newest[key] = d
        failures[key] = failures.get(key, 0) + (not d.delivered)
    out: dict[str, list[dict[str, Any]]] = {}
    for key, d in newest.items():
        row = {k: v for k, v in d.to_dict().items() if k not in ("id", "alert_id")}
        row["failed_attempts_total"] = failures[key]
        out.setdefault(d.alert_id, []).append(row)
    return out


def _alert_json(
    alert: Alert, deliveries: list[dict[str, Any]], silences: list[Silence]
) -> dict[str, Any]:
    out = alert.to_dict()
    out["deliveries"] = sorted(deliveries, key=lambda d: (d["channel"], d["event"]))
    out["silenced_by"] = [s.id for s in silences if s.covers(alert)] if alert.state.active else []
    return out


@group.command("list")
def list_alerts(
    ctx: typer.Context,
    state: Annotated[str, typer.Option(help=f"Which alerts: {', '.join(_STATES)}.")] = "all",
    rule: Annotated[str | None, typer.Option(help="Only alerts of this rule.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest first.")] = 100,
    json: JsonOption = False,
) -> None:
    """List alerts, newest first, with the delivery status of each channel."""
    if state not in _STATES:
        raise ValidationError(f"--state {state!r} is not one of {', '.join(_STATES)}")
    with open_workspace(ctx) as ws:
        book = _alerts(ws)
        found = book.query(state=state, rule=rule, limit=limit)
        deliveries = _latest_deliveries(book.deliveries([a.id for a in found]))
        silences = book.silences()
    rows = [_alert_json(a, deliveries.get(a.id, []), silences) for a in found]
    if json:
        print_json(rows)
        return
    table = Table(title=f"alerts ({state})")
    for column in ("id", "rule", "state", "severity", "value", "since", "labels", "delivery"):
        table.add_column(column)
    for row in rows:
        labels = {k: v for k, v in row["labels"].items() if k not in ("alertname", "severity")}
        delivery = ", ".join(
            f"{d['channel']} {d['event']}: {d['status']}" for d in row["deliveries"]
        )
        state_text = row["state"] + (" (silenced)" if row["silenced_by"] else "")
        table.add_row(
            row["id"][-12:],
            row["rule"],
            state_text,
            row["severity"],
            "" if row["value"] is None else f"{row['value']:.4g}",
            row["started_at"][:19],
            ", ".join(f"{k}={v}" for k, v in sorted(labels.items())),
            delivery or "-",
        )
    console().print(table)


def _matchers(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValidationError(f"--match {pair!r}: write LABEL=VALUE, e.g. --match model=fraud")
        out[key] = value
    return out


@group.command("silence")
def silence(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="Name of the rule whose alerts to silence.")],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 30m, 2h, 1d.")],
    reason: Annotated[str, typer.Option(help="Why, kept with the silence.")] = "",
    match: Annotated[
        list[str] | None, typer.Option(help="Only alerts with this LABEL=VALUE (repeatable).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Mute notifications of RULE's alerts for a while; they are still evaluated and listed."""
    with open_workspace(ctx) as ws:
        book = _alerts(ws)
        made = book.silence(
            rule=rule, matchers=_matchers(match or []), duration=duration, reason=reason
        )
        known = bool(book.query(rule=rule, limit=1))
    if json:
        print_json({**made.to_dict(), "rule_has_alerts": known})
        return
    console().print(f"silenced {rule} until {made.expires_at.isoformat()} (silence {made.id})")
    if not known:
        console().print(
            f"note: no alert of rule {rule!r} is recorded yet; the silence applies when one fires"
        )


@group.command("silences")
def silences(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include expired silences.")] = False,
    json: JsonOption = False,
) -> None:
    """List silences in force (or all of them)."""
    with open_workspace(ctx) as ws:
        found = _alerts(ws).silences(include_expired=all_)
    if json:
        print_json([s.to_dict() for s in found])
        return
    table = Table(title="silences")
    for column in ("id", "rule", "matchers", "until", "by", "reason"):
        table.add_column(column)
    for s in found:
        matchers = ", ".join(f"{k}={v}" for k, v in sorted(s.matchers.items()))
        table.add_row(
            s.id, s.rule or "*", matchers, s.expires_at.isoformat()[:19], s.created_by, s.reason
        )
    console().print(table)


@group.command("unsilence")
def unsilence(
    ctx: typer.Context,
    silence_id: Annotated[str, typer.Argument(help="Id of the silence to end now.")],
) -> None:
    """End a silence now."""
    with open_workspace(ctx) as ws:
        ended = _alerts(ws).expire_silence(silence_id)
    console().print(f"silence {ended.id} ended")


def register(app: typer.Typer) -> None:
    """Add the ``alerts`` group to ``app``."""
    app.add_typer(group, name="alerts")
