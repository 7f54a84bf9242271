"""``driftline gateway``: the CLI contract, run as a user would."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest

from driftline.cli import main
from driftline.cli.gateway import parse_seconds
from driftline.exceptions import ValidationError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2s", 2.0), ("500ms", 0.5), ("1.5", 1.5), ("1m", 60.0), (" 3 s ", 3.0), ("1h", 3600.0)],
)
def test_parse_seconds(text: str, seconds: float) -> None:
    assert parse_seconds(text, option="--x") == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0s", "-1s", "2 days", "fast"])
def test_parse_seconds_rejects_nonsense_naming_the_option(text: str) -> None:
    with pytest.raises(ValidationError, match="--health-interval"):
        parse_seconds(text, option="--health-interval")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--strategy", "fastest"], "strategy 'fastest' is not one of round_robin"),
        (["--health-interval", "soon"], "--health-interval: 'soon' is not a positive duration"),
        (["--health-path", "ready"], "health check path 'ready' must start with '/'"),
    ],
    ids=["strategy", "interval", "path"],
)
def test_bad_options_exit_2_with_a_message(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["gateway", "--upstream", "http://127.0.0.1:9", *args])
    assert code == 2
    assert fragment in capsys.readouterr().err


def test_an_upstream_that_is_not_a_url_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gateway", "--upstream", "localhost:8080"]) == 2
    assert "upstream 'localhost:8080' is not an http(s) URL" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_gateway_command_serves_and_balances(replicas) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = replicas
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    command = [
        sys.executable, "-m", "driftline.cli._main", "gateway",
        "--upstream", a.url, "--upstream", f"{b.url}=1",
        "--strategy", "round_robin", "--port", str(port), "--health-interval", "500ms",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/gateway/health", timeout=0.5).status_code == 200:
                    break
            assert process.poll() is None, process.communicate()[1].decode()
            assert time.monotonic() < deadline, "the gateway did not come up"
            time.sleep(0.05)
        with httpx.Client(base_url=url) as client:
            answers = [
                client.post("/v1/models/m/predict", json={"records": [{"x": 1}]}) for _ in range(4)
            ]
            upstreams = client.get("/gateway/upstreams").json()
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=15)
    assert [r.status_code for r in answers] == [200] * 4
    assert Counter(r.json()["upstream"] for r in answers) == {"a": 2, "b": 2}
    assert [u["url"] for u in upstreams["upstreams"]] == [a.url, b.url]
    assert f"driftline gateway on {url}" in out.decode()
