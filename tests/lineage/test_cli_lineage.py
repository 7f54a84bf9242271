"""``driftline lineage show|path|export|validate``: output formats and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftline import Workspace
from driftline.cli import main
from driftline.lineage import validate_event


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A SQLite workspace with ds -> run -> model recorded."""
    home = tmp_path / "ws"
    with Workspace.open(home=home) as ws:
        ws.lineage.add_node("ds", "dataset_version", "credit", content_hash="ab" * 32)
        with ws.lineage.run(
            "train", inputs=["ds"], run_id="0190f0c4-7a4e-7d2a-9f00-000000000001"
        ) as r:
            ws.lineage.add_node("mv", "model_version", "clf", version="1")
            r.add_output("mv")
    return home


def cli(home: Path, *args: str) -> int:
    return main(["--home", str(home), "lineage", *args])


RUN_ID = "0190f0c4-7a4e-7d2a-9f00-000000000001"


def test_show_json_with_direction_and_depth(home: Path, capsys: pytest.CaptureFixture[str]):
    assert cli(home, "show", "mv", "--direction", "upstream", "--depth", "1") == 0
    data = json.loads(capsys.readouterr().out)
    assert [n["id"] for n in data["nodes"]] == ["mv", RUN_ID]
    assert (data["direction"], data["depth"]) == ("upstream", 1)
    assert cli(home, "show", "ds") == 0
    assert {n["id"] for n in json.loads(capsys.readouterr().out)["nodes"]} == {"ds", RUN_ID, "mv"}


@pytest.mark.parametrize(
    ("fmt", "start"), [("dot", "digraph lineage {"), ("mermaid", "flowchart LR")]
)
def test_show_dot_and_mermaid(
    home: Path, capsys: pytest.CaptureFixture[str], fmt: str, start: str
) -> None:
    assert cli(home, "show", "ds", "--format", fmt) == 0
    out = capsys.readouterr().out
    assert out.startswith(start) and out.count("-->" if fmt == "mermaid" else "->") == 2


def test_show_openlineage_prints_valid_events(home: Path, capsys: pytest.CaptureFixture[str]):
    assert cli(home, "show", "mv", "--format", "openlineage") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert all(validate_event(e) == () for e in events)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "ghost"), 3, "lineage node 'ghost' not found"),
        (("show", "ds", "--direction", "sideways"), 2, "sideways"),
        (("show", "ds", "--depth", "-1"), 2, "greater than or equal to 0"),
        (("show", "ds", "--format", "png"), 2, "png"),
        (("path", "ds", "ghost"), 3, "'ghost'"),
    ],
    ids=["unknown-id", "direction", "depth", "format", "path-unknown"],
)
def test_bad_input_exits_non_zero_with_one_clear_line(
    home: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int, message: str
) -> None:
    assert cli(home, *args) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_path(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(home, "path", "ds", "mv") == 0
    assert capsys.readouterr().out.split() == ["ds", "-[input]->", RUN_ID, "-[output]->", "mv"]
    assert cli(home, "path", "mv", "ds") == 1
    assert "no path from 'mv' to 'ds'" in capsys.readouterr().err
    assert cli(home, "path", "ds", "mv", "--json") == 0
    assert json.loads(capsys.readouterr().out)["hops"] == 2


def test_export_to_a_file_then_validate(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    assert cli(home, "export", "--output", str(events)) == 0
    assert "sent 2 OpenLineage events" in capsys.readouterr().err
    assert cli(home, "validate", str(events)) == 0
    assert "2 events, 0 invalid" in capsys.readouterr().out
    assert cli(home, "export", "--format", "mermaid") == 0
    assert capsys.readouterr().out.startswith("flowchart LR")


def test_validate_reports_line_and_schema_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    good = tmp_path / "good.jsonl"
    assert cli(home, "export", "--output", str(good)) == 0
    first, second = good.read_text().splitlines()
    broken = json.loads(second)
    broken["run"]["runId"] = "not-a-uuid"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(first + "\n" + json.dumps(broken) + "\n")
    capsys.readouterr()
    assert main(["lineage", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: event 1: $.run.runId: 'not-a-uuid' is not a 'uuid'" in err
    assert "[schema: OpenLineage.json#/$defs/RunEvent/allOf/1/properties/run" in err
    assert "2 events, 1 invalid" in err
    assert main(["lineage", "validate", str(bad), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["events"], report["invalid"], report["valid"]) == (2, 1, False)
    (error,) = report["errors"]
    assert (error["line"], error["problems"][0]["path"]) == (2, "$.run.runId")
    assert error["problems"][0]["schema_path"].endswith("/runId/format")


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [(None, 3, "does not exist"), ("", 2, "holds no events")],
    ids=["missing", "empty"],
)
def test_validate_unreadable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, code: int, message: str
) -> None:
    path = tmp_path / "events.jsonl"
    if content is not None:
        path.write_text(content)
    assert main(["lineage", "validate", str(path)]) == code
    err = capsys.readouterr().err
    assert message in err and str(path) in err
