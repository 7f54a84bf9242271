"""``driftline monitor run``: one cycle, continuous cycles stopped by Ctrl-C, config errors."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import yaml

from driftline import Workspace
from driftline.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def home(tmp_path: Path, kit: Any) -> Path:
    """A workspace whose champion served a calm 10 minutes, then a drifted 10 minutes,
    ending 5 minutes ago (real time: the CLI reads the system clock)."""
    home = tmp_path / "ws"
    # 25 minutes back, aligned down: both 10-minute windows are complete, and the newest
    # event stays within the cycle's 30-minute drift age whatever the minute (was flaky).
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=25)
    start -= timedelta(minutes=start.minute % 10)  # align with the 10-minute drift windows
    with Workspace.open(home=home) as ws:
        kit.register(ws)
        kit.serve(ws, kit.elec.holdout.iloc[:90], start, every=timedelta(seconds=6))
        drifted = start + timedelta(minutes=10)
        kit.serve(ws, kit.elec.drifted.iloc[:90], drifted, every=timedelta(seconds=6))
    return home


def _files(tmp_path: Path, http_receiver: Any, path: str) -> tuple[Path, Path]:
    rules, channels = tmp_path / "rules.yaml", tmp_path / "channels.yaml"
    rules.write_text(
        yaml.safe_dump(
            {"rules": [{"name": "Drift", "metric": "driftline_dataset_drift_share",
                        "op": ">", "threshold": 0.3, "severity": "critical"}]}
        )
    )  # fmt: skip
    channels.write_text(
        yaml.safe_dump({"channels": [{"type": "webhook", "url": http_receiver.url(path)}]})
    )
    return rules, channels


def test_once_runs_one_cycle_and_delivers(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, http_receiver: Any
) -> None:
    rules, channels = _files(tmp_path, http_receiver, "/ok/cli-run/hook")
    code, out, err = _run(
        capsys, "--home", str(home), "monitor", "run", "--once", "--json", "--window", "10m",
        "--rules", str(rules), "--channels", str(channels),
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    (model,) = summary["models"]
    assert model["uri"] == "models:/elec@champion" and model["version"] == 1
    assert model["signals"]["drift"]["new_events"] == 2
    assert model["signals"]["drift"]["drift_share"] > 0.3
    assert [t["to_state"] for t in summary["alerts"]["transitions"]] == ["firing"]
    assert [d["channel"] for d in summary["alerts"]["dispatches"]] == ["webhook"]
    (request,) = http_receiver.at("/ok/cli-run/hook")
    assert request.json()["status"] == "firing"
    code, out, err = _run(capsys, "--home", str(home), "monitor", "run", "--once")
    assert code == 0 and "elec v1, drift share 0.8" in out and "alerts:" in out


@pytest.mark.parametrize(
    ("which", "content", "match", "exit_code"),
    [
        ("channels", {"channels": [{"type": "slack", "url": "not a url"}]},
         r"channels\.yaml: channels\[0\] \(slack\).*field 'url'", 2),
        ("channels", {"channels": [{"type": "email", "host": "smtp.example.com"}]},
         r"channels\.yaml: channels\[0\] \(email\): missing field 'from'", 2),
        ("rules", {"rules": [{"name": "X", "metric": "driftline_drift_scor", "op": ">",
                              "threshold": 1}]},
         r"rules\.yaml: .*driftline_drift_scor", None),
    ],
    ids=["slack-url", "email-from", "rule-metric"],
)  # fmt: skip
def test_bad_config_files_are_refused_naming_file_and_field(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    which: str,
    content: Any,
    match: str,
    exit_code: int | None,
) -> None:
    path = tmp_path / f"{which}.yaml"
    path.write_text(yaml.safe_dump(content))
    Workspace.open(home=tmp_path / "ws").close()
    code, _, err = _run(
        capsys, "--home", str(tmp_path / "ws"), "monitor", "run", "--once", f"--{which}", str(path)
    )
    assert code != 0 and (exit_code is None or code == exit_code)
    assert re.search(match, " ".join(err.split())), err


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@pytest.mark.slow
def test_continuous_cycles_serve_metrics_and_stop_on_ctrl_c(home: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("driftline")), "--home", str(home), "monitor", "run",
        "--interval", "1h", "--window", "10m", "--json", "--metrics-port", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    readers = [
        threading.Thread(target=_lines, args=(stream, into), daemon=True)
        for stream, into in ((process.stdout, out), (process.stderr, err))
    ]
    for reader in readers:
        reader.start()
    try:
        announced = err.get(timeout=60)
        assert announced.startswith("metrics on http://127.0.0.1:"), announced
        url = announced.split()[-1]
        cycle = json.loads(out.get(timeout=60))  # one JSON line per cycle
        assert cycle["models"][0]["signals"]["drift"]["drift_share"] > 0.3
        text = httpx.get(url, timeout=10).text
        assert 'driftline_dataset_drift{model="elec",version="1"} 1.0' in text
        assert "driftline_system_memory_percent" in text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "stopped after 1 cycle(s)" in err.get(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for reader in readers:
            reader.join(timeout=10)  # both pipes end with the process
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
