"""``driftline run``: one process for one model: serving, monitoring, alerting, retraining."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from driftline.cli import monitor as monitor_cli
from driftline.cli import retrain as retrain_cli
from driftline.cli._monitor_options import (
    ChannelsOption,
    PerformanceWindowOption,
    RulesOption,
    WindowOption,
)
from driftline.cli._output import console, error_console, print_json
from driftline.config import Settings

if TYPE_CHECKING:
    from datetime import timedelta

    from prometheus_client import CollectorRegistry

    from driftline.retraining import ClosedLoop, LoopCycle, RetrainPolicy
    from driftline.serving import BackgroundServer
    from driftline.workspace import Workspace

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``run`` to the root app."""
    app.command("run")(run)


def run(
    ctx: typer.Context,
    config: Annotated[
        Path, typer.Option(help="Pipeline file: the model, its training entry point and target.")
    ] = Path("driftline.yaml"),
    host: Annotated[str, typer.Option(help="Address the model server listens on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port of the model server (0: any free port).")
    ] = 8080,
    interval: Annotated[
        str, typer.Option(help="Time between monitoring and retraining cycles, e.g. 1m, 1h.")
    ] = "5m",
    once: Annotated[
        bool, typer.Option("--once", help="Serve, run one cycle, then stop (for tests and cron).")
    ] = False,
    rules: RulesOption = None,
    channels: ChannelsOption = None,
    window: WindowOption = "1h",
    performance_window: PerformanceWindowOption = "24h",
    canary: Annotated[
        bool,
        typer.Option(
            "--canary/--no-canary",
            help="Promote a better challenger through a canary on this server, or move the "
            "champion alias at once.",
        ),
    ] = True,
    bake_time: Annotated[str, typer.Option(help="Bake time of each canary step.")] = "10m",
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    json: Annotated[
        bool,
        typer.Option("--json", help="Print each cycle as JSON (one line per cycle unless --once)."),
    ] = False,
) -> None:
    """Serve the pipeline's champion and monitor, alert on and retrain it, in one process."""
    # Every --interval (or at once when POST /v1/retrain asks) a cycle monitors the served
    # traffic, evaluates the alert rules and lets the controller decide. Ctrl-C or SIGTERM
    # stops cleanly: the cycle in progress ends, requests in flight are answered, the logs
    # are flushed and the retrain lease is released.
    from driftline.monitoring import format_duration, load_channels, load_rules, parse_duration
    from driftline.retraining import policy_from_config
    from driftline.serving import BackgroundServer, create_app
    from driftline.workspace import Workspace

    every = parse_duration(interval, what="--interval")
    bake = parse_duration(bake_time, what="--bake-time").total_seconds()
    policy = policy_from_config(config)
    monitoring_options: dict[str, Any] = {
        "rules": load_rules(rules) if rules is not None else None,
        "channels": load_channels(channels) if channels is not None else [],
        "window": parse_duration(window, what="--window"),
        "performance_window": parse_duration(performance_window, what="--performance-window"),
    }
    ref = f"models:/{policy.model}@champion"
    stop = threading.Event()
    try:
        with Workspace.open(settings=_with_admin_token(ctx.find_root().obj), create=False) as ws:
            ws.registry.get(ref)  # no champion: say so before anything starts
            # One /metrics for everything this process does: the server's own metrics and
            # the monitors' drift, performance, quality and system gauges.
            metrics = _monitoring_registry(ws)
            app = create_app(ws, models=[ref], metrics_registry=metrics)
            server = BackgroundServer(app, host=host, port=port, log_level=log_level)
            with _stop_on_signals(stop), server:
                loop = _loop(
                    ws,
                    policy,
                    server,
                    stop,
                    every=every,
                    canary=canary,
                    bake=bake,
                    monitoring={**monitoring_options, "registry": metrics},
                )
                error_console().print(
                    f"serving {ref} on {server.url} (docs at /docs); monitoring and retraining "
                    f"every {format_duration(every)}; POST /v1/retrain asks for a retrain now",
                    markup=False,
                    soft_wrap=True,
                )
                try:
                    done = _supervise(loop, once, lambda c: _show(c, as_json=json, once=once))
                finally:
                    abandoned = loop.close()
    except KeyboardInterrupt:  # a second signal: the cycle in progress was not waited for
        error_console().print("stopped at once; an unfinished retrain was abandoned", markup=False)
        raise typer.Exit(130) from None
    stopped = f"stopped after {done} cycle(s)"
    if abandoned:
        stopped += f"; abandoned the unfinished retrain {', '.join(d.id for d in abandoned)}"
    error_console().print(stopped, markup=False)


