"""Hot swap: resolve references, load and warm new versions off the loop, swap, drain.

A swap replaces the endpoint's version map with a new dict in one assignment on the event
loop, so every request sees the old map or the new one, never half of each. A replaced
version keeps answering the requests it already took; it is released when they are done
(or after ``drain_timeout_s``). A version that fails to load or warm changes nothing: the
old one keeps serving, and the failure shows in the log, in
``driftline_model_load_failures_total`` and in ``/v1/models``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from driftline.exceptions import DriftlineError
from driftline.registry import ModelRef, ModelVersion
from driftline.serving._endpoint import ModelEndpoint, RefState
from driftline.serving._runtime import ServedVersion
from driftline.store import iso_utc

if TYPE_CHECKING:
    from driftline.serving._server import ModelServer

__all__ = ["Swapper"]

_log = logging.getLogger("driftline.serving")


class Swapper:
    """Keeps each endpoint's loaded versions in step with its references and policy."""

    def __init__(self, server: ModelServer) -> None:
        self.server = server
        self._lock = asyncio.Lock()
        self._deployments: dict[tuple[str, int], str] = {}

    async def refresh(self, name: str | None = None) -> list[dict[str, Any]]:
        """Re-resolve every reference (of model ``name``) and swap in versions that moved."""
        async with self._lock:
            report = []
            for endpoint in self.server.endpoints.values():
                if name is not None and endpoint.name != name:
                    continue
                for state in endpoint.refs:
                    report.append(await self._refresh_ref(endpoint, state))
                await self.retire_unneeded(endpoint)
            return report

    async def ensure_loaded(self, endpoint: ModelEndpoint, versions: Iterable[int]) -> None:
        """Load (and warm) each of ``versions`` that is not loaded yet; errors propagate."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            for number in sorted(versions):
                if number in endpoint.versions:
                    continue
                ref = ModelRef(endpoint.name, version=number)
                record = await loop.run_in_executor(None, self.server.registry.get, ref)
                await self._load(endpoint, record, route="routing")

    async def retire_unneeded(self, endpoint: ModelEndpoint) -> None:
        """Take versions no reference or policy needs out of service, then drain them."""
        needed = endpoint.needed()
        for number, served in list(endpoint.versions.items()):
            if number in needed:
                continue
            endpoint.versions = {k: v for k, v in endpoint.versions.items() if k != number}
            endpoint.batchers = {k: v for k, v in endpoint.batchers.items() if k != number}
            served.idle = asyncio.Event()
            if served.inflight == 0:
                served.idle.set()
            self.server._keep(asyncio.ensure_future(self._drain(endpoint, served)))

    def end_all(self, reason: str) -> None:
        """Record the end of every open deployment (blocking; at shutdown)."""
        recorder = self.server.deployments
        for deployment_id in self._deployments.values():
            if recorder is not None:
                recorder.end(deployment_id, reason=reason)
        self._deployments.clear()

    # -- one reference ------------------------------------------------------------------------
    async def _refresh_ref(self, endpoint: ModelEndpoint, state: RefState) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        try:
            record = await loop.run_in_executor(None, self.server.registry.get, state.ref)
        except DriftlineError as exc:
            return self._failed(endpoint, state, None, exc)
        state.checked_at = iso_utc(self.server.clock())
        previous = state.version
        if previous == record.version and state.status == "ready":
            return {"uri": state.ref.uri, "version": previous, "changed": False}
        try:
            await self._load(
                endpoint, record, route="primary" if state is endpoint.refs[0] else "ref"
            )
        except Exception as exc:  # whatever loading raised, the old version keeps serving
            return self._failed(endpoint, state, record.version, exc)
        state.version, state.status, state.error = record.version, "ready", None
        if previous is not None and previous != record.version:
            _log.info("%s moved from v%s to v%s: swapped", state.ref.uri, previous, record.version)
        return {
            "uri": state.ref.uri,
            "version": record.version,
            "previous": previous,
            "changed": previous != record.version,
        }

    def _failed(
        self, endpoint: ModelEndpoint, state: RefState, version: int | None, exc: BaseException
    ) -> dict[str, Any]:
        message = str(exc) or type(exc).__name__
        state.error = f"v{version}: {message}" if version is not None else message
        if state.version is None or state.version not in endpoint.versions:
            state.status = "failed"
        self.server.metrics.load_failures.labels(endpoint.name).inc()
        kept = f"; v{state.version} keeps serving" if state.status == "ready" else ""
        _log.warning("loading %s failed: %s%s", state.ref.uri, state.error, kept)
        return {
            "uri": state.ref.uri,
            "version": state.version,
            "failed_version": version,
            "error": message,
            "changed": False,
        }

    # -- loading and draining -------------------------------------------------------------------
    async def _load(self, endpoint: ModelEndpoint, record: ModelVersion, *, route: str) -> None:
        existing = endpoint.versions.get(record.version)
        if existing is not None and existing.warm:
            return
        loop = asyncio.get_running_loop()
        served = await loop.run_in_executor(None, self._load_sync, record)
        batcher = self.server.batcher_for(served)
        if batcher is not None:
            endpoint.batchers = {**endpoint.batchers, record.version: batcher}
        endpoint.versions = {**endpoint.versions, record.version: served}
        self.server.metrics.models_loaded.inc()
        if self.server.options.freeze_gc:
            gc.freeze()
        recorder = self.server.deployments
        if recorder is not None:
            deployment_id = await loop.run_in_executor(
                None, lambda: recorder.start(record, route=route)
            )
            self._deployments[(endpoint.name, record.version)] = deployment_id

    def _load_sync(self, record: ModelVersion) -> ServedVersion:
        model = self.server.registry.load(record)
        served = ServedVersion(record, model, max_rows=self.server.options.max_batch_rows)
        served.warm_up()
        return served

    async def _drain(self, endpoint: ModelEndpoint, served: ServedVersion) -> None:
        if served.idle is not None:
            try:
                await asyncio.wait_for(served.idle.wait(), self.server.options.drain_timeout_s)
            except TimeoutError:
                _log.warning(
                    "%s v%s still had %d requests after the drain timeout; released anyway",
                    served.name,
                    served.number,
                    served.inflight,
                )
        self.server.metrics.models_loaded.dec()
        deployment_id = self._deployments.pop((endpoint.name, served.number), None)
        recorder = self.server.deployments
        if deployment_id is not None and recorder is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: recorder.end(deployment_id, reason="replaced"))
