"""driftline's model server against a bare FastAPI endpoint, MLflow, MLServer and BentoML.

    python benchmarks/serving_vs_peers.py                          # the README table
    python benchmarks/serving_vs_peers.py --rounds 1 --seconds 4   # a quick run
    python benchmarks/serving_vs_peers.py --servers bare,driftline,driftline-nolog

Models: a scikit-learn LogisticRegression and a RandomForestClassifier (100 trees), fitted
once on 20,000 rows of ``make_classification`` (20 features, seed 0), saved with joblib and
served by every server as the same estimator (each peer gets it in its own format, made in
its own venv: ``.bench/<peer>``, pinned in ``benchmarks/peers/<peer>.txt``):

- ``bare``: FastAPI + orjson, one ``async def`` route that parses the JSON, builds the float
  matrix and answers ``model.predict`` (the model runs on the event loop, like most
  hand-written endpoints);
- ``driftline``: ``driftline serve --model models:/<m>@champion`` (native API, prediction
  logging and Prometheus metrics on, every default); ``driftline-nolog`` adds
  ``--no-log-predictions`` (the logging cost);
- ``mlflow``: ``mlflow models serve -m <dir> --env-manager local -w 1``;
- ``mlserver``: ``mlserver start`` with ``mlserver_sklearn.SKLearnModel`` (its defaults);
- ``bentoml``: ``bentoml serve`` of a minimal service (``@bentoml.service(workers=1)``
  class, one ``@bentoml.api def predict(self, x: np.ndarray)``).

Every server gets the same rows in its own request format. Cases (wrk, loopback, 2 threads):
``lr-1`` one row to the LogisticRegression at concurrency 16; ``lr-100`` 100-row requests at
concurrency 16 (rows/s); ``rf-1`` one row to the RandomForest at concurrency 64 (p99,
timeouts, errors). Idle memory: the resident pages of the server's process tree after
start-up and a few requests, each physical page counted once (``/proc/<pid>/pagemap``: a
forked child shares its parent's pages). Servers run one at a time, interleaved: each
round starts every server in a rotated order, runs its cases and stops it; the table shows
medians over the rounds.
The logging cost is measured apart, with driftline, driftline-nolog and a second
driftline-nolog (the control, which shows the harness's own error) up at once and wrk
alternating short slices between them (``--log-pairs`` rounds, ``--slice-seconds``), and
the CPU each server's threads spent a request (``/proc/<pid>/task/*/stat``: the event-loop
thread, and the rest: inference pool, log writers, child processes) to show where the
cost lands.
``--log-baseline REF`` adds a fourth server running the code of another commit (a git
worktree under ``--work``), to weigh a change to the log in one run:

    python benchmarks/serving_vs_peers.py --rounds 0 --log-pairs 30 --log-baseline HEAD~1
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VENVS = {peer: ROOT / ".bench" / peer / "bin" for peer in ("mlflow", "mlserver", "bentoml")}
DRIFTLINE_PYTHON = ROOT / ".venv" / "bin" / "python"
SERVERS = ("bare", "driftline", "driftline-nolog", "mlflow", "mlserver", "bentoml")
CASES = {  # name: (model, rows per request, concurrency)
    "lr-1": ("lr", 1, 16),
    "lr-100": ("lr", 100, 16),
    "rf-1": ("rf", 1, 64),
}
FEATURES = [f"x{i}" for i in range(20)]

BENTO_SERVICE = """
import os

import joblib
import numpy as np

import bentoml


@bentoml.service(workers=1)
class Model:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL_PATH"])

    @bentoml.api
    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(x)
