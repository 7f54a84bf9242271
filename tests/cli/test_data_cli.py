from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def test_data_add_list_show_contract(
    cli: Callable[..., Any], tmp_path: Path, datasets: Path
) -> None:
    added = cli(
        "data", "add", str(datasets / "elec2.csv.gz"), "--name", "elec2", "--json", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    summary = json.loads(added.stdout)
    assert set(summary) == {"id", "name", "version", "sha256", "rows", "columns"}
    assert (summary["version"], summary["rows"]) == (1, 45_312)
    parquet = tmp_path / "elec2.parquet"
    pd.read_csv(datasets / "elec2.csv.gz").to_parquet(parquet)
    again = json.loads(
        cli("data", "add", str(parquet), "--name", "elec2", "--json", cwd=tmp_path).stdout
    )
    assert again["id"] == summary["id"]
    listed = json.loads(cli("data", "list", "--json", cwd=tmp_path).stdout)
    assert [d["version"] for d in listed] == [1]
    shown = json.loads(cli("data", "show", "elec2:1", "--json", cwd=tmp_path).stdout)
    assert shown["sha256"] == summary["sha256"] and len(shown["schema"]) == 9


def test_quality_suggest_then_check(
    cli: Callable[..., Any], tmp_path: Path, datasets: Path
) -> None:
    source = datasets / "california_housing.csv.gz"
    suggested = cli("quality", "suggest", str(source), cwd=tmp_path)
    assert suggested.returncode == 0, suggested.stderr
    (tmp_path / "suite.yaml").write_text(suggested.stdout)
    ok = cli("quality", "check", str(source), "--suite", "suite.yaml", "--json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert result["passed"] is True and {"passed", "score", "checks"} <= set(result)
    assert {"name", "column", "passed", "observed", "failed_rows"} <= set(result["checks"][0])
    frame = pd.read_csv(source)
    frame.loc[:2999, "total_bedrooms"] = None  # far more missing than the suite allows
    broken = tmp_path / "broken.csv.gz"
    with gzip.open(broken, "wt") as handle:
        frame.to_csv(handle, index=False)
    failed = cli("quality", "check", str(broken), "--suite", "suite.yaml", "--json", cwd=tmp_path)
    assert failed.returncode == 1
    checks = json.loads(failed.stdout)["checks"]
    bad = [c for c in checks if not c["passed"]]
    assert [(c["name"], c["column"]) for c in bad] == [("completeness", "total_bedrooms")]


def test_quality_suite_typos_name_the_line(
    cli: Callable[..., Any], tmp_path: Path, datasets: Path
) -> None:
    (tmp_path / "suite.yaml").write_text(
        "checks:\n  - completeness: {column: total_bedroom, max_missing: 0.05}\n"
        "  - complteness: {column: population}\n"
    )
    result = cli(
        "quality",
        "check",
        str(datasets / "california_housing.csv.gz"),
        "--suite",
        "suite.yaml",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "line 3" in result.stderr and "completeness" in result.stderr
    assert "Traceback" not in result.stderr


def test_drift_contract_on_real_files(
    cli: Callable[..., Any], tmp_path: Path, datasets: Path
) -> None:
    frame = pd.read_csv(datasets / "bank_marketing.csv.gz")
    frame.iloc[:10_000].to_csv(tmp_path / "ref.csv", index=False)
    frame.iloc[-10_000:].to_parquet(tmp_path / "cur.parquet")
    result = cli("drift", "ref.csv", "cur.parquet", "--json", "--html", "report.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"drift_detected", "drift_share", "correction", "features"} <= set(report)
    feature = report["features"]["y"]
    assert {
        "method",
        "statistic",
        "p_value",
        "threshold",
        "drift_detected",
        "missing_share_ref",
        "missing_share_cur",
        "unseen_share",
    } <= set(feature)
    assert report["drift_detected"] is True  # the yes-share rises from 0.03 to 0.46
    assert (tmp_path / "report.html").read_text().startswith("<!")
    missing = cli("drift", "ref.csv", "cur.parquet", "--columns", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "nope" in missing.stderr
