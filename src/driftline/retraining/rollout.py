"""Promoting a challenger: straight alias move, or a canary through a running server.

A canary is started with the server's admin API (``PUT /v1/admin/models/{name}/routing``);
the server routes a growing share of traffic to the challenger, judges it against its SLO on
real requests and rolls it back by itself when it breaks one. The promoter polls the
server's ``/v1/models/{name}`` until the canary is promoted (then moves the ``champion``
alias, which every server hot-swaps to) or rolled back (the champion never stopped serving).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from driftline.exceptions import UnavailableError

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["CanaryPromoter", "DirectPromoter", "Promoter", "Rollout"]


@dataclass(frozen=True)
class Rollout:
    """How a promotion ended."""

    outcome: str  # "promoted" or "rolled_back"
    reason: str
    history: tuple[dict[str, Any], ...] = ()


class Promoter(Protocol):
    """Moves a challenger into production, or not."""

    def canary_active(self, model: str) -> bool: ...
    def promote(self, model: str, champion: int, challenger: int, *, reason: str) -> Rollout: ...


class DirectPromoter:
    """Moves the ``champion`` alias at once (no server to canary through)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def canary_active(self, model: str) -> bool:
        """Never: there is no canary."""
        return False

    def promote(self, model: str, champion: int, challenger: int, *, reason: str) -> Rollout:
        """Move the alias, with the reason in its history."""
        self.workspace.registry.promote(model, challenger, reason=reason)
        return Rollout("promoted", f"champion moved from v{champion} to v{challenger}")


class CanaryPromoter:
    """Runs a canary on a live server, then moves the alias or leaves it."""

    def __init__(
        self,
        workspace: Workspace,
        base_url: str,
        *,
        token: str,
        steps: tuple[float, ...] = (0.1, 0.5, 1.0),
        bake_time_s: float = 600.0,
        slo: dict[str, Any] | None = None,
        poll_s: float = 1.0,
        timeout_s: float = 3600.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.workspace = workspace
        self.steps = steps
        self.bake_time_s = bake_time_s
        self.slo = slo or {"max_error_rate": 0.01, "max_p99_latency_s": 1.0, "min_requests": 50}
        self.poll_s = poll_s
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.client = client or httpx.Client(
            base_url=base_url, timeout=10.0, headers={"Authorization": f"Bearer {token}"}
        )

    def canary_active(self, model: str) -> bool:
        """Whether the server is baking a canary of ``model``."""
        state = self._status(model).get("canary") or {}
        return bool(state) and state.get("state") not in ("promoted", "rolled_back")

    def promote(self, model: str, champion: int, challenger: int, *, reason: str) -> Rollout:
        """Canary the challenger; on success move ``champion``; return how it ended."""
        spec = {
            "policy": "canary",
            "stable": champion,
            "canary": challenger,
            "steps": list(self.steps),
            "bake_time_s": self.bake_time_s,
            "slo": self.slo,
        }
        self._call("PUT", f"/v1/admin/models/{model}/routing", json=spec)
        history: list[dict[str, Any]] = []
        waited = 0.0
        while waited <= self.timeout_s:
            state = self._status(model).get("canary") or {}
            if (
                not history
                or history[-1].get("state") != state.get("state")
                or history[-1].get("percent") != state.get("percent")
            ):
                history.append(state)
            if state.get("state") == "promoted":
                self.workspace.registry.promote(
                    model, challenger, reason=f"{reason}; canary: {state['reason']}"
                )
                self._call("PUT", f"/v1/admin/models/{model}/routing", json={"policy": "default"})
                return Rollout("promoted", state["reason"], tuple(history))
            if state.get("state") == "rolled_back":
                self._call("PUT", f"/v1/admin/models/{model}/routing", json={"policy": "default"})
                return Rollout("rolled_back", state["reason"], tuple(history))
            self.sleep(self.poll_s)
            waited += self.poll_s
        self._call(
            "POST",
            f"/v1/admin/models/{model}/canary/rollback",
            json={"reason": "canary did not finish in time"},
        )
        return Rollout("rolled_back", f"no verdict within {self.timeout_s:.0f} s", tuple(history))

    def _status(self, model: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/models/{model}").json())

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise UnavailableError(f"model server unreachable for {method} {path}: {exc}") from exc
        if response.status_code >= 400:
            raise UnavailableError(
                f"model server refused {method} {path}: {response.status_code} "
                f"{response.text[:200]}"
            )
        return response
