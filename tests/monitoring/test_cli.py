"""``driftline alerts ...`` and ``driftline monitor export ...`` run in-process."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftline import Workspace
from driftline.cli import main
from driftline.monitoring import AlertManager, RetryPolicy, WebhookChannel, presets
from driftline.monitoring.catalogue import CATALOGUE, metric_names_in
from driftline.testing.channel_checks import VirtualTime


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def home(tmp_path: Path, http_receiver: Any) -> Path:
    """A workspace with one resolved alert and one firing alert whose webhook fails."""
    home = tmp_path / "ws"
    time = VirtualTime()
    broken = WebhookChannel(
        http_receiver.url("/status/503"),
        name="ops-hook",
        retry=RetryPolicy(max_attempts=2),
        sleep=time.sleep,
        monotonic=time.monotonic,
    )
    now = [datetime.now(UTC) - timedelta(minutes=10)]
    with Workspace.open(home=home) as ws:
        manager = AlertManager.from_workspace(
            ws, rules=[presets.feature_drift(threshold=0.2)], channels=[broken],
            clock=lambda: now[0],
        )  # fmt: skip
        for feature, values in (("age", [0.5, 0.1]), ("income", [0.6, 0.7])):
            manager.metrics.record(
                "driftline_feature_drift_score", values[0], labels={"feature": feature},
                time=now[0],
            )  # fmt: skip
        manager.evaluate()
        now[0] += timedelta(minutes=1)
        for feature, value in (("age", 0.1), ("income", 0.7)):
            manager.metrics.record(
                "driftline_feature_drift_score", value, labels={"feature": feature}, time=now[0]
            )
        manager.evaluate()
    return home


def test_alerts_list_json_shows_states_and_delivery_status(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    code, out, _ = _run(capsys, "--home", str(home), "alerts", "list", "--json")
    assert code == 0
    rows = {row["labels"]["feature"]: row for row in json.loads(out)}
    assert rows["age"]["state"] == "resolved" and rows["income"]["state"] == "firing"
    (delivery,) = rows["income"]["deliveries"]
    assert delivery["channel"] == "ops-hook" and delivery["event"] == "firing"
    assert delivery["status"] == "failed" and delivery["attempts"] == 2
    assert delivery["status_code"] == 503 and "HTTP 503" in delivery["error"]
    assert delivery["failed_attempts_total"] == 2  # two cycles, each failed
    code, out, _ = _run(
        capsys, "--home", str(home), "alerts", "list", "--state", "firing", "--json"
    )
    assert [r["labels"]["feature"] for r in json.loads(out)] == ["income"]
    code, out, _ = _run(capsys, "--home", str(home), "alerts", "list")
    assert code == 0 and "alerts (all)" in out and "failed" in out  # a table for people


def test_alerts_silence_and_list_silences(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    code, out, _ = _run(
        capsys, "--home", str(home), "alerts", "silence", "FeatureDrift", "--for", "2h",
        "--reason", "retraining", "--match", "feature=income", "--json",
    )  # fmt: skip
    assert code == 0
    made = json.loads(out)
    span = datetime.fromisoformat(made["expires_at"]) - datetime.fromisoformat(made["starts_at"])
    assert span == timedelta(hours=2)
    assert made["rule"] == "FeatureDrift" and made["matchers"] == {"feature": "income"}
    assert made["reason"] == "retraining" and made["rule_has_alerts"] is True
    code, out, _ = _run(
        capsys, "--home", str(home), "alerts", "list", "--json", "--state", "firing"
    )
    assert json.loads(out)[0]["silenced_by"] == [made["id"]]
    code, out, _ = _run(capsys, "--home", str(home), "alerts", "silences", "--json")
    assert [s["id"] for s in json.loads(out)] == [made["id"]]
    assert _run(capsys, "--home", str(home), "alerts", "unsilence", made["id"])[0] == 0
    code, out, _ = _run(capsys, "--home", str(home), "alerts", "silences", "--json")
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("alerts", "silence", "FeatureDrift", "--for", "a while"),
            2,
            "'a while' is not a duration",
        ),
        (("alerts", "list", "--state", "burning"), 2, "--state 'burning' is not one of"),
        (("alerts", "silence", "X", "--for", "1h", "--match", "oops"), 2, "write LABEL=VALUE"),
        (("alerts", "unsilence", "nope"), 3, "silence 'nope' not found"),
    ],
)
def test_alerts_cli_errors(
    capsys: pytest.CaptureFixture[str], home: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    got, _, err = _run(capsys, "--home", str(home), *args)
    assert got == code and message in err and "Traceback" not in err


def test_export_prometheus_rules_passes_promtool(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "rules.yaml"
    code, stdout, _ = _run(
        capsys, "monitor", "export", "prometheus-rules", str(out), "--model", "fraud", "--json"
    )
    assert code == 0 and len(json.loads(stdout)["rules"]) == 9
    assert all(
        'model="fraud"' in r["expr"] for r in yaml.safe_load(out.read_text())["groups"][0]["rules"]
        if r["labels"]["category"] not in ("system",)
    )  # fmt: skip
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package 'prometheus')")
    checked = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_export_rules_from_a_rules_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "mine.yaml"
    source.write_text(
        "rules:\n  - {name: LowAcc, metric: driftline_model_accuracy, op: '<', threshold: 0.8}\n"
    )
    out = tmp_path / "rules.yaml"
    code, _, _ = _run(
        capsys, "monitor", "export", "prometheus-rules", str(out), "--rules", str(source)
    )
    assert code == 0
    (rule,) = yaml.safe_load(out.read_text())["groups"][0]["rules"]
    assert rule["expr"] == "driftline_model_accuracy < 0.8"
    source.write_text("rules:\n  - {name: LowAcc, metric: driftline_acc, op: '<', threshold: 1}\n")
    code, _, err = _run(
        capsys, "monitor", "export", "prometheus-rules", str(out), "--rules", str(source)
    )
    assert code == 2 and "mine.yaml" in err and "rule 'LowAcc'" in err and "driftline_acc" in err


def test_export_grafana(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "dash.json"
    code, _, _ = _run(capsys, "monitor", "export", "grafana", str(out), "--uid", "ml-prod")
    assert code == 0
    board = json.loads(out.read_text())
    assert board["id"] is None and board["uid"] == "ml-prod"
    exposed = CATALOGUE.exposed_names()
    for panel in board["panels"]:
        for target in panel["targets"]:
            assert metric_names_in(target["expr"]) <= exposed
    code, _, err = _run(capsys, "monitor", "export", "grafana", str(out), "--uid", "bad uid!")
    assert code == 2 and "uid 'bad uid!'" in err
