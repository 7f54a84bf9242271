"""Promoting a challenger: straight alias move, or a canary through a running server.

A canary is started with the server's admin API (``PUT /v1/admin/models/{name}/routing``);
the server routes a growing share of traffic to the challenger, judges it against its SLO on
real requests and rolls it back by itself when it breaks one. The promoter polls the
server's ``/v1/models/{name}`` until the canary is promoted (then moves the ``champion``
alias, which every server hot-swaps to) or rolled back (the champion never stopped serving).

Neither promoter lets a fault escape as an exception: a challenger that cannot load, or a
server that refuses the canary or goes away in the middle of it, ends as a ``failed`` rollout
with the reason, and the ``champion`` alias stays where it was. Routing lives in the server's
memory, so a server that died and comes back serves the champion again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from driftline.exceptions import UnavailableError

if TYPE_CHECKING:
    from driftline.workspace import Workspace

__all__ = ["CanaryPromoter", "DirectPromoter", "Promoter", "Rollout"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rollout:
    """How a promotion ended."""

    outcome: str  # "promoted", "rolled_back" (the challenger broke its SLO) or "failed"
    reason: str
    history: tuple[dict[str, Any], ...] = ()


class Promoter(Protocol):
    """Moves a challenger into production, or not."""

    def canary_active(self, model: str) -> bool: ...
    def promote(self, model: str, champion: int, challenger: int, *, reason: str) -> Rollout: ...

    # Optional: ``reconcile(model, orphans) -> str | None`` ends routing a failed or
    # abandoned retrain left on a server (see CanaryPromoter.reconcile).


class DirectPromoter:
    """Moves the ``champion`` alias at once (no server to canary through)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def canary_active(self, model: str) -> bool:
        """Never: there is no canary."""
        return False

    def reconcile(self, model: str, orphans: set[int]) -> str | None:
        """Nothing to tidy: a direct promotion leaves no routing behind."""
        return None

    def promote(self, model: str, champion: int, challenger: int, *, reason: str) -> Rollout:
        """Move the alias, with the reason in its history, if the challenger loads."""
        try:
            self.workspace.registry.load(f"{model}/{challenger}")
        except Exception as exc:  # whatever its flavor raises: it must not become champion
            return Rollout(
                "failed",
                f"v{challenger} cannot load ({type(exc).__name__}: {exc}); "
                f"the champion stays v{champion}",
            )
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

    def reconcile(self, model: str, orphans: set[int]) -> str | None:
        """End a canary of one of ``orphans`` (challengers of retrains that failed or were
        abandoned) that the server still runs: its controller lost the server or died while
        the server kept baking it, and whatever the server concluded, the alias did not move.

        Returns what was done, or None when the server runs no such canary (or cannot be
        reached: the cycle finds that out by itself). A canary someone started by hand, of a
        version no retrain gave up on, is left alone.
        """
        try:
            status = self._status(model)
        except UnavailableError:
            return None
        routing, state = status.get("routing") or {}, status.get("canary") or {}
        version = routing.get("canary") if routing.get("policy") == "canary" else None
        if version not in orphans:
            return None
        if state.get("state") not in ("promoted", "rolled_back"):
            try:
                self._call(
                    "POST",
                    f"/v1/admin/models/{model}/canary/rollback",
                    json={
                        "reason": "its retrain ended without a verdict; no controller watches it"
                    },
                )
            except UnavailableError as exc:
                _log.warning("could not roll back the orphan canary of %s: %s", model, exc)
        self._default_routing(model)
        return (
            f"ended the orphan canary of v{version} (server state "
            f"{state.get('state') or 'unknown'}); routing back to the champion alias"
        )

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
        history: list[dict[str, Any]] = []
        try:
            self._call("PUT", f"/v1/admin/models/{model}/routing", json=spec)
            verdict = self._watch(model, history)
        except UnavailableError as exc:
            # The server refused the challenger or went away: end the canary if it is still
            # there; if it is not, its routing died with it.
            self._default_routing(model)
            return Rollout(
                "failed",
                f"canary of v{challenger} stopped: {exc}; the champion stays v{champion}",
                tuple(history),
            )
        if verdict is None:
            return Rollout(
                "rolled_back", f"no verdict within {self.timeout_s:.0f} s", tuple(history)
            )
        if verdict["state"] == "promoted":
            self.workspace.registry.promote(
                model, challenger, reason=f"{reason}; canary: {verdict.get('reason')}"
            )
        # Every server follows the alias; resetting this one's routing is housekeeping.
        self._default_routing(model)
        return Rollout(verdict["state"], str(verdict.get("reason") or ""), tuple(history))

    def _watch(self, model: str, history: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Poll until the canary is promoted or rolled back; ``None`` (after rolling it back)
        when it takes longer than ``timeout_s``."""
        waited = 0.0
        while waited <= self.timeout_s:
            state = self._status(model).get("canary") or {}
            if (
                not history
                or history[-1].get("state") != state.get("state")
                or history[-1].get("percent") != state.get("percent")
            ):
                history.append(state)
            if state.get("state") in ("promoted", "rolled_back"):
                return dict(state)
            self.sleep(self.poll_s)
            waited += self.poll_s
        self._call(
            "POST",
            f"/v1/admin/models/{model}/canary/rollback",
            json={"reason": "canary did not finish in time"},
        )
        self._default_routing(model)
        return None

    def _default_routing(self, model: str) -> None:
        try:
            self._call("PUT", f"/v1/admin/models/{model}/routing", json={"policy": "default"})
        except UnavailableError as exc:
            _log.warning("could not reset the routing of %s: %s", model, exc)

    @property
    def _url(self) -> str:
        return str(self.client.base_url).rstrip("/")

    def _status(self, model: str) -> dict[str, Any]:
        response = self._call("GET", f"/v1/models/{model}")
        try:
            return dict(response.json())
        except ValueError as exc:  # not JSON: a proxy's error page, or not our server
            raise UnavailableError(
                f"model server {self._url} answered GET /v1/models/{model} with non-JSON: "
                f"{response.text[:200]}"
            ) from exc

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise UnavailableError(
                f"model server {self._url} unreachable for {method} {path}: {exc}"
            ) from exc
        if response.status_code >= 400:
            raise UnavailableError(
                f"model server {self._url} refused {method} {path}: "
                f"{response.status_code} {response.text[:200]}"
            )
        return response
