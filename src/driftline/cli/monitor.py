"""``driftline monitor ...``: exports for Prometheus and Grafana."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftline.cli._output import console, print_json
from driftline.monitoring import (
    grafana_dashboard,
    load_rules,
    presets,
    prometheus_rules,
    write_grafana_dashboard,
    write_prometheus_rules,
)

__all__ = ["register"]

group = typer.Typer(
    help="Monitoring: exports for the tools teams already run.", no_args_is_help=True
)
export = typer.Typer(
    help="Write Prometheus alerting rules or a Grafana dashboard.", no_args_is_help=True
)
group.add_typer(export, name="export")
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON summary instead of text.")]


@export.command("prometheus-rules")
def export_prometheus_rules(
    out: Annotated[Path, typer.Argument(help="Rules file to write (YAML).")],
    rules: Annotated[
        Path | None,
        typer.Option(help="driftline rules YAML to export (default: the ready-made rules)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Narrow the ready-made rules to this model.")
    ] = None,
    group_name: Annotated[
        str, typer.Option("--group", help="Prometheus rule group name.")
    ] = "driftline",
    json: JsonOption = False,
) -> None:
    """Write Prometheus alerting rules equivalent to the driftline rules."""
    chosen = load_rules(rules) if rules is not None else presets.default_rules(model=model)
    path = write_prometheus_rules(chosen, out, group=group_name)
    names = [r["alert"] for r in prometheus_rules(chosen, group=group_name)["groups"][0]["rules"]]
    if json:
        print_json({"path": str(path), "rules": names})
    else:
        console().print(
            f"wrote {len(names)} alerting rules to {path}; check with: promtool check rules {path}"
        )


@export.command("grafana")
def export_grafana(
    out: Annotated[Path, typer.Argument(help="Dashboard file to write (JSON).")],
    uid: Annotated[str, typer.Option(help="Stable dashboard uid.")] = "driftline-overview",
    title: Annotated[str, typer.Option(help="Dashboard title.")] = "driftline",
    json: JsonOption = False,
) -> None:
    """Write a Grafana dashboard ready for file provisioning."""
    path = write_grafana_dashboard(out, uid=uid, title=title)
    panels = len(grafana_dashboard(uid=uid, title=title)["panels"])
    if json:
        print_json({"path": str(path), "uid": uid, "panels": panels})
    else:
        console().print(f"wrote a dashboard with {panels} panels to {path} (uid {uid})")


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` group to ``app``."""
    app.add_typer(group, name="monitor")