def _monitoring_registry(ws: Workspace) -> CollectorRegistry:
    """A registry that renders the monitoring gauges at every scrape."""
    from prometheus_client import CollectorRegistry

    from driftline.monitoring import MonitoringCollector
    from driftline.monitoring.signals.system import SystemMetrics

    registry = CollectorRegistry()
    registry.register(MonitoringCollector(ws, system=SystemMetrics(disk_path=ws.home)))
    return registry


def _with_admin_token(settings: Settings) -> Settings:
    """``settings``, with a token only this process knows if none is configured: the canary
    goes through this server's admin API, so it needs one anyway."""
    if settings.admin_token:
        return settings
    error_console().print(
        "DRIFTLINE_ADMIN_TOKEN is not set: POST /v1/retrain and the admin endpoints of this "
        "server take only a token made up for this process",
        markup=False,
        soft_wrap=True,
    )
    return settings.model_copy(update={"admin_token": secrets.token_urlsafe(32)})


def _loop(
    ws: Workspace,
    policy: RetrainPolicy,
    server: BackgroundServer,
    stop: threading.Event,
    *,
    every: timedelta,
    canary: bool,
    bake: float,
    monitoring: dict[str, Any],
) -> ClosedLoop:
    """The controller (promoting through a canary on ``server``) and the monitors, looped."""
    from driftline.monitoring import CpuCost, MonitoringCycle
    from driftline.retraining import (
        Arbiter,
        CanaryPromoter,
        ClosedLoop,
        DirectPromoter,
        RetrainController,
        stoppable_sleep,
    )

    promoter = (
        CanaryPromoter(
            ws,
            server.url,
            token=ws.settings.admin_token or "",
            bake_time_s=bake,
            timeout_s=max(3600.0, 4 * bake),
            sleep=stoppable_sleep(stop),
        )
        if canary
        else DirectPromoter(ws)
    )
    arbiter = Arbiter(ws, owner=f"{socket.gethostname()}:{os.getpid()}")
    controller = RetrainController(ws, policy, arbiter=arbiter, promoter=promoter)
    ref = f"models:/{policy.model}@champion"
    # CPU per prediction is this process's: the server runs here.
    cycle = MonitoringCycle(ws, models=[ref], cost=CpuCost(), **monitoring)
    return ClosedLoop(controller, cycle, interval=every, before_cycle=server.flush_logs, stop=stop)


def _supervise(loop: ClosedLoop, once: bool, on_cycle: Callable[[LoopCycle], object]) -> int:
    """Run the loop on a worker thread; this (main) thread only waits, so a signal handler
    never interrupts it inside a lock the loop needs."""
    from driftline.retraining import LoopStopped

    result: dict[str, Any] = {"done": 0}

    def work() -> None:
        try:
            if not once:
                result["done"] = loop.run(on_cycle=on_cycle)
            elif not loop.stop_event.is_set():
                on_cycle(loop.run_once(raise_errors=True))
                result["done"] = 1
        except LoopStopped:
            pass
        except BaseException as exc:  # the main thread reports it
            result["error"] = exc

    worker = threading.Thread(target=work, name="driftline-loop", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    if "error" in result:
        raise result["error"]
    return int(result["done"])


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop``; a second one stops at once (KeyboardInterrupt)."""

    def handle(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _show(cycle: LoopCycle, *, as_json: bool, once: bool) -> None:
    if as_json:
        if once:
            print_json(cycle.to_dict())
        else:
            typer.echo(orjson.dumps(cycle.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY))
        return
    if cycle.woken_by == "request":
        console().print("a retrain was requested", markup=False)
    if cycle.monitoring is not None:
        monitor_cli._show(cycle.monitoring, as_json=False, indent=False)
    if cycle.retrain is not None:
        retrain_cli._show(cycle.retrain.to_dict(), False)
    for error in cycle.errors:
        error_console().print(f"  error: {error}", markup=False, soft_wrap=True)
