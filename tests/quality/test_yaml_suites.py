"""Suites written in YAML: round trips and error messages that point at the line."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from driftline.exceptions import NotFoundError, ValidationError
from driftline.quality import (
    AllowedValues,
    Completeness,
    Custom,
    Freshness,
    Referential,
    Regex,
    RowCount,
    Schema,
    Suite,
    Uniqueness,
    ValueRange,
)


def positive(columns):
    return columns["x"] > 0


FULL = Suite(
    [
        Schema({"x": "numeric", "s": "categorical", "t": "datetime"}, unexpected="warn"),
        RowCount(min=1, max=10_000),
        Completeness("x", max_missing=0.01, severity="warn", weight=2.5),
        ValueRange("x", min=-1.5, max=99),
        ValueRange("t", min=datetime(2020, 1, 1), max="2030-06-30T12:00:00"),
        AllowedValues("s", values={"a", "b", 3}),
        Uniqueness(("x", "s"), max_invalid=0.1),
        Regex("s", r"[a-z]+\d*", full=False),
        Freshness("1d12h", column="t"),
        Referential("s", "code", dataset="codes"),
        Custom("positive", positive, columns=("x",)),
    ],
    scoring="soft",
    empty_is_missing=False,
    missing_markers={"s": ["?", "unknown"], "x": [-999]},
)


def test_every_check_round_trips_through_yaml() -> None:
    text = FULL.to_yaml()
    again = Suite.from_yaml(text, functions={"positive": positive})
    assert again == FULL
    assert again.to_yaml() == text


def test_a_suite_file_is_read_by_path(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("checks:\n  - completeness: {column: x, max_missing: 0.5}\n")
    suite = Suite.from_yaml(path)
    assert suite.checks == (Completeness("x", max_missing=0.5),)
    assert Suite.from_yaml(str(path)) == suite
    assert not suite.run({"x": [None, None, 1.0]}).passed


def test_a_missing_suite_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.yaml"):
        Suite.from_yaml(tmp_path / "nope.yaml")


SUITE_WITH_TYPOS = textwrap.dedent(
    """\
    scoring: weighted
    checks:
      - completeness: {column: age, max_missing: 0.01}
      - range:
          column: age
          min: 0
          maxx: 120
    """
)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        pytest.param(
            SUITE_WITH_TYPOS,
            ["line 4: check 2 'range'", "unknown key 'maxx' (line 7); did you mean 'max'?"],
            id="unknown-key",
        ),
        pytest.param(
            "checks:\n  - completness: {column: age}\n",
            ["line 2: check 1", "unknown check 'completness'; did you mean 'completeness'?"],
            id="unknown-check",
        ),
        pytest.param(
            "checks:\n  - range: {min: 0}\n",
            ["check 1 'range'", "missing key 'column'"],
            id="missing-key",
        ),
        pytest.param(
            "checks:\n  - range: {column: age, min: 5, max: 1}\n",
            ["line 2: check 1 'range'", "greater than max"],
            id="bad-value",
        ),
        pytest.param("checks: [\n", ["line", "not valid YAML"], id="broken-yaml"),
        pytest.param("", ["the suite is empty"], id="empty"),
        pytest.param("scoring: seed\nchecs: []\n", ["line 2", "did you mean 'checks'"], id="top"),
        pytest.param("scoring: best\nchecks: []\n", ["line 1", "unknown scoring rule"], id="rule"),
        pytest.param(
            "checks:\n  - custom: {name: mine}\n",
            ["no function for custom check 'mine'", "functions="],
            id="custom-without-function",
        ),
        pytest.param("checks:\n  - completeness\n", ["write each check as"], id="bare-name"),
    ],
)
def test_yaml_errors_name_the_line_check_and_key(text: str, fragments: list[str]) -> None:
    with pytest.raises(ValidationError) as info:
        Suite.from_yaml(text)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_a_column_typo_in_yaml_names_the_yaml_line_when_the_suite_runs() -> None:
    suite = Suite.from_yaml("checks:\n  - row_count: {min: 1}\n  - completeness: {column: agee}\n")
    with pytest.raises(ValidationError) as info:
        suite.run({"age": np.arange(3.0)})
    assert "check 2 'completeness' on 'agee' (suite YAML line 3)" in str(info.value)
    assert "did you mean 'age'?" in str(info.value)
