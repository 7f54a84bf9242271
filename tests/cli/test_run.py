"""``driftline run``: serving, monitoring and retraining of one model in one process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from driftline import Workspace
from driftline.serving._api_retrain import request_status, submit_request
from driftline.store._retraining_tables import retrain_leases

TOKEN = "run-token"
CODE = """
from sklearn.linear_model import LogisticRegression

def train(frame, params):
    return LogisticRegression(max_iter=300).fit(frame.drop(columns=["class"]), frame["class"])
"""


def fit(frame: pd.DataFrame, params: dict[str, Any]) -> LogisticRegression:
    return LogisticRegression(max_iter=300).fit(frame.drop(columns=["class"]), frame["class"])


@pytest.fixture
def project(tmp_path: Path, datasets: Path) -> Path:
    """A folder with driftline.yaml, its training code, and elec v1 as champion."""
    frame = pd.read_csv(datasets / "elec2.csv.gz", nrows=2000)
    (tmp_path / "code.py").write_text(textwrap.dedent(CODE))
    (tmp_path / "driftline.yaml").write_text(
        "name: elec\nentry_point: code:train\ndata: t:1\ntarget: class\n"
    )
    with Workspace.open(home=tmp_path / ".driftline") as ws:
        data = ws.datasets.add(frame, name="t")
        result = ws.train(fit, data=data, name="elec", target="class")
        ws.registry.promote("elec", result.model_version.version, reason="first")
    return tmp_path


def leases(home: Path) -> list[Any]:
    with Workspace.open(home=home, create=False) as ws, ws.store.read() as conn:
        return list(conn.execute(retrain_leases.select()).all())


def test_once_serves_monitors_and_consumes_a_pending_request(
    cli: Callable[..., Any], project: Path
) -> None:
    with Workspace.open(home=project / ".driftline") as ws:
        asked = submit_request(ws, "elec", "new upstream feed", "cron")
    result = cli("run", "--once", "--port", "0", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    cycle = json.loads(result.stdout)
    assert cycle["woken_by"] == "start" and cycle["errors"] == []
    [monitored] = cycle["monitoring"]["models"]
    assert monitored["model"] == "elec" and monitored["version"] == 1
    decision = cycle["retrain"]["decision"]
    assert decision["allowed"] and "new upstream feed (by cron)" in decision["reason"]
    with Workspace.open(home=project / ".driftline", create=False) as ws:
        status = request_status(ws, asked["request_id"])
    assert status["status"] == "consumed" and status["decision_id"] == decision["id"]
    assert status["outcome"] == "failed"  # nothing served and labelled to retrain on yet
    assert re.search(r"serving models:/elec@champion on http://127\.0\.0\.1:\d+", result.stderr)
    assert "stopped after 1 cycle(s)" in result.stderr
    assert leases(project / ".driftline") == []


@pytest.mark.parametrize(
    ("args", "needle", "code"),
    [
        (("--config", "missing.yaml"), "'missing.yaml' does not exist", 3),
        (("--interval", "soon"), "--interval", 2),
        (("--port", "70000"), "--port", 2),
    ],
    ids=["no-config", "bad-interval", "bad-port"],
)
def test_bad_options_say_what_is_wrong(
    cli: Callable[..., Any], project: Path, args: tuple[str, ...], needle: str, code: int
) -> None:
    result = cli("run", "--once", *args, cwd=project)
    assert result.returncode == code, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_a_busy_port_is_named(cli: Callable[..., Any], project: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("run", "--once", "--port", str(port), cwd=project)
    assert result.returncode == 7  # UnavailableError
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_champion_it_says_what_to_do(cli: Callable[..., Any], project: Path) -> None:
    (project / "driftline.yaml").write_text(
        "name: other\nentry_point: code:train\ndata: t:1\ntarget: class\n"
    )
    result = cli("run", "--once", "--port", "0", cwd=project)
    assert result.returncode == 3
    assert "models:/other@champion" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def running(project: Path) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``driftline run`` on a free loopback port, its stderr lines collected as they come."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    env["DRIFTLINE_ADMIN_TOKEN"] = TOKEN
    process = subprocess.Popen(
        [sys.executable, "-m", "driftline.cli._main", "run", "--port", "0", "--interval", "1h",
         "--json"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
    reader.start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        reader.join(timeout=10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def _poll(what: str, check: Callable[[], Any], process: subprocess.Popen[str]) -> Any:
    """Poll ``check`` until it returns something truthy (the process must stay up), <= 90 s."""
    pause = threading.Event()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, f"driftline run exited early while waiting for {what}"
        found = check()
        if found:
            return found
        pause.wait(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_posted_retrain_is_decided_and_sigterm_stops_cleanly(
    running: tuple[subprocess.Popen[str], list[str]], project: Path
) -> None:
    process, lines = running

    def announced() -> str | None:
        found = re.search(r"on (http://127\.0\.0\.1:\d+)", "".join(lines))
        return found.group(1) if found else None

    url = _poll("the server address", announced, process)
    admin = {"authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/health/ready").status_code == 200
        # One scrape shows the server's metrics and the monitors' gauges together.
        scraped = client.get("/metrics").text
        assert "driftline_requests_total" in scraped
        assert "driftline_system_cpu_percent" in scraped
        assert "# TYPE driftline_dataset_drift_share gauge" in scraped
        posted = client.post(
            "/v1/retrain", json={"model": "elec", "reason": "orchestrated"}, headers=admin
        )
        assert posted.status_code == 202, posted.text
        location = posted.headers["location"]

        def decided() -> dict[str, Any] | None:
            status = client.get(location, headers=admin).json()
            return status if status["outcome"] not in (None, "running") else None

        # The loop waits an hour between cycles; the request wakes it within about a second.
        status = _poll("the request to be decided", decided, process)
    assert status["status"] == "consumed" and status["decision"]["allowed"]
    assert status["outcome"] == "failed"  # nothing labelled to retrain on: said, not hidden
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    out = process.stdout.read() if process.stdout else ""
    cycles = [json.loads(line) for line in out.splitlines()]
    assert [c["woken_by"] for c in cycles] == ["start", "request"]
    assert cycles[1]["retrain"]["decision"]["id"] == status["decision_id"]
    assert "stopped after 2 cycle(s)" in "".join(lines)
    assert leases(project / ".driftline") == []


def test_retrain_check_loop_wakes_for_a_request_and_stops_on_ctrl_c(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "driftline.cli._main", "retrain", "check", "--loop",
         "--interval", "1h", "--json"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    home = project / ".driftline"
    try:
        _poll("the first cycle's report", lambda: '"champion_version"' in "".join(lines), process)
        with Workspace.open(home=home, create=False) as ws:
            asked = submit_request(ws, "elec", "from the orchestrator", "airflow")
        # The loop waits an hour between cycles; a request starts the next one at once.
        _poll(
            "the woken cycle's report", lambda: '"woken_by": "request"' in "".join(lines), process
        )
        process.send_signal(signal.SIGINT)
        err = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
        reader.join(timeout=10)
    assert process.returncode == 0, err
    assert "stopped after 2 cycle(s)" in err
    with Workspace.open(home=home, create=False) as ws:
        status = request_status(ws, asked["request_id"])
    assert status["status"] == "consumed"
    assert "from the orchestrator (by airflow)" in status["decision"]["reason"]
    assert leases(home) == []
