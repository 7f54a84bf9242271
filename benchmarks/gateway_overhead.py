"""Latency the gateway adds in front of one replica (issue 6: at most 1 ms at p50).

Starts one upstream (a minimal JSON predict endpoint on uvicorn, one worker) and
``driftline gateway`` in front of it, then loads both with the same single-row POST at
concurrency 1 and 16, direct and through the gateway interleaved round by round, and reports
the medians of each round's p50 and p99. Uses ``wrk`` when installed, else an asyncio httpx
load loop. Run: ``.venv/bin/python benchmarks/gateway_overhead.py --rounds 5 --seconds 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

BODY = json.dumps({"records": [{f"x{i}": 0.5 for i in range(20)}]}).encode()
PATH = "/v1/models/m/predict"
_ANSWER = b'{"predictions":[1],"model_version":"1"}'


async def upstream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The replica: drain the body, answer a fixed small JSON."""
    if scope["type"] != "http":
        return
    message = await receive()
    while message.get("more_body"):
        message = await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_ANSWER))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _ANSWER})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """(direct URL, gateway URL), each server in its own process."""
    up, gw = _free_port(), _free_port()
    python = sys.executable
    procs = [
        subprocess.Popen(
            [python, __file__, "--serve-upstream", str(up)], stdout=subprocess.DEVNULL
        ),
        subprocess.Popen(
            [
                python, "-m", "driftline.cli._main", "gateway",
                "--upstream", f"http://127.0.0.1:{up}", "--port", str(gw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    try:
        _wait_ready(f"http://127.0.0.1:{up}{PATH}")
        _wait_ready(f"http://127.0.0.1:{gw}/gateway/health")
        yield f"http://127.0.0.1:{up}", f"http://127.0.0.1:{gw}"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


_WRK_LINE = re.compile(r"^\s*(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(url: str, concurrency: int, seconds: float, script: Path) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, requests/s) from one wrk run."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {q: float(v) * _UNIT[u] for q, v, u in _WRK_LINE.findall(out)}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if set(found) != {"50", "99"} or rate is None:
        raise RuntimeError(f"could not read wrk output:\n{out}")
    return found["50"], found["99"], float(rate.group(1))


async def _async_load(url: str, concurrency: int, seconds: float) -> tuple[float, float, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            while (now := time.perf_counter()) < end:
                response = await client.post(url, content=BODY, headers=headers)
                response.raise_for_status()
                latencies.append(time.perf_counter() - now)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    q = statistics.quantiles(latencies, n=100)
    return q[49] * 1e3, q[98] * 1e3, len(latencies) / seconds


def measure(url: str, concurrency: int, seconds: float, script: Path | None) -> tuple:
    if script is not None:
        return run_wrk(url, concurrency, seconds, script)
    return asyncio.run(_async_load(url, concurrency, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--loader", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        import uvicorn

        uvicorn.run(upstream_app, port=args.serve_upstream, log_level="error", access_log=False)
        return
    use_wrk = args.loader == "wrk" or (args.loader == "auto" and shutil.which("wrk"))
    with tempfile.TemporaryDirectory() as tmp, servers() as (direct, gateway):
        script = None
        if use_wrk:
            script = Path(tmp) / "post.lua"
            script.write_text(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(BODY.decode())}\n"
            )
        print(f"loader: {'wrk' if use_wrk else 'httpx asyncio'}; cpus: {os.cpu_count()}")
        print(f"{args.rounds} interleaved rounds of {args.seconds:g} s per target")
        for concurrency in args.concurrency:
            results: dict[str, list[tuple]] = {"direct": [], "gateway": []}
            for r in range(args.rounds):
                order = ["direct", "gateway"] if r % 2 == 0 else ["gateway", "direct"]
                for name in order:
                    base = direct if name == "direct" else gateway
                    results[name].append(measure(base + PATH, concurrency, args.seconds, script))
            report(concurrency, results)


def report(concurrency: int, results: dict[str, list[tuple]]) -> None:
    med = {
        name: [statistics.median(run[i] for run in runs) for i in range(3)]
        for name, runs in results.items()
    }
    added = [g[0] - d[0] for g, d in zip(results["gateway"], results["direct"], strict=True)]
    print(f"\nconcurrency {concurrency}")
    print(f"{'target':<9}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}")
    for name, (p50, p99, rate) in med.items():
        print(f"{name:<9}{p50:>9.3f}{p99:>9.3f}{rate:>9.0f}")
    print(
        f"added p50: {med['gateway'][0] - med['direct'][0]:.3f} ms (difference of medians); "
        f"per round: {', '.join(f'{a:.3f}' for a in added)}"
    )


if __name__ == "__main__":
    main()
