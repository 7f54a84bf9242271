"""``driftline serve``: the champion default, its error, and several workers behind one port."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftline import Workspace
from driftline.cli import main
from driftline.predlog import read_predictions


def test_serve_without_any_champion_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Workspace.open(home=tmp_path / "home").close()
    code = main(["--home", str(tmp_path / "home"), "serve", "--port", "1"])
    assert code == 3  # NotFoundError's exit code
    err = capsys.readouterr().err
    assert "no model has a champion alias" in err and "--model" in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _requests_total(text: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if re.match(r'driftline_requests_total\{.*status="200"', line)
    )


@pytest.mark.slow
def test_two_workers_share_the_port_and_merge_their_metrics(
    tmp_path: Path, template_home: Path, models: Any
) -> None:
    home = tmp_path / "served"
    shutil.copytree(template_home, home)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRIFTLINE_", "PROMETHEUS"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "driftline.cli._main", "--home", str(home), "serve",
         "--port", str(port), "--workers", "2", "--log-writer", "process"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    record = models.features.iloc[0].to_dict()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            ready = threading.Event()
            for _ in range(400):  # up to ~60 s for two cold workers on a busy machine
                try:
                    if client.get("/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, b"".join(output).decode()
                ready.wait(0.15)
            for _ in range(30):
                response = client.post("/v1/models/elec/predict", json={"records": [record]})
                assert response.status_code == 200
            totals = {_requests_total(client.get("/metrics").text) for _ in range(6)}
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole group, log writers too
        process.wait(timeout=30)
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert totals == {30.0}  # every scrape, whichever worker answers, sees all requests
    assert "serving models:/elec@champion" in b"".join(output).decode()
    # Each worker's log writer process (forked, and deaf to the group's Ctrl-C) wrote its
    # rows before the worker exited.
    assert len(read_predictions(home / "predictions")) == 30
