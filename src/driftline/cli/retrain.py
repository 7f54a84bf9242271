"""``driftline retrain ...``: one controller cycle (for cron, Airflow, Prefect), breaker reset."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftline.cli._output import console, error_console, open_workspace, print_json

if TYPE_CHECKING:
    from driftline.retraining import LoopCycle

__all__ = ["register"]

group = typer.Typer(
    help="Automated retraining: check triggers and retrain safely.", no_args_is_help=True
)


@group.command("check")
def check(
    ctx: typer.Context,
    config: Annotated[
        Path, typer.Option(help="Pipeline file (entry point, target, params).")
    ] = Path("driftline.yaml"),
    once: Annotated[
        bool,
        typer.Option("--once/--loop", help="Run one cycle and exit, or repeat every --interval."),
    ] = True,
    interval: Annotated[str, typer.Option(help="Time between cycles with --loop.")] = "10m",
    reason: Annotated[
        str | None, typer.Option(help="Ask for a retrain now (a manual trigger), with this reason.")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            help="Model server URL: promote through a canary there instead of moving the alias."
        ),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the cycle report as JSON.")] = False,
) -> None:
    """Evaluate the triggers for the pipeline's model; retrain, compare and promote if allowed."""
    from driftline.monitoring import parse_duration
    from driftline.retraining import (
        Arbiter,
        CanaryPromoter,
        ClosedLoop,
        RetrainController,
        policy_from_config,
    )

    policy = policy_from_config(config)
    every = parse_duration(interval, what="--interval")
    with open_workspace(ctx) as ws:
        promoter = None
        if server:
            promoter = CanaryPromoter(ws, server, token=ws.settings.admin_token or "")
        owner = f"{socket.gethostname()}:{os.getpid()}"
        controller = RetrainController(
            ws, policy, arbiter=Arbiter(ws, owner=owner), promoter=promoter
        )
        _show(controller.check_once(manual_reason=reason).to_dict(), json)
        if once:
            return
        sys.stdout.flush()
        # Then every --interval, or at once when a retrain request (POST /v1/retrain) waits.
        loop = ClosedLoop(controller, interval=every)
        cycles = [None]  # the one above

        def show(cycle: LoopCycle) -> None:
            cycles.append(None)
            _show_cycle(cycle, json)

        try:
            loop.run(on_cycle=show, wait_first=True)
        except KeyboardInterrupt:  # Ctrl-C: the usual way to stop a loop in a terminal
            pass
        finally:
            abandoned = loop.close()
        stopped = f"stopped after {len(cycles)} cycle(s)"
        if abandoned:
            stopped += f"; abandoned the unfinished retrain {', '.join(d.id for d in abandoned)}"
        error_console().print(stopped, markup=False)


def _show_cycle(cycle: LoopCycle, json: bool) -> None:
    for error in cycle.errors:
        error_console().print(f"error: {error}", markup=False, soft_wrap=True)
    if cycle.retrain is not None:
        _show({**cycle.retrain.to_dict(), "woken_by": cycle.woken_by}, json)
    sys.stdout.flush()  # a loop's output is read while it runs, often through a pipe


def _show(report: dict[str, Any], json: bool) -> None:
    if json:
        print_json(report)
        return
    decision, name = report["decision"], report["model"]
    if decision is None:
        console().print(f"{name}: no trigger fired; champion v{report['champion_version']}")
    elif not decision["allowed"]:
        console().print(f"{name}: not now: {decision['reason']}")
    else:
        console().print(
            f"{name}: retrained: {report['retrain']['reason']}; "
            f"champion v{report['champion_version']}"
        )


@group.command("reset")
def reset(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    reason: Annotated[str, typer.Option(help="Why automatic retraining may resume.")],
) -> None:
    """Close the circuit breaker after rejected challengers, so retraining may resume."""
    from driftline.retraining import Arbiter

    with open_workspace(ctx) as ws:
        Arbiter(ws, owner=f"{socket.gethostname()}:{os.getpid()}").reset_breaker(
            model, reason=reason
        )
    console().print(f"{model}: circuit breaker reset")


def register(app: typer.Typer) -> None:
    """Add the ``retrain`` group to ``app``."""
    app.add_typer(group, name="retrain")
