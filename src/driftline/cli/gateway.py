"""``driftline gateway``: run the load balancer in front of serving replicas."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from driftline.exceptions import ValidationError

__all__ = ["parse_seconds", "register"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_seconds(text: str, *, option: str) -> float:
    """``"2s"``, ``"500ms"``, ``"1m"`` or a bare number of seconds, as seconds."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValidationError(
            f"{option}: {text!r} is not a positive duration; write e.g. 2s, 500ms or 1m"
        )
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def gateway(
    upstream: Annotated[
        list[str],
        typer.Option(help="Replica base URL, repeat per replica; URL=WEIGHT sets a weight."),
    ],
    strategy: Annotated[
        str, typer.Option(help="round_robin, least_connections, weighted or random.")
    ] = "round_robin",
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    health_path: Annotated[
        str, typer.Option(help="Path each replica answers 2xx on when ready.")
    ] = "/health/ready",
    health_interval: Annotated[
        str, typer.Option(help="Time between health checks (e.g. 2s, 500ms).")
    ] = "2s",
    health_timeout: Annotated[str, typer.Option(help="Time limit of one health check.")] = "1s",
    timeout: Annotated[str, typer.Option(help="Time limit of one attempt on a replica.")] = "30s",
    retries: Annotated[
        int, typer.Option(help="Attempts per request on distinct replicas, the first included.")
    ] = 3,
    retry_post: Annotated[
        bool,
        typer.Option(help="Retry POST on another replica (safe for driftline's own endpoints)."),
    ] = True,
    seed: Annotated[int | None, typer.Option(help="Seed of the random strategy.")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Balance requests over serving replicas, with health checks, retries and ejection."""
    import httpx
    import uvicorn

    from driftline.gateway import Balancer, Gateway, HealthCheck, RetryPolicy

    methods = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"} | ({"POST"} if retry_post else set())
    balancer = Balancer(
        upstream,
        strategy=strategy,
        health=HealthCheck(
            path=health_path,
            interval=parse_seconds(health_interval, option="--health-interval"),
            timeout=parse_seconds(health_timeout, option="--health-timeout"),
        ),
        retry=RetryPolicy(attempts=retries, methods=frozenset(methods)),
        seed=seed,
    )
    attempt = parse_seconds(timeout, option="--timeout")
    app = Gateway(balancer, timeout=httpx.Timeout(attempt, connect=min(attempt, 2.0)))
    typer.echo(f"driftline gateway on http://{host}:{port} -> {', '.join(balancer.urls)}")
    # The gateway writes X-Forwarded-For itself from the real peer, so uvicorn's proxy-header
    # rewriting (which would trust a local client's header) stays off.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        proxy_headers=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``gateway`` to ``app``."""
    app.command("gateway")(gateway)