"""

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(%s, "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,' ..
    '"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


# -- the data and the models ----------------------------------------------------------------
def prepare(work: Path, servers: list[str]) -> None:
    """Fit both models, save them, register them in a driftline workspace, convert for peers."""
    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from driftline import Workspace

    work.mkdir(parents=True, exist_ok=True)
    x, y = make_classification(n_samples=20_000, n_features=20, n_informative=10, random_state=0)
    models = {
        "lr": LogisticRegression(max_iter=1000).fit(x, y),
        "rf": RandomForestClassifier(n_estimators=100, random_state=0).fit(x, y),
    }
    frame = pd.DataFrame(x, columns=FEATURES)
    frame["y"] = y
    rows = x[:100].tolist()
    expected = {name: m.predict(np.asarray(rows)).tolist() for name, m in models.items()}
    (work / "rows.json").write_text(json.dumps({"rows": rows, "expected": expected}))
    home = work / "driftline-home"
    shutil.rmtree(home, ignore_errors=True)
    with Workspace.open(home=home) as ws:
        for name, model in models.items():
            joblib.dump(model, work / f"{name}.joblib")
            ws.registry.register(name, model, frame=frame.iloc[:2000], target="y")
            ws.registry.promote(name, 1, reason="benchmark")
    for peer in ("mlflow", "mlserver"):
        if peer in servers:
            for name in models:
                run = [str(VENVS[peer] / "python"), __file__, "--convert", peer, str(work), name]
                subprocess.run(run, check=True)
    (work / "bento_service.py").write_text(BENTO_SERVICE)


def convert(peer: str, work: Path, name: str) -> None:
    """Save model ``name`` in ``peer``'s format (runs in the peer's venv)."""
    import joblib

    model = joblib.load(work / f"{name}.joblib")
    target = work / peer / name
    shutil.rmtree(target, ignore_errors=True)
    if peer == "mlflow":
        import mlflow.sklearn
        import pandas as pd
        from mlflow.models import infer_signature

        rows = json.loads((work / "rows.json").read_text())["rows"]
        frame = pd.DataFrame(rows, columns=FEATURES)
        signature = infer_signature(frame, model.predict(frame.to_numpy()))
        # MLflow's default format (skops) asks which types to trust; trees are ours.
        trusted = ["sklearn.tree._tree.Tree"] if name == "rf" else None
        mlflow.sklearn.save_model(
            model, str(target), signature=signature, skops_trusted_types=trusted
        )
    elif peer == "mlserver":
        target.mkdir(parents=True)
        joblib.dump(model, target / "model.joblib")
        settings = {
            "name": name,
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib", "version": "v1"},
        }
        (target / "model-settings.json").write_text(json.dumps(settings))


# -- one bare baseline server ---------------------------------------------------------------
def serve_bare(port: int, model_path: str) -> None:
    """The baseline: FastAPI + orjson, model on the event loop."""
    import joblib
    import numpy as np
    import orjson
    import uvicorn
    from fastapi import FastAPI, Request, Response

    model = joblib.load(model_path)
    app = FastAPI()

    async def health() -> Response:
        return Response(b"ok")

    health.__annotations__ = {"return": Response}
    app.get("/health")(health)

    async def predict(request: Request) -> Response:
        payload = orjson.loads(await request.body())
        x = np.array([[r[c] for c in FEATURES] for r in payload["records"]], dtype=np.float64)
        body = orjson.dumps({"predictions": model.predict(x).tolist()})
        return Response(body, media_type="application/json")

    # Annotations are text here (__future__); FastAPI needs the class to inject the request.
    predict.__annotations__ = {"request": Request, "return": Response}
    app.post("/predict")(predict)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- starting and stopping servers ----------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Target:
    """How to reach one started server for one model."""

    url: str
    ready: str
    body: Any  # rows -> JSON payload
    answer: Any  # response JSON -> list of predictions


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


# -- each server's request body for some rows, and where its answer's predictions are -------
def records_body(rows: list[list[float]]) -> Any:
    return {"records": [dict(zip(FEATURES, r, strict=True)) for r in rows]}


def split_body(rows: list[list[float]]) -> Any:
    return {"dataframe_split": {"columns": FEATURES, "data": rows}}


def tensor_body(rows: list[list[float]]) -> Any:
    flat = [v for r in rows for v in r]
    return {
        "inputs": [
            {"name": "x", "shape": [len(rows), len(FEATURES)], "datatype": "FP64", "data": flat}
        ]
    }


def array_body(rows: list[list[float]]) -> Any:
    return {"x": rows}


def predictions_of(answer: Any) -> Any:
    return answer["predictions"]


def outputs_of(answer: Any) -> Any:
    return answer["outputs"][0]["data"]


def itself(answer: Any) -> Any:
    return answer


def plan(server: str, model: str, work: Path, port: int) -> tuple[Launch, Target]:
    """The command that starts ``server`` serving ``model`` on ``port``, and how to call it."""
    base = f"http://127.0.0.1:{port}"
    if server == "bare":
        argv = [
            str(DRIFTLINE_PYTHON),
            __file__,
            "--serve-bare",
            str(port),
            str(work / f"{model}.joblib"),
        ]
        return Launch(argv), Target(
            f"{base}/predict", f"{base}/health", records_body, predictions_of
        )
    if server.startswith("driftline"):
        home = work / "driftline-home"
        shutil.rmtree(home / "predictions", ignore_errors=True)
        argv = [
            str(DRIFTLINE_PYTHON.parent / "driftline"),
            "serve",
            "--model",
            f"models:/{model}@champion",
            "--port",
            str(port),
        ]
        if server == "driftline-nolog":
            argv.append("--no-log-predictions")
        env = {"DRIFTLINE_HOME": str(home)}
        return Launch(argv, env), Target(
            f"{base}/v1/models/{model}/predict",
            f"{base}/health/ready",
            records_body,
            predictions_of,
        )
    if server == "mlflow":
        argv = [
            str(VENVS["mlflow"] / "mlflow"),
            "models",
            "serve",
            "-m",
            str(work / "mlflow" / model),
            "--env-manager",
            "local",
            "-w",
            "1",
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
        ]
        return Launch(argv), Target(
            f"{base}/invocations", f"{base}/ping", split_body, predictions_of
        )
    if server == "mlserver":
        folder = work / "mlserver" / model
        settings = {
            "http_port": port,
            "grpc_port": free_port(),
            "metrics_port": free_port(),
            "host": "127.0.0.1",
        }
        (folder / "settings.json").write_text(json.dumps(settings))
        argv = [str(VENVS["mlserver"] / "mlserver"), "start", str(folder)]
        return Launch(argv, cwd=folder), Target(
            f"{base}/v2/models/{model}/infer",
            f"{base}/v2/health/ready",
            tensor_body,
            outputs_of,
        )
    if server == "bentoml":
        argv = [
            str(VENVS["bentoml"] / "bentoml"),
            "serve",
            "bento_service:Model",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
        ]
        env = {
            "BENCH_MODEL_PATH": str(work / f"{model}.joblib"),
            "BENTOML_HOME": str(work / "bentoml-home"),
            "BENTOML_DO_NOT_TRACK": "true",
        }
        return Launch(argv, env, cwd=work), Target(
            f"{base}/predict", f"{base}/readyz", array_body, itself
        )
    raise SystemExit(f"unknown server {server!r}; choose from {', '.join(SERVERS)}")


@contextlib.contextmanager
def started(launch: Launch, target: Target, log: Path, timeout: float = 120.0) -> Iterator[int]:
    """Run the server in its own process group until the block ends; yields its pid."""
    env = {**os.environ, **launch.env}
    # Peers start helpers by name (MLflow runs `uvicorn`): their venv's bin comes first.
    env["PATH"] = f"{Path(launch.argv[0]).parent}{os.pathsep}{env.get('PATH', '')}"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            launch.argv,
            env=env,
            cwd=launch.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not _ok(target.ready):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{shlex.join(launch.argv)} exited with {proc.returncode}; see {log}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{shlex.join(launch.argv)} not ready after {timeout:.0f} s")
            time.sleep(0.2)
        yield proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the group we started, by its id
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def post(url: str, payload: Any) -> Any:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (those alive now)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def tree_memory_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants in MB, each physical page once.

    A child forked from a server shares its pages until either writes them; summing the
    processes' RSS would count those twice. The pages come from ``/proc/<pid>/pagemap``
    (page frame numbers need root); without them this falls back to the sum of RSS.
    """
    page = os.sysconf("SC_PAGE_SIZE")
    frames: list[np.ndarray] = []
    rss_kb = 0
    for current in process_tree(pid):
        with contextlib.suppress(OSError):
            rss_kb += _rss_kb(current)
            frames.extend(_resident_frames(current, page))
    found = np.unique(np.concatenate(frames)) if frames else np.empty(0, np.uint64)
    if not found.size or not found.any():  # no page frame numbers: not root
        return rss_kb / 1024
    return found.size * page / 2**20


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _resident_frames(pid: int, page: int) -> list[np.ndarray]:
    """Page frame numbers of the resident pages of ``pid`` (mappings with some RSS)."""
    spans: list[tuple[int, int]] = []
    span: tuple[int, int] | None = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(None, 1)[0]
        if "-" in head and not head.endswith(":"):
            low, high = head.split("-")
            span = (int(low, 16), int(high, 16))
        elif head == "Rss:" and span is not None and int(line.split()[1]) > 0:
            spans.append(span)
    out = []
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for low, high in spans:
            pagemap.seek(low // page * 8)
            entries = np.frombuffer(pagemap.read((high - low) // page * 8), np.uint64)
            present = entries[(entries >> np.uint64(63)) == 1]
            out.append(present & np.uint64((1 << 55) - 1))
    return out


# -- load generation ------------------------------------------------------------------------
def wrk(url: str, payload: Any, concurrency: int, seconds: float, work: Path) -> dict[str, float]:
    """Run wrk against ``url``; requests/s, p50/p99 in ms, errors and timeouts."""
    body = work / "body.json"
    body.write_text(json.dumps(payload))
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT % json.dumps(str(body)))
    argv = [
        "wrk",
        "-t2",
        f"-c{concurrency}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line[len("WRKJSON ") :])
    seconds_run = raw["duration_us"] / 1e6
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"]
    return {
        "rps": (raw["requests"] - raw["status"]) / seconds_run,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": errors,
        "timeouts": raw["timeout"],
    }


def check_answers(
    server: str, target: Target, rows: list[list[float]], expected: list[Any]
) -> None:
    got = target.answer(post(target.url, target.body(rows)))
    if [int(v) for v in got] != [int(v) for v in expected]:
        raise RuntimeError(f"{server} answered {got[:5]}..., expected {expected[:5]}...")


def run_server(
    server: str,
    model: str,
    cases: list[str],
    args: argparse.Namespace,
    results: dict[tuple[str, str], list[dict[str, float]]],
) -> None:
    work: Path = args.work
    data = json.loads((work / "rows.json").read_text())
    rows, expected = data["rows"], data["expected"][model]
    launch, target = plan(server, model, work, free_port())
    with started(launch, target, work / f"{server}.log") as pid:
        check_answers(server, target, rows[:1], expected[:1])
        check_answers(server, target, rows, expected)
        for i in range(20):
            post(target.url, target.body(rows[i : i + 1]))
        time.sleep(1.0)
        if model == "lr":
            results.setdefault((server, "idle-rss"), []).append({"mb": tree_memory_mb(pid)})
        for case in cases:
            _, n, concurrency = CASES[case]
            payload = target.body(rows[:n])
            wrk(target.url, payload, concurrency, 1.0, work)  # warm-up
            result = wrk(target.url, payload, concurrency, args.seconds, work)
            result["rows"] = result["rps"] * n
            results.setdefault((server, case), []).append(result)
            print(
                f"  {server:16} {case:7} {result['rps']:9.0f} req/s  "
                f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:8.2f} ms  "
                f"errors {result['errors']:.0f}  timeouts {result['timeouts']:.0f}",
                flush=True,
            )


# -- the table ------------------------------------------------------------------------------
def median(
    results: dict[tuple[str, str], list[dict[str, float]]], server: str, case: str, key: str
) -> float | None:
    runs = results.get((server, case))
    return statistics.median(r[key] for r in runs) if runs else None


def table(results: dict[tuple[str, str], list[dict[str, float]]], servers: list[str]) -> str:
    def cell(value: float | None, fmt: str) -> str:
        return "n/a" if value is None else format(value, fmt)

    def ratio(value: float | None, reference: float | None, inverse: bool = False) -> str:
        if value is None or reference is None or value == 0 or reference == 0:
            return ""
        return f" ({(reference / value if inverse else value / reference):.2f}x)"

    ref = "driftline"
    lines = [
        "| server | LR 1 row c=16 req/s | p50 ms | p99 ms | LR 100 rows c=16 rows/s "
        "| RF 1 row c=64 p99 ms | RF timeouts / errors | idle memory MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for server in servers:
        rps = median(results, server, "lr-1", "rps")
        rows = median(results, server, "lr-100", "rows")
        rf99 = median(results, server, "rf-1", "p99_ms")
        timeouts = sum(r["timeouts"] for r in results.get((server, "rf-1"), []))
        errors = sum(r["errors"] for r in results.get((server, "rf-1"), []))
        rss = median(results, server, "idle-rss", "mb")
        lines.append(
            f"| {server} | {cell(rps, ',.0f')}{ratio(rps, median(results, ref, 'lr-1', 'rps'))} "
            f"| {cell(median(results, server, 'lr-1', 'p50_ms'), '.2f')} "
            f"| {cell(median(results, server, 'lr-1', 'p99_ms'), '.2f')} "
            f"| {cell(rows, ',.0f')}{ratio(rows, median(results, ref, 'lr-100', 'rows'))} "
            f"| {cell(rf99, ',.1f')} "
            f"| {'n/a' if (server, 'rf-1') not in results else f'{timeouts:.0f} / {errors:.0f}'} "
            f"| {cell(rss, '.0f')} |"
        )
    return "\n".join(lines)


def logging_cost(args: argparse.Namespace, cases: list[str]) -> list[str]:
    """What prediction logging costs in throughput: 1 - driftline / driftline-nolog.

    The servers run at once and wrk alternates short slices between them, so each round of
    slices sees the same machine: on a shared machine the speed drifts from minute to
    minute by more than logging costs, and rounds minutes apart cannot resolve a few
    percent. A second driftline-nolog server is the control: ``1 - control / nolog``
    should be 0, and how far it is shows what the harness itself can resolve. Every round
    takes the servers in the next of their six orders.
    """
    work: Path = args.work
    rows = json.loads((work / "rows.json").read_text())["rows"]
    kinds = {"driftline": "driftline", "nolog": "driftline-nolog", "control": "driftline-nolog"}
    if args.log_baseline:
        kinds["baseline"] = "driftline"
    ports: set[int] = set()
    while len(ports) < len(kinds):
        ports.add(free_port())
    plans = {
        name: plan(kind, "lr", work, port)
        for (name, kind), port in zip(kinds.items(), sorted(ports), strict=True)
    }
    if args.log_baseline:
        plans["baseline"][0].env["PYTHONPATH"] = str(args.baseline_source)
    orders = list(itertools.permutations(plans))
    lines = []
    with contextlib.ExitStack() as stack:
        pids = {
            name: stack.enter_context(started(launch, target, work / f"cost-{name}.log"))
            for name, (launch, target) in plans.items()
        }
        for case in cases:
            _, n, concurrency = CASES[case]
            bodies = {name: target.body(rows[:n]) for name, (_, target) in plans.items()}
            for name, (_, target) in plans.items():
                wrk(target.url, bodies[name], concurrency, 1.0, work)  # warm-up
            rps: dict[str, list[float]] = {name: [] for name in plans}
            cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in plans}
            for i in range(args.log_pairs):
                for name in orders[i % len(orders)]:
                    url = plans[name][1].url
                    before = thread_cpu(pids[name])
                    got = wrk(url, bodies[name], concurrency, args.slice_seconds, work)
                    loop, rest = cpu_since(pids[name], before)
                    requests = got["rps"] * args.slice_seconds
                    rps[name].append(got["rps"])
                    if requests > 0:
                        cpu[name].append((loop / requests * 1e6, rest / requests * 1e6))
            cost = _cost_line(rps["driftline"], rps["nolog"])
            control = _cost_line(rps["control"], rps["nolog"])
            if "baseline" in rps:
                control += f"; {args.log_baseline} {_cost_line(rps['baseline'], rps['nolog'])}"
            per_request = ", ".join(
                f"{name} {statistics.median(c[0] for c in cpu[name]):.0f} + "
                f"{statistics.median(c[1] for c in cpu[name]):.0f}"
                for name in plans
                if cpu[name]
            )
            lines.append(
                f"{case}: {cost}; control (a second driftline-nolog) {control}; "
                f"{args.log_pairs} rounds of {args.slice_seconds:g} s slices; "
                f"CPU us a request, event-loop thread + the others (medians): {per_request}"
            )
            print(f"  logging cost {lines[-1]}", flush=True)
    return lines


def baseline_source(ref: str, work: Path) -> Path:
    """The ``src`` folder of a checkout of ``ref`` (a git worktree under ``work``).

    The baseline server runs that code through PYTHONPATH, which comes before the
    editable install of this checkout, with this checkout's venv.
    """
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except subprocess.CalledProcessError as exc:
        raise SystemExit(
            f"--log-baseline: {ref!r} is not a commit here: {exc.stderr.strip()}"
        ) from None
    tree = work / f"baseline-{sha[:12]}"
    if not (tree / "src" / "driftline").is_dir():
        made = subprocess.run(
            ["git", "worktree", "add", "--force", "--detach", str(tree), sha],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if made.returncode:
            raise SystemExit(f"--log-baseline: cannot check out {ref} at {tree}: {made.stderr}")
    return tree / "src"


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of each thread of ``pid`` and of its descendants.

    Keyed ``"<process>/<thread>"``; a log writer in a child process counts with the rest.
    """
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for proc in process_tree(pid):
        with contextlib.suppress(OSError):  # the process ended meanwhile
            for tid in os.listdir(f"/proc/{proc}/task"):
                try:
                    stat = Path(f"/proc/{proc}/task/{tid}/stat").read_text()
                except OSError:  # the thread ended meanwhile
                    continue
                fields = stat[stat.rindex(")") + 2 :].split()
                out[f"{proc}/{tid}"] = (int(fields[11]) + int(fields[12])) / tick
    return out


def cpu_since(pid: int, before: dict[str, float]) -> tuple[float, float]:
    """CPU seconds since ``before``: the main (event-loop) thread's, and all the others'."""
    loop = rest = 0.0
    main = f"{pid}/{pid}"
    for key, seconds in thread_cpu(pid).items():
        spent = seconds - before.get(key, 0.0)
        if key == main:
            loop += spent
        else:
            rest += spent
    return loop, rest


def _cost_line(slower: list[float], reference: list[float]) -> str:
    """``1 - slower / reference`` per round: median, and mean with its standard error."""
    costs = [1 - a / b for a, b in zip(slower, reference, strict=True)]
    error = statistics.stdev(costs) / len(costs) ** 0.5 if len(costs) > 1 else 0.0
    return (
        f"median {statistics.median(costs):.1%}, "
        f"mean {statistics.mean(costs):.1%} +- {error:.1%} (standard error)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--work", type=Path, default=ROOT / ".bench" / "serving-work")
    parser.add_argument(
        "--log-pairs",
        type=int,
        default=20,
        help="rounds of slices for the logging cost (three servers up at once, four with "
        "--log-baseline; 0: skip)",
    )
    parser.add_argument("--slice-seconds", type=float, default=2.0)
    parser.add_argument(
        "--log-baseline",
        metavar="REF",
        help="also run driftline at this git commit in the logging cost, side by side",
    )
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "MODEL"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--convert", nargs=3, metavar=("PEER", "WORK", "MODEL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
        return
    if args.convert:
        convert(args.convert[0], Path(args.convert[1]), args.convert[2])
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    servers = [s for s in args.servers.split(",") if s]
    cases = [c for c in args.cases.split(",") if c]
    for server in servers:
        peer = server if server in VENVS else None
        if peer and not (VENVS[peer] / "python").exists():
            print(
                f"skipping {server}: no venv at {VENVS[peer].parent} "
                f"(python3.11 -m venv {VENVS[peer].parent} && "
                f"{VENVS[peer]}/pip install -r benchmarks/peers/{peer}.txt)"
            )
    servers = [s for s in servers if s not in VENVS or (VENVS[s] / "python").exists()]
    if args.log_baseline:  # before the models, so a bad commit fails at once
        args.work.mkdir(parents=True, exist_ok=True)
        args.baseline_source = baseline_source(args.log_baseline, args.work)
    print("preparing models ...", flush=True)
    prepare(args.work, servers)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    jobs = [
        (
            s,
            m,
            [c for c in cases if CASES[c][0] == m and not (s == "driftline-nolog" and m == "rf")],
        )
        for m in ("lr", "rf")
        for s in servers
    ]
    jobs = [j for j in jobs if j[2]]
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}/{args.rounds}", flush=True)
        shift = round_ % len(jobs)
        for server, model, its_cases in jobs[shift:] + jobs[:shift]:
            try:
                run_server(server, model, its_cases, args, results)
            except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
                print(f"  {server} ({model}) failed: {exc}", flush=True)
    cost_cases = [c for c in cases if CASES[c][0] == "lr"]
    costs: list[str] = []
    if args.log_pairs > 0 and cost_cases and {"driftline", "driftline-nolog"} <= set(servers):
        print("logging cost ...", flush=True)
        try:
            costs = logging_cost(args, cost_cases)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
            print(f"  logging cost failed: {exc}", flush=True)
    command = "python " + shlex.join(["benchmarks/serving_vs_peers.py", *sys.argv[1:]])
    print()
    print(table(results, servers))
    print()
    if costs:
        print("prediction logging cost (1 - driftline / driftline-nolog):")
        print("\n".join(f"- {line}" for line in costs))
        print()
    print(
        f"medians of {args.rounds} rounds of {args.seconds:g} s (wrk -t2, loopback, one worker); "
        f"ratios vs driftline; `{command}`"
    )


if __name__ == "__main__":
    main()
