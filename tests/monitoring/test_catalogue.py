"""The catalogue lists exactly what the server and gateway expose, with types and labels."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from driftline.exceptions import NotFoundError, ValidationError
from driftline.monitoring import CATALOGUE, MetricCatalogue, MetricSpec

_KIND = {"counter": "counter", "gauge": "gauge", "histogram": "histogram"}


def _exposed(registry: CollectorRegistry, owner: Any) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Exposed name -> (type, label names) of every metric in ``registry``."""
    labels = {
        w._name: tuple(w._labelnames)
        for w in vars(owner).values()
        if isinstance(w, MetricWrapperBase)
    }
    out = {}
    for family in registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        sample_labels = {k for s in family.samples for k in s.labels if k != "le"}
        out[name] = (family.type, labels.get(family.name, tuple(sorted(sample_labels))))
    return out


def _catalogued(source: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {s.name: (s.kind, s.labels) for s in CATALOGUE if s.source == source}


def test_serving_metrics_are_catalogued_exactly() -> None:
    from driftline.serving._metrics import ServingMetrics

    metrics = ServingMetrics()
    assert _exposed(metrics.registry, metrics) == _catalogued("serving")


def test_gateway_metrics_are_catalogued_exactly() -> None:
    from driftline.gateway.balancer import Balancer
    from driftline.gateway.metrics import GatewayMetrics

    metrics = GatewayMetrics(Balancer(["http://127.0.0.1:9"]))
    exposed = _exposed(metrics.registry, metrics)
    catalogued = _catalogued("gateway")
    assert exposed.keys() == catalogued.keys()
    for name, (kind, labels) in exposed.items():
        assert catalogued[name][0] == kind
        assert set(catalogued[name][1]) == set(labels), name


def test_alert_notification_counter_is_catalogued(sqlite_workspace: Any) -> None:
    from driftline.monitoring import AlertManager

    registry = CollectorRegistry()
    manager = AlertManager.from_workspace(sqlite_workspace, rules=[], registry=registry)
    assert _exposed(registry, manager) == {
        "driftline_alert_notifications_total": ("counter", ("channel", "result"))
    }


def test_derived_metrics_have_promql_over_exposed_names_only() -> None:
    exposed = CATALOGUE.exposed_names()
    derived = [s for s in CATALOGUE if s.kind == "derived"]
    assert {s.name for s in derived} >= {
        "driftline_request_error_rate",
        "driftline_request_latency_p99_seconds",
    }
    for spec in derived:
        for matchers in ({}, {spec.labels[0]: "fraud"}):
            CATALOGUE.check_promql(spec.selector(matchers), where=spec.name)
        assert spec.exposed_names == () and spec.name not in exposed


def test_catalogue_lookups_and_extension() -> None:
    assert CATALOGUE.get("driftline_feature_drift_score").labels == ("model", "version", "feature")
    with pytest.raises(NotFoundError, match="did you mean 'driftline_model_accuracy'"):
        CATALOGUE.get("driftline_model_acuracy")
    assert CATALOGUE.closest("zzzz") is None
    revenue = MetricSpec("shop_revenue", "gauge", ("model",), "Revenue per prediction.", "shop")
    bigger = CATALOGUE.with_metrics(revenue)
    assert "shop_revenue" in bigger and "shop_revenue" not in CATALOGUE
    assert len(bigger) == len(CATALOGUE) + 1
    assert "driftline_request_duration_seconds_bucket" in CATALOGUE.exposed_names()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("bad name", "gauge", (), "h", "s"), "not a valid Prometheus name"),
        (("x_count", "counter", (), "h", "s"), "end in _total"),
        (("x", "derived", (), "h", "s"), "promql is given for derived only"),
    ],
)
def test_bad_specs(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        MetricSpec(*args)


def test_duplicate_names_are_refused() -> None:
    spec = MetricSpec("a", "gauge", (), "h", "s")
    with pytest.raises(ValidationError, match="twice"):
        MetricCatalogue([spec, spec])
