"""Routing policies from the JSON an operator sends to ``PUT /v1/admin/models/{name}/routing``.

::

    {"policy": "default"}                                  follow the first reference
    {"policy": "single", "version": 3}
    {"policy": "ab", "arms": {"control": [3, 0.5], "treatment": [4, 0.5]}}
    {"policy": "shadow", "primary": 3, "shadow": 4, "percent": 0.25}
    {"policy": "canary", "stable": 3, "canary": 4, "steps": [0.1, 0.5, 1.0],
     "bake_time_s": 600, "window_s": 300,
     "slo": {"max_error_rate": 0.01, "max_p99_latency_s": 0.5, "max_disagreement": 0.2,
             "min_requests": 100}}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from driftline.exceptions import ValidationError
from driftline.serving.routing import ABSplit, Canary, CanarySLO, RoutingPolicy, Shadow, Single

__all__ = ["policy_from_spec"]

_SLO_FIELDS = ("max_error_rate", "max_p99_latency_s", "max_disagreement", "min_requests")


def policy_from_spec(spec: Any) -> RoutingPolicy | Canary | None:
    """The policy described by ``spec`` (None for ``default``); ValidationError naming the field."""
    if not isinstance(spec, Mapping):
        raise ValidationError("routing must be a JSON object with a 'policy' field")
    kind = spec.get("policy")
    builders = {
        "default": lambda s: None,
        "single": lambda s: Single(_field(s, "version")),
        "ab": _ab,
        "shadow": lambda s: Shadow(
            primary=_field(s, "primary"),
            shadow=_field(s, "shadow"),
            percent=_field(s, "percent"),
        ),
        "canary": _canary,
    }
    if not isinstance(kind, str) or kind not in builders:
        raise ValidationError(
            f"routing 'policy' must be one of {', '.join(builders)}, got {kind!r}"
        )
    try:
        return builders[kind](spec)
    except (TypeError, OverflowError) as exc:  # a field of the wrong JSON type or size
        raise ValidationError(f"routing {kind}: {exc}") from None


def _field(spec: Mapping[str, Any], name: str) -> Any:
    if name not in spec:
        raise ValidationError(f"routing {spec.get('policy')}: field {name!r} is required")
    return spec[name]


def _ab(spec: Mapping[str, Any]) -> ABSplit:
    arms = _field(spec, "arms")
    if not isinstance(arms, Mapping):
        raise ValidationError("routing ab: 'arms' must map arm names to [version, weight]")
    return ABSplit({str(k): tuple(v) if isinstance(v, list) else v for k, v in arms.items()})


def _canary(spec: Mapping[str, Any]) -> Canary:
    slo_spec = spec.get("slo") or {}
    if not isinstance(slo_spec, Mapping):
        raise ValidationError("routing canary: 'slo' must be an object")
    unknown = sorted(set(slo_spec) - set(_SLO_FIELDS))
    if unknown:
        raise ValidationError(
            f"routing canary: unknown slo field(s) {', '.join(unknown)} "
            f"(known: {', '.join(_SLO_FIELDS)})"
        )
    steps = spec.get("steps", [0.1, 0.5, 1.0])
    if not isinstance(steps, list):
        raise ValidationError("routing canary: 'steps' must be a list of shares in (0, 1]")
    window = spec.get("window_s")
    return Canary(
        stable=_field(spec, "stable"),
        canary=_field(spec, "canary"),
        steps=tuple(steps),
        bake_time=_seconds(spec.get("bake_time_s", 600), "bake_time_s"),
        slo=CanarySLO(**slo_spec),
        window=None if window is None else _seconds(window, "window_s"),
    )


def _seconds(value: Any, name: str) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(f"routing canary: {name!r} must be a number of seconds > 0")
    return timedelta(seconds=value)
