from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from driftline import Workspace
from driftline.exceptions import ValidationError
from driftline.lineage import validate_event
from driftline.training import TrainingError


@pytest.fixture
def elec2(workspace: Workspace, datasets: Path):
    frame = pd.read_csv(datasets / "elec2.csv.gz").iloc[:3000]
    return workspace.datasets.add(frame, name="elec2-head")


def forest(frame: pd.DataFrame, params: dict[str, Any]) -> Any:
    model = RandomForestClassifier(
        n_estimators=params["trees"], random_state=params["seed"], n_jobs=1
    )
    return model.fit(frame.drop(columns=["class"]), frame["class"])


def test_a_run_registers_its_model_with_metrics_and_lineage(
    workspace: Workspace, elec2: Any
) -> None:
    result = workspace.train(
        forest, data=elec2.ref, name="elec", target="class", params={"trees": 20}, slices=["day"]
    )
    run, model = result.run, result.model_version
    assert run.status == "completed" and run.model_version_id == model.id
    assert run.params == {"trees": 20, "seed": 0}
    assert 0.5 < run.metrics["accuracy"] <= 1.0
    assert set(run.metrics["per_slice"]["day"]) == {str(d) for d in range(1, 8)}
    assert run.environment["packages"]["scikit-learn"]
    assert model.run_id == run.id and model.dataset_version_id == elec2.id
    assert model.signature is not None and "class" not in model.signature.columns
    upstream = workspace.lineage.upstream(model.id)
    assert {run.id, elec2.id} <= upstream.ids
    assert upstream.node(elec2.id).content_hash == elec2.sha256
    events = workspace.lineage.openlineage_events([run.id])
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert all(validate_event(e) == () for e in events)
    assert result.summary()["version"] == 1


def test_same_data_params_and_seed_give_the_same_predictions(
    workspace: Workspace, elec2: Any
) -> None:
    first = workspace.train(forest, data=elec2, name="elec", target="class", params={"trees": 15})
    second = workspace.train(forest, data=elec2, name="elec", target="class", params={"trees": 15})
    frame = workspace.datasets.load(elec2).drop(columns=["class"])
    a = workspace.registry.load(first.model_version)
    b = workspace.registry.load(second.model_version)
    np.testing.assert_array_equal(a.predict_proba(frame), b.predict_proba(frame))
    assert first.model_version.version + 1 == second.model_version.version


@pytest.mark.parametrize(
    ("train_fn", "match"),
    [
        (lambda frame, params: 1 / 0, "ZeroDivisionError"),
        (lambda frame, params: None, "returned no model"),
        (lambda frame, params: object(), "no flavor"),
    ],
    ids=["raises", "no-model", "unsaveable"],
)
def test_failed_runs_are_recorded_and_register_nothing(
    workspace: Workspace, elec2: Any, train_fn: Any, match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        workspace.train(train_fn, data=elec2, name="bad", target="class")
    [run] = workspace.training.list("bad")
    assert run.status == "failed" and run.error and run.model_version_id is None
    assert workspace.registry.list("bad") == []
    events = workspace.lineage.openlineage_events([run.id])
    assert events[-1]["eventType"] == "FAIL"
    assert workspace.audit.verify().intact


def test_training_errors_are_a_family(workspace: Workspace, elec2: Any) -> None:
    with pytest.raises(TrainingError):
        workspace.train(lambda f, p: 1 / 0, data=elec2, name="x", target="class")
    with pytest.raises(ValidationError, match="target column 'label'"):
        workspace.train(forest, data=elec2, name="x", target="label")


def test_user_metrics_are_kept(workspace: Workspace, elec2: Any) -> None:
    def fit(frame: pd.DataFrame, params: dict[str, Any]) -> Any:
        model = LogisticRegression(max_iter=300).fit(frame.drop(columns=["class"]), frame["class"])
        return model, {"train_rows": len(frame)}

    result = workspace.train(fit, data=elec2, name="lr", target="class", holdout=0.25)
    assert result.run.metrics["train_rows"] == 2250
    assert "roc_auc" in result.run.metrics
