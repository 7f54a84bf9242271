from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def test_retrain_check_reports_why_and_refuses_without_traffic(
    cli: Callable[..., Any], tmp_path: Path, datasets: Path
) -> None:
    pd.read_csv(datasets / "elec2.csv.gz").iloc[:2000].to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "code.py").write_text(
        textwrap.dedent("""
        from sklearn.linear_model import LogisticRegression

        def train(frame, params):
            return LogisticRegression(max_iter=300).fit(frame.drop(columns=["class"]),
                                                        frame["class"])
        """)
    )
    (tmp_path / "driftline.yaml").write_text(
        "name: elec\nentry_point: code:train\ndata: t:1\ntarget: class\n"
    )
    assert cli("data", "add", "t.csv", "--name", "t", cwd=tmp_path).returncode == 0
    assert cli("train", cwd=tmp_path).returncode == 0
    assert (
        cli(
            "models", "alias", "elec", "1", "champion", "--reason", "first", cwd=tmp_path
        ).returncode
        == 0
    )
    quiet = cli("retrain", "check", "--once", "--json", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout)["decision"] is None
    manual = cli("retrain", "check", "--once", "--reason", "new feed", "--json", cwd=tmp_path)
    report = json.loads(manual.stdout)
    assert report["decision"]["allowed"] is True
    assert report["retrain"]["status"] == "failed"
    assert "labelled predictions" in report["retrain"]["reason"]
    assert cli("retrain", "reset", "elec", "--reason", "checked", cwd=tmp_path).returncode == 0
