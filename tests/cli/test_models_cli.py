from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier


@pytest.fixture
def project(tmp_path: Path, datasets: Path, cli: Callable[..., Any]) -> Path:
    frame = pd.read_csv(datasets / "elec2.csv.gz")
    frame.iloc[:3000].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[3000:5000].to_csv(tmp_path / "holdout.csv", index=False)
    X, y = frame.iloc[:3000].drop(columns=["class"]), frame.iloc[:3000]["class"]
    joblib.dump(LogisticRegression(max_iter=500).fit(X, y), tmp_path / "lr.joblib")
    joblib.dump(
        DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), tmp_path / "stump.joblib"
    )
    for name, path in (("train", "train.csv"), ("holdout", "holdout.csv")):
        assert cli("data", "add", path, "--name", name, cwd=tmp_path).returncode == 0
    return tmp_path


def test_register_alias_compare_card_verify(cli: Callable[..., Any], project: Path) -> None:
    first = cli(
        "models",
        "register",
        "elec",
        "stump.joblib",
        "--flavor",
        "sklearn",
        "--data",
        "train:1",
        "--target",
        "class",
        "--json",
        cwd=project,
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["uri"] == "models:/elec/1"
    second = json.loads(
        cli(
            "models",
            "register",
            "elec",
            "lr.joblib",
            "--flavor",
            "sklearn",
            "--data",
            "train",
            "--target",
            "class",
            "--json",
            cwd=project,
        ).stdout
    )
    assert set(second) == {"name", "version", "uri", "sha256"} and second["version"] == 2
    assert (
        cli("models", "alias", "elec", "1", "champion", "--reason", "first", cwd=project).returncode
        == 0
    )
    compared = cli(
        "models", "compare", "elec", "2", "1", "--data", "holdout", "--json", cwd=project
    )
    result = json.loads(compared.stdout)
    assert {"metric", "difference", "ci_low", "ci_high", "p_value", "promote"} <= set(result)
    assert (
        cli(
            "models",
            "alias",
            "elec",
            "2",
            "champion",
            "--reason",
            "won the comparison",
            cwd=project,
        ).returncode
        == 0
    )
    moves = json.loads(cli("models", "history", "elec", "champion", "--json", cwd=project).stdout)
    assert [(m["from_version"], m["to_version"]) for m in moves] == [(None, 1), (1, 2)]
    shown = json.loads(cli("models", "show", "elec@champion", "--json", cwd=project).stdout)
    assert shown["version"] == 2 and shown["aliases"] == ["champion"]
    card = cli("models", "card", "elec/2", "--html", "card.html", cwd=project)
    assert card.returncode == 0 and "## Alias history" in card.stdout
    assert "won the comparison" in (project / "card.html").read_text()
    assert cli("models", "verify", "elec/2", cwd=project).returncode == 0
    artifact = next(
        (project / ".driftline" / "artifacts" / "sha256" / second["sha256"][:2]).glob(
            second["sha256"][2:]
        )
    )
    artifact.write_bytes(artifact.read_bytes()[:-1])
    broken = cli("models", "verify", "elec/2", cwd=project)
    assert broken.returncode == 1 and str(artifact) in broken.stderr


def test_register_refuses_bad_input(cli: Callable[..., Any], project: Path) -> None:
    wrong = cli("models", "register", "elec", "train.csv", "--flavor", "sklearn", cwd=project)
    assert wrong.returncode == 2 and "not a loadable sklearn model" in wrong.stderr
    typo = cli(
        "models",
        "register",
        "elec",
        "lr.joblib",
        "--flavor",
        "sklearn",
        "--data",
        "train",
        "--target",
        "klass",
        cwd=project,
    )
    assert typo.returncode == 2 and "'klass'" in typo.stderr
    assert "Traceback" not in wrong.stderr + typo.stderr
    missing = cli("models", "alias", "elec", "3", "champion", "--reason", "x", cwd=project)
    assert missing.returncode == 3


def test_train_from_a_declared_pipeline(cli: Callable[..., Any], project: Path) -> None:
    (project / "pipeline_code.py").write_text(
        textwrap.dedent("""
        from sklearn.linear_model import LogisticRegression

        def train(frame, params):
            model = LogisticRegression(C=params["C"], max_iter=500)
            return model.fit(frame.drop(columns=["class"]), frame["class"])
        """)
    )
    (project / "driftline.yaml").write_text(
        textwrap.dedent("""
        name: elec
        entry_point: pipeline_code:train
        data: train:1
        target: class
        params: {C: 0.5}
        evaluation: {holdout: 0.25, slices: [day]}
        """)
    )
    result = cli("train", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {"run_id", "status", "model", "version", "metrics"}
    assert summary["status"] == "completed" and summary["metrics"]["accuracy"] > 0.5
    (project / "driftline.yaml").write_text("name: elec\nentry_point: nope:train\n")
    bad = cli("train", cwd=project)
    assert bad.returncode == 2 and "data: Field required" in bad.stderr
