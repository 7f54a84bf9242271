"""Alert rules: comparisons, durations, templates, catalogue checks, YAML files, presets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from driftline.exceptions import NotFoundError, ValidationError
from driftline.monitoring import (
    CATALOGUE,
    AlertRule,
    MetricSpec,
    dump_rules,
    load_rules,
    presets,
    rules_from_data,
)

DRIFT = "driftline_feature_drift_score"


@pytest.mark.parametrize(
    ("op", "below", "equal", "above"),
    [
        (">", False, False, True),
        (">=", False, True, True),
        ("<", True, False, False),
        ("<=", True, True, False),
        ("==", False, True, False),
        ("!=", True, False, True),
    ],
)
def test_comparisons(op: str, below: bool, equal: bool, above: bool) -> None:
    rule = AlertRule("R", DRIFT, op, 0.5)
    assert (rule.holds(0.4), rule.holds(0.5), rule.holds(0.6)) == (below, equal, above)


@pytest.mark.parametrize(
    ("spelled", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("2d", 172800), ("250ms", 0.25), (45, 45)],
)
def test_for_durations(spelled: Any, seconds: float) -> None:
    assert AlertRule("R", DRIFT, ">", 0.2, for_=spelled).for_duration == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "feature drift"}, "rule name 'feature drift' is not valid"),
        ({"op": "=>"}, "rule 'R': key 'op': '=>' is not a comparison"),
        ({"threshold": float("nan")}, "rule 'R': key 'threshold' must be finite"),
        ({"threshold": "high"}, "rule 'R': key 'threshold' must be a number"),
        ({"severity": "page"}, "rule 'R': key 'severity': 'page' is not one of"),
        ({"for_": "5 minutes"}, "rule 'R': key 'for': '5 minutes' is not a duration"),
        ({"for_": -5}, "rule 'R': key 'for'"),
        ({"metric": "drift score"}, "rule 'R': key 'metric'"),
        ({"matchers": {"model": 3}}, "rule 'R': key 'matchers': label 'model' must be a string"),
        ({"labels": {"team-x": "a"}}, "rule 'R': key 'labels': label name 'team-x'"),
        ({"annotations": {"summary": "{valu}"}}, "annotation 'summary': '{valu}'"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_rules_name_the_rule_and_key(kwargs: dict[str, Any], match: str) -> None:
    base: dict[str, Any] = {"name": "R", "metric": DRIFT, "op": ">", "threshold": 0.2}
    with pytest.raises(ValidationError, match=match):
        AlertRule(**{**base, **kwargs})


def test_annotation_templates() -> None:
    rule = AlertRule(
        "R", DRIFT, ">", 0.2,
        annotations={"summary": "{labels.feature} at {value} > {threshold} ({rule}, {metric})",
                     "description": "literal {{braces}} and {labels.missing}"},
    )  # fmt: skip
    assert rule.render("summary", {"feature": "age"}, 0.123456) == (
        f"age at 0.1235 > 0.2 (R, {DRIFT})"
    )
    assert rule.render("description", {}, 1.0) == "literal {braces} and <no value>"
    default = AlertRule("D", DRIFT, "<=", 3.0)
    assert default.render("summary", {}, 2.5) == f"D: {DRIFT} is 2.5 (<= 3)"


def test_unknown_metric_names_the_rule_and_the_closest_known_name() -> None:
    rule = AlertRule("Drifty", "driftline_feature_drift_scor", ">", 0.2)
    with pytest.raises(
        ValidationError,
        match="rule 'Drifty': unknown metric 'driftline_feature_drift_scor'; "
        "did you mean 'driftline_feature_drift_score'",
    ):
        rule.check(CATALOGUE)
    with pytest.raises(ValidationError, match=r"unknown metric 'zzz'$"):
        AlertRule("R", "zzz", ">", 1).check(CATALOGUE)


def test_catalogue_check_of_labels_and_kinds() -> None:
    with pytest.raises(ValidationError, match=r"has no label 'colour'.*model, version, feature"):
        AlertRule("R", DRIFT, ">", 0.2, matchers={"colour": "red"}).check()
    with pytest.raises(ValidationError, match=r"is a histogram.*p99"):
        AlertRule("R", "driftline_request_duration_seconds", ">", 0.2).check()
    custom = CATALOGUE.with_metrics(
        MetricSpec("shop_revenue_per_prediction", "gauge", ("model",), "Revenue.", "business")
    )
    AlertRule("Revenue", "shop_revenue_per_prediction", "<", 0.1).check(custom)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def test_yaml_round_trip(tmp_path: Path) -> None:
    rules = [*presets.default_rules(model="fraud"), AlertRule("Eq", DRIFT, "==", 1, for_="90s")]
    path = tmp_path / "out.yaml"
    dump_rules(rules, path)
    assert load_rules(path) == rules


def test_yaml_with_int_label_values(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "rules:\n  - {name: A, metric: driftline_model_accuracy, op: '<', threshold: 0.8,\n"
        "     for: 10m, matchers: {version: 3}, severity: critical}\n",
    )
    (rule,) = load_rules(path)
    assert rule.matchers == {"version": "3"} and rule.for_duration == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "rules:\n  - {name: A, metric: driftline_model_accuracy, op: '<', threshhold: 1}\n",
            r"rules.yaml: rules\[0\] \(rule 'A'\): unknown key 'threshhold'",
        ),
        (
            "rules:\n  - {name: A, metric: driftline_model_accuracy, op: '<'}\n",
            r"rules\[0\] \(rule 'A'\): missing key 'threshold'",
        ),
        (
            "rules:\n  - {name: A, metric: driftline_model_accuracy, op: '<', threshold: x}\n",
            r"rules.yaml: rules\[0\]: rule 'A': key 'threshold' must be a number",
        ),
        (
            "rules:\n  - {name: A, metric: driftline_model_acuracy, op: '<', threshold: 1}\n",
            "rules.yaml: rule 'A': unknown metric 'driftline_model_acuracy'; did you mean "
            "'driftline_model_accuracy'",
        ),
        ("rules: [\n", r"rules.yaml: not valid YAML \(line 2"),
        ("alerts: []\n", "unknown top-level key 'alerts'"),
        ("rules:\n  - just a string\n", r"rules\[0\]: a rule is a mapping"),
        (
            "rules:\n  - {name: A, metric: driftline_model_accuracy, op: '<', threshold: 1}\n"
            "  - {name: A, metric: driftline_model_accuracy, op: '>', threshold: 1}\n",
            "rule 'A' is defined twice",
        ),
        (
            "rules:\n  - {name: A, metric: driftline_model_accuracy, op: '<', threshold: 1,\n"
            "     labels: [a]}\n",
            "key 'labels' must be a mapping",
        ),
    ],
    ids=["unknown-key", "missing", "type", "metric", "yaml", "top", "not-map", "twice", "labels"],
)
def test_yaml_errors_name_file_rule_and_key(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        load_rules(_write(tmp_path, text))


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.yaml"):
        load_rules(tmp_path / "nope.yaml")


def test_custom_metrics_load_without_a_catalogue() -> None:
    data = {"rules": [{"name": "Rev", "metric": "shop_revenue", "op": "<", "threshold": 1}]}
    with pytest.raises(ValidationError, match="unknown metric 'shop_revenue'"):
        rules_from_data(data)
    assert rules_from_data(data, catalogue=None)[0].metric == "shop_revenue"


def test_presets_use_catalogue_metrics_and_their_thresholds() -> None:
    rules = presets.default_rules(model="fraud")
    assert len({r.name for r in rules}) == len(rules) == 9
    for rule in rules:
        rule.check(CATALOGUE)
        assert rule.holds(rule.threshold + 1e-6) and not rule.holds(rule.threshold)
    drift = presets.feature_drift(threshold=0.3, model="fraud", feature="age", for_="15m")
    assert drift.matchers == {"model": "fraud", "feature": "age"}
    assert drift.for_duration == timedelta(minutes=15)
    assert presets.accuracy_drop().matchers == {"metric": "accuracy"}
