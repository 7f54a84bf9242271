"""``driftline monitor ...``: monitoring cycles, and exports for Prometheus and Grafana."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from driftline.cli._monitor_options import (
    ChannelsOption,
    PerformanceWindowOption,
    RulesOption,
    WindowOption,
)
from driftline.cli._output import console, error_console, open_workspace, print_json
from driftline.monitoring import (
    grafana_dashboard,
    load_channels,
    load_rules,
    parse_duration,
    presets,
    prometheus_rules,
    write_grafana_dashboard,
    write_prometheus_rules,
)

__all__ = ["register"]

group = typer.Typer(
    help="Monitoring: run the monitors and alert rules; export for Prometheus and Grafana.",
    no_args_is_help=True,
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


@group.command("run")
def run(
    ctx: typer.Context,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="Model to monitor, models:/NAME@ALIAS or models:/NAME/VERSION (repeatable). "
            "Default: every model with a champion alias, looked up each cycle.",
        ),
    ] = None,
    interval: Annotated[str, typer.Option(help="Time between cycles, e.g. 30s, 1m, 1h.")] = "60s",
    once: Annotated[bool, typer.Option("--once", help="Run one cycle and exit.")] = False,
    rules: RulesOption = None,
    channels: ChannelsOption = None,
    window: WindowOption = "1h",
    performance_window: PerformanceWindowOption = "24h",
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Expose drift, performance and system gauges on this port."),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address of the metrics port.")] = "127.0.0.1",
    server_pid: Annotated[
        int | None,
        typer.Option(help="Process whose CPU time is the cost of predictions (default: this)."),
    ] = None,
    json: Annotated[
        bool,
        typer.Option("--json", help="Print each cycle as JSON (one line per cycle unless --once)."),
    ] = False,
) -> None:
    """Run monitoring cycles: drift, performance, quality, business, system, rules, delivery."""
    _run_cycles(
        ctx,
        models=list(model) if model else None,
        interval=parse_duration(interval, what="--interval"),
        once=once,
        rules=load_rules(rules) if rules is not None else None,
        channels=load_channels(channels) if channels is not None else [],
        window=parse_duration(window, what="--window"),
        performance_window=parse_duration(performance_window, what="--performance-window"),
        metrics=(metrics_host, metrics_port) if metrics_port is not None else None,
        server_pid=server_pid,
        as_json=json,
    )


def _run_cycles(
    ctx: typer.Context,
    *,
    models: list[str] | None,
    interval: timedelta,
    once: bool,
    metrics: tuple[str, int] | None,
    server_pid: int | None,
    as_json: bool,
    **options: Any,
) -> None:
    from prometheus_client import CollectorRegistry, start_http_server

    from driftline.monitoring import CpuCost, MonitoringCollector, MonitoringCycle
    from driftline.monitoring.signals.system import SystemMetrics

    with open_workspace(ctx) as ws:
        registry = CollectorRegistry() if metrics is not None else None
        cycle = MonitoringCycle(
            ws, models=models, cost=CpuCost(pid=server_pid), registry=registry, **options
        )
        server = None
        if metrics is not None and registry is not None:
            collector = MonitoringCollector(ws, system=SystemMetrics(disk_path=ws.home))
            registry.register(collector)
            server, _ = start_http_server(metrics[1], addr=metrics[0], registry=registry)
            error_console().print(
                f"metrics on http://{metrics[0]}:{server.server_port}/metrics", markup=False
            )
        try:
            if once:
                _show(cycle.run_once(), as_json=as_json, indent=True)
                return
            done = cycle.run(
                interval=interval, on_cycle=lambda s: _show(s, as_json=as_json, indent=False)
            )
            error_console().print(f"stopped after {done} cycle(s)", markup=False)
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()


def _show(summary: Any, *, as_json: bool, indent: bool) -> None:
    if as_json:
        if indent:
            print_json(summary.to_dict())
        else:
            typer.echo(orjson.dumps(summary.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY))
        return
    out = console()
    out.print(f"cycle at {summary.at.isoformat()}: {summary.samples} samples", markup=False)
    for report in summary.models:
        out.print(f"  {_model_line(report)}", markup=False)
    evaluation = summary.evaluation
    out.print(
        f"  alerts: {evaluation.counts.get('firing', 0)} firing, "
        f"{evaluation.counts.get('pending', 0)} pending, {len(evaluation.transitions)} changed, "
        f"{len(evaluation.dispatches)} notifications ({evaluation.delivery_failures} failed)",
        markup=False,
    )
    for error in summary.all_errors:
        error_console().print(f"  error: {error}", markup=False, soft_wrap=True)


def _model_line(report: Any) -> str:
    if report.version is None:
        return f"{report.uri}: not resolved"
    parts = [f"{report.model} v{report.version}"]
    drift = report.signals.get("drift", {})
    if "drift_share" in drift:
        flag = " (drift)" if drift["drift_detected"] else ""
        parts.append(f"drift share {drift['drift_share']:.2f}{flag}")
    performance = report.signals.get("performance", {})
    accuracy = performance.get("metrics", {}).get("accuracy")
    if accuracy is not None:
        parts.append(f"accuracy {accuracy:.3f} (labels {performance['coverage']:.0%})")
    estimate = report.signals.get("estimate", {}).get("accuracy")
    if estimate is not None:
        parts.append(f"estimated accuracy {estimate:.3f}")
    rates = report.signals.get("quality", {}).get("violation_rates") or {}
    if rates:
        worst = max(rates, key=lambda check: rates[check])
        worst_text = f"{worst} broken by {rates[worst]:.0%}" if rates[worst] else "all pass"
        parts.append(f"quality: {worst_text}")
    return ", ".join(parts)


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` group to ``app``."""
    app.add_typer(group, name="monitor")
