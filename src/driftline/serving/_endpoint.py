"""Everything served under one model name: its references, loaded versions and routing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from driftline.exceptions import NotFoundError, UnavailableError
from driftline.registry import ModelRef
from driftline.serving._batching import MicroBatcher
from driftline.serving._runtime import ServedVersion
from driftline.serving.routing import (
    ABSplit,
    Canary,
    CanaryRollout,
    RouteDecision,
    RoutingPolicy,
    Shadow,
    Single,
)

__all__ = ["ModelEndpoint", "RefState"]


@dataclass
class RefState:
    """One served reference (``models:/fraud@champion``) and how loading it went."""

    ref: ModelRef
    version: int | None = None
    status: str = "loading"  # loading | ready | failed
    error: str | None = None
    checked_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "uri": self.ref.uri,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "checked_at": self.checked_at,
        }


@dataclass
class ModelEndpoint:
    """The versions of one model that are loaded, and the policy that picks among them.

    With no explicit policy the first reference's version answers everything
    (``Single``), so an alias move changes what is served. An explicit policy (A/B, shadow,
    canary) names versions and keeps them loaded until it is replaced.
    """

    name: str
    refs: list[RefState]
    versions: dict[int, ServedVersion] = field(default_factory=dict)
    batchers: dict[int, MicroBatcher] = field(default_factory=dict)
    policy: RoutingPolicy | None = None
    rollout: CanaryRollout | None = None

    @property
    def primary(self) -> int | None:
        """The version the first reference resolves to (what the default policy serves)."""
        return self.refs[0].version

    def decide(self, key: str | None, draw: float) -> RouteDecision:
        """Route one request with the explicit policy, or to the primary version."""
        policy = self.rollout or self.policy
        if policy is not None:
            return policy.decide(key, draw)
        primary = self.primary
        if primary is None or primary not in self.versions:
            raise UnavailableError(self._not_ready_message())
        return RouteDecision(primary, "primary")

    def served(self, version: int) -> ServedVersion:
        """The loaded version ``version``; 404 if it is not served, 503 if not loaded yet."""
        served = self.versions.get(version)
        if served is not None and served.warm:
            return served
        if any(r.version == version for r in self.refs) or version in self.policy_versions():
            raise UnavailableError(f"model {self.name} v{version} is not loaded yet; retry")
        raise NotFoundError(
            f"model {self.name} version {version} is not served here (served: "
            f"{', '.join(str(v) for v in sorted(self.versions)) or 'none'})"
        )

    def policy_versions(self) -> set[int]:
        """Versions the explicit policy may route or mirror to."""
        policy = self.rollout.canary if self.rollout is not None else self.policy
        return versions_of(policy)

    def needed(self) -> set[int]:
        """Versions that must stay loaded: every reference's and the policy's."""
        return {r.version for r in self.refs if r.version is not None} | self.policy_versions()

    @property
    def ready(self) -> bool:
        """Every reference resolved, loaded and warm."""
        return all(
            r.version is not None and r.version in self.versions and self.versions[r.version].warm
            for r in self.refs
        )

    def status(self) -> dict[str, Any]:
        """A JSON-ready summary for ``/v1/models``."""
        out: dict[str, Any] = {
            "name": self.name,
            "ready": self.ready,
            "primary_version": self.primary,
            "versions": sorted(self.versions),
            "refs": [r.to_dict() for r in self.refs],
            "routing": describe_policy(self.rollout or self.policy),
        }
        if self.rollout is not None:
            state = self.rollout.state
            out["canary"] = {
                "state": state.state,
                "percent": state.percent,
                "step": state.step,
                "reason": state.reason,
                "at": state.at.isoformat(),
            }
        return out

    def _not_ready_message(self) -> str:
        ref = self.refs[0]
        if ref.status == "failed":
            return f"model {self.name} ({ref.ref.uri}) failed to load: {ref.error}"
        return f"model {self.name} ({ref.ref.uri}) is still loading; retry shortly"


def versions_of(policy: Any) -> set[int]:
    """Every version a routing policy can send traffic or mirrors to."""
    if policy is None:
        return set()
    if isinstance(policy, CanaryRollout):
        policy = policy.canary
    if isinstance(policy, Single):
        return {policy.version}
    if isinstance(policy, ABSplit):
        return {version for version, _ in policy.arms.values()}
    if isinstance(policy, Shadow):
        return {policy.primary, policy.shadow}
    if isinstance(policy, Canary):
        return {policy.stable, policy.canary}
    return set()


def describe_policy(policy: Any) -> dict[str, Any]:
    """A JSON-ready description of a routing policy (``default`` when none is set)."""
    if policy is None:
        return {"policy": "default"}
    if isinstance(policy, CanaryRollout):
        policy = policy.canary
    if isinstance(policy, Single):
        return {"policy": "single", "version": policy.version}
    if isinstance(policy, ABSplit):
        return {"policy": "ab", "arms": {k: list(v) for k, v in policy.arms.items()}}
    if isinstance(policy, Shadow):
        return {
            "policy": "shadow",
            "primary": policy.primary,
            "shadow": policy.shadow,
            "percent": policy.percent,
        }
    if isinstance(policy, Canary):
        return {
            "policy": "canary",
            "stable": policy.stable,
            "canary": policy.canary,
            "steps": list(policy.steps),
            "bake_time_s": policy.bake_time.total_seconds(),
        }
    return {"policy": type(policy).__name__}
