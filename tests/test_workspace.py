from __future__ import annotations

import threading
from pathlib import Path

import pytest

import driftline
from driftline import Workspace
from driftline.config import Settings
from driftline.exceptions import NotFoundError, UnavailableError
from driftline.store import MetadataStore


def test_public_api_is_curated() -> None:
    assert sorted(driftline.__all__) == ["Workspace", "__version__"]
    assert driftline.Workspace is Workspace


def test_status_reports_what_is_stored(workspace: Workspace) -> None:
    workspace.artifacts.put_bytes(b"abc")
    workspace.audit.record(action="test", subject="ws")
    status = workspace.status()
    assert status["version"] == driftline.__version__
    assert status["db"]["schema_revision"] == MetadataStore.code_revision()
    assert status["artifacts"]["count"] == 1 and status["artifacts"]["bytes"] == 3
    assert status["audit"]["entries"] == 1
    assert len(status["audit"]["head_hash"]) == 64


def test_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTLINE_HOME", str(tmp_path / "envhome"))
    monkeypatch.setenv("DRIFTLINE_ACTOR", "ci-bot")
    with Workspace.open() as ws:
        entry = ws.audit.record(action="x", subject="y")
        assert ws.home == tmp_path / "envhome"
    assert entry.actor == "ci-bot"
    assert (tmp_path / "envhome" / "driftline.db").is_file()


def test_open_without_create_needs_an_existing_workspace(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="driftline init"):
        Workspace.open(home=tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()


def test_home_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnavailableError, match="not a directory"):
        Workspace.open(home=tmp_path / "file")


def test_home_on_a_read_only_filesystem() -> None:
    # /proc refuses new directories even to root, unlike a chmod-ed folder.
    with pytest.raises(UnavailableError, match="cannot create workspace home"):
        Workspace.open(home="/proc/driftline-test-home")


def test_settings_are_passed_down_not_reread(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "a", actor="carol")
    with Workspace.open(settings=settings) as ws:
        assert ws.audit.record(action="x", subject="y").actor == "carol"
        assert ws.settings is settings


def test_processes_opening_one_workspace_at_once_do_not_trip_over_the_write_check(
    tmp_path: Path,
) -> None:
    # The write check used one probe file for everyone: when two openers overlapped, one
    # deleted the other's probe and the other failed with "not writable (No such file)".
    # Threads overlap the same way processes do, and many times more often in a test.
    from driftline.workspace import _check_writable

    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def open_many() -> None:
        start.wait()
        for _ in range(300):
            try:
                _check_writable(tmp_path)
            except UnavailableError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=open_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert list(tmp_path.iterdir()) == []  # no probe left behind
