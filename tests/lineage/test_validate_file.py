"""Validating files of events: JSON lines, arrays, line numbers, run order, bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftline.exceptions import NotFoundError, ValidationError
from driftline.lineage import PRODUCER, validate_file

RUN = "01890a5d-ac96-774b-bcce-b302099a8057"


def _event(kind: str = "START", run_id: str = RUN, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "eventTime": "2026-03-01T12:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id},
        "job": {"namespace": "ns", "name": "job"},
        **extra,
    }


def _lines(path: Path, *values: Any) -> Path:
    path.write_text("".join(json.dumps(v) + "\n" for v in values))
    return path


def test_json_lines_report_the_line_and_schema_path(tmp_path: Path) -> None:
    path = _lines(
        tmp_path / "events.jsonl",
        _event("START"),
        _event("COMPLETE", producer="not a uri"),
        _event("START", run_id="abc"),
    )
    report = validate_file(path)
    assert [e.valid for e in report.events] == [True, False, False]
    assert [e.line for e in report.invalid] == [2, 3]
    second, third = report.invalid
    assert second.problems[0].path == "$.producer"
    assert second.problems[0].schema_path.endswith("properties/producer/format")
    assert third.problems[0].path == "$.run.runId"
    assert report.to_dict()["invalid"] == 2 and not report.valid


def test_a_json_array_reports_the_line_each_event_starts_on(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps([_event("START"), _event("FAIL", eventTime="soon")], indent=2))
    report = validate_file(path)
    assert len(report.events) == 2
    (bad,) = report.invalid
    text = path.read_text().splitlines()
    assert text[bad.line - 1].strip() == "{"  # the line where the second event opens
    assert '"FAIL"' in "".join(text[bad.line - 1 : bad.line + 2])
    assert bad.problems[0].path == "$.eventTime"


def test_text_that_is_not_json_is_an_invalid_event_and_reading_goes_on(tmp_path: Path):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(_event()) + "\n{broken\n" + json.dumps(_event("COMPLETE")) + "\n")
    report = validate_file(path)
    assert [(e.line, e.valid) for e in report.events] == [(1, True), (2, False), (3, True)]
    assert report.invalid[0].problems[0].message.startswith("not JSON")


def test_the_run_order_is_checked(tmp_path: Path) -> None:
    path = _lines(
        tmp_path / "events.jsonl",
        _event("START"),
        _event("START"),
        _event("COMPLETE"),
        _event("FAIL"),
        _event("OTHER"),
    )
    report = validate_file(path)
    assert [e.line for e in report.invalid] == [2, 4]
    assert "a second START" in report.invalid[0].problems[0].message
    assert "already ended with COMPLETE at line 3" in report.invalid[1].problems[0].message


def test_facets_without_a_schema_are_listed_as_unchecked(tmp_path: Path) -> None:
    facet = {"_producer": PRODUCER, "_schemaURL": "https://example.com/x.json", "n": 1}
    path = _lines(tmp_path / "e.jsonl", _event(run={"runId": RUN, "facets": {"acme_x": facet}}))
    (check,) = validate_file(path).events
    assert check.valid and check.unchecked_facets == ("$.run.facets.acme_x",)


@pytest.mark.parametrize(
    ("content", "error", "match"),
    [
        (None, NotFoundError, "does not exist"),
        (b"", ValidationError, "holds no events"),
        (b"  \n\n", ValidationError, "holds no events"),
        (b"\xff\xfe\x00garbage", ValidationError, "not UTF-8 text"),
    ],
    ids=["missing", "empty", "blank", "binary"],
)
def test_unreadable_files_are_clear_errors_naming_the_file(
    tmp_path: Path, content: bytes | None, error: type[Exception], match: str
) -> None:
    path = tmp_path / "events.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=match) as info:
        validate_file(path)
    assert str(path) in str(info.value)


def test_a_directory_is_not_an_event_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read event file"):
        validate_file(tmp_path)
