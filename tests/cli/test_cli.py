from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from driftline.cli import main
from driftline.cli._main import build_command


def _walk(command: Any, path: str = "driftline") -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, f"{path} {name}")


def test_starting_the_cli_loads_no_data_or_web_library() -> None:
    # Every command starts by importing the whole command tree; the libraries a command
    # needs load inside it, so `driftline --help` or `driftline status` stays quick.
    heavy = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "fastapi", "uvicorn")
    code = (
        "import sys, driftline.cli._main; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_command_and_option_has_help() -> None:
    missing = []
    paths = [path for path, _ in _walk(build_command())]
    assert {"driftline init", "driftline status", "driftline audit verify", "driftline run"} <= set(
        paths
    )
    for path, command in _walk(build_command()):
        if not (command.help or "").strip():
            missing.append(path)
        for param in command.params:
            if param.param_type_name == "option" and not (param.help or "").strip():
                missing.append(f"{path} {param.opts[0]}")
    assert missing == []


def test_init_status_verify_in_an_empty_folder(cli: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("init", cwd=tmp_path).returncode == 0
    status = cli("status", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["home"] == str(tmp_path / ".driftline")
    assert info["db"]["dialect"] == "sqlite"
    verify = cli("audit", "verify", cwd=tmp_path)
    assert verify.returncode == 0
    assert "intact" in verify.stdout


def test_version(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("driftline ")


def test_status_without_workspace_says_what_to_do(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("status", cwd=tmp_path)
    assert result.returncode == 3
    assert "driftline init" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".driftline").exists()


def _register_tiny_datasets(cli: Callable[..., Any], folder: Path, n: int) -> None:
    (folder / "tiny.csv").write_text("a,b\n1,x\n2,y\n")
    for i in range(n):
        assert cli("data", "add", "tiny.csv", "--name", f"tiny{i}", cwd=folder).returncode == 0


def test_tampered_audit_log_exits_1_naming_the_seq(cli: Callable[..., Any], tmp_path: Path) -> None:
    _register_tiny_datasets(cli, tmp_path, 2)
    db = sqlite3.connect(tmp_path / ".driftline" / "driftline.db")
    db.execute("UPDATE audit_log SET subject = 'forged' WHERE seq = 1")
    db.commit()
    db.close()
    result = cli("audit", "verify", "--json", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert (report["intact"], report["first_bad_seq"]) == (False, 1)
    text = cli("audit", "verify", cwd=tmp_path)
    assert text.returncode == 1 and "seq 1" in text.stderr


def test_audit_log_json_and_limit(cli: Callable[..., Any], tmp_path: Path) -> None:
    _register_tiny_datasets(cli, tmp_path, 3)  # each: dataset.register + its lineage node
    result = cli("audit", "log", "--json", "--limit", "2", cwd=tmp_path)
    entries = json.loads(result.stdout)
    assert [e["seq"] for e in entries] == [6, 5]
    assert [e["subject"] for e in entries][1] == "dataset/tiny2:1"
    table = cli("audit", "log", cwd=tmp_path)
    assert table.returncode == 0 and "dataset.register" in table.stdout


@pytest.mark.parametrize(
    ("env", "code", "message"),
    [
        ({"DRIFTLINE_DB_URL": "nonsense"}, 2, "not a database URL"),
        (
            {"DRIFTLINE_DB_URL": "postgresql+psycopg://u:pw@127.0.0.1:1/x?connect_timeout=2"},
            7,
            "cannot connect",
        ),
        ({"DRIFTLINE_BUSY_TIMEOUT_MS": "soon"}, 2, "DRIFTLINE_BUSY_TIMEOUT_MS"),
        ({"DRIFTLINE_HOME": "/proc/driftline-nope"}, 7, "cannot create workspace home"),
    ],
    ids=["malformed-url", "unreachable-db", "bad-setting", "read-only-home"],
)
def test_bad_configuration_is_one_clear_line(
    cli: Callable[..., Any], tmp_path: Path, env: dict[str, str], code: int, message: str
) -> None:
    result = cli("init", cwd=tmp_path, env=env)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_newer_workspace_is_refused(cli: Callable[..., Any], tmp_path: Path) -> None:
    cli("init", cwd=tmp_path)
    db = sqlite3.connect(tmp_path / ".driftline" / "driftline.db")
    db.execute("UPDATE alembic_version SET version_num = 'ffff'")
    db.commit()
    db.close()
    result = cli("status", cwd=tmp_path)
    assert result.returncode == 4
    assert "newer driftline" in result.stderr


def test_usage_errors_exit_2(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("audit", "log", "--limit", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_main_returns_exit_codes_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DRIFTLINE_HOME", raising=False)
    assert main(["status"]) == 3
    assert main(["init", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["audit"]["entries"] == 0
