"""Routing policies: which model version answers a request, and where it is mirrored.

Every policy is a small object with ``decide(key, draw) -> RouteDecision``: ``draw`` is a
uniform number in [0, 1) supplied by the caller (so tests and replays are deterministic) and
``key`` an optional request key that makes the choice sticky across requests, workers and
restarts. Policies do no I/O and read no clock of their own; the canary rollout takes the
times of its observations as arguments or from an injected ``clock``.

- :class:`Single`: one version answers everything.
- :class:`ABSplit`: weighted arms, sticky by key.
- :class:`Shadow`: the primary answers; a share of requests is mirrored to another version.
- :class:`Canary` + :class:`CanaryRollout`: a canary at growing shares, stepped up after each
  bake, promoted at the end, rolled back automatically when it breaks its :class:`CanarySLO`.
"""

from driftline.serving.routing._ab import ABSplit
from driftline.serving.routing._canary import Canary, CanaryAnalysis, CanarySLO, Outcome, analyze
from driftline.serving.routing._decision import Clock, RouteDecision, RoutingPolicy, key_fraction
from driftline.serving.routing._rollout import CanaryRollout, CanaryState, RolloutPhase
from driftline.serving.routing._shadow import Shadow
from driftline.serving.routing._single import Single

__all__ = [
    "ABSplit",
    "Canary",
    "CanaryAnalysis",
    "CanaryRollout",
    "CanarySLO",
    "CanaryState",
    "Clock",
    "Outcome",
    "RolloutPhase",
    "RouteDecision",
    "RoutingPolicy",
    "Shadow",
    "Single",
    "analyze",
    "key_fraction",
]
