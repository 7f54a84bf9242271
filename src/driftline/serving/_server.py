"""The model server's core: route, validate, infer off the loop, log, mirror, measure.

Everything here runs on the event loop except model calls (the inference pool) and registry
or database work (the default executor), so no request ever waits behind a model load.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from driftline.exceptions import DriftlineError, NotFoundError, ValidationError, http_status_for
from driftline.predlog import compact_in_child
from driftline.registry import Registry, parse_model_ref
from driftline.serving._batching import MicroBatcher
from driftline.serving._deployments import DeploymentRecorder
from driftline.serving._endpoint import ModelEndpoint, RefState, versions_of
from driftline.serving._ids import prediction_ids
from driftline.serving._inputs import InputSchema, ModelInput
from driftline.serving._log_batches import LogCoalescer
from driftline.serving._metrics import ServingMetrics
from driftline.serving._options import ServingOptions
from driftline.serving._routing_spec import policy_from_spec
from driftline.serving._runtime import Prediction, ServedVersion
from driftline.serving._swap import Swapper
from driftline.serving.routing import Canary, CanaryRollout, RouteDecision
from driftline.store import Clock, utc_now

__all__ = ["ModelServer", "RowSink", "Served"]

_log = logging.getLogger("driftline.serving")
# Rows per request whose log rows are built right on the loop; bigger batches use a thread
# (only for sinks without ``submit_batch``: a batch costs the loop the same at any size).
_INLINE_LOG_ROWS = 256


class RowSink(Protocol):
    """Where served rows go: the prediction log writer (or any stand-in with its methods).

    A sink that also has ``submit_batch(batch: PredictionBatch) -> int`` gets each request
    as one columnar batch instead of a dict per row.
    """

    def start(self) -> Any: ...

    def submit(self, rows: list[dict[str, Any]]) -> int: ...

    def close(self) -> Any: ...


@dataclass(frozen=True)
class Served:
    """One answered request: which version and route, the rows and the answers."""

    model: str
    version: ServedVersion
    route: str
    inputs: ModelInput
    prediction: Prediction
    prediction_ids: list[str]
    latency_s: float


class ModelServer:
    """Serves model references from a registry (see :func:`driftline.serving.create_app`).

    >>> import asyncio, tempfile
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from driftline import Workspace
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"x": rng.normal(size=200)})
    >>> frame["y"] = frame["x"] > 0
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> model = LogisticRegression().fit(frame[["x"]], frame["y"])
    >>> _ = ws.registry.register("demo", model, frame=frame, target="y")
    >>> _ = ws.registry.promote("demo", 1, reason="doctest")
    >>> server = ModelServer(
    ...     registry=ws.registry,
    ...     models=["models:/demo@champion"],
    ...     options=ServingOptions(poll_interval_s=0, canary_interval_s=0),
    ... )
    >>> async def demo():
    ...     await server.start()
    ...     await server.wait_ready()
    ...     served = await server.predict("demo", lambda s: s.from_records([{"x": 2.0}]))
    ...     await server.stop()
    ...     return served.version.number, served.route, served.prediction.predictions.tolist()
    >>> asyncio.run(demo())
    (1, 'primary', [True])
    >>> ws.close()
    """

    def __init__(
        self,
        *,
        registry: Registry,
        models: Sequence[str],
        options: ServingOptions | None = None,
        metrics: ServingMetrics | None = None,
        prediction_log: RowSink | None = None,
        feedback_log: RowSink | None = None,
        deployments: DeploymentRecorder | None = None,
        clock: Clock = utc_now,
        draw: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if not models:
            raise ValidationError("serve at least one model, e.g. models:/fraud@champion")
        self.registry = registry
        self.options = (options or ServingOptions()).check()
        self.metrics = metrics or ServingMetrics(multiprocess_dir=self.options.multiprocess_dir)
        self.prediction_log = prediction_log
        self.feedback_log = feedback_log
        self.deployments = deployments
        self.clock = clock
        self.draw = draw
        self.sleep = sleep
        self.endpoints: dict[str, ModelEndpoint] = {}
        for text in models:
            ref = parse_model_ref(text)
            endpoint = self.endpoints.setdefault(ref.name, ModelEndpoint(ref.name, []))
            if all(r.ref != ref for r in endpoint.refs):
                endpoint.refs.append(RefState(ref))
        self.executor = ThreadPoolExecutor(self.options.threads, thread_name_prefix="dl-infer")
        self.swapper = Swapper(self)
        self._background: set[asyncio.Future[Any]] = set()
        self._side_tasks: set[asyncio.Future[Any]] = set()
        self._shadows = 0
        self._loaded: asyncio.Task[Any] | None = None
        self._stopping = False
        self._coalescer = LogCoalescer(
            lambda: self.clock(), self.metrics.log_rows.inc, self._log_failed
        )

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the logs, load every model in the background, and start the poller.

        A prediction log that can ``open`` (take rows) before it ``start``s (the process
        writer) starts once the first load is over: its child is forked from the loaded
        server and shares the models and warmed-up pages instead of keeping copies.
        """
        if self.feedback_log is not None:
            self.feedback_log.start()
        later = None  # the prediction log to start after the first load
        if self.prediction_log is not None:
            if hasattr(self.prediction_log, "open"):
                self.prediction_log.open()
                later = self.prediction_log
            else:
                self.prediction_log.start()
        self._loaded = asyncio.ensure_future(self._first_load(later))
        self._keep(self._loaded)
        if self.options.poll_interval_s > 0:
            self._keep(asyncio.ensure_future(self._every(self.options.poll_interval_s, self._poll)))
        if self.options.canary_interval_s > 0:
            every = self._every(self.options.canary_interval_s, self._evaluate_async)
            self._keep(asyncio.ensure_future(every))
        if self.options.compact_interval_s > 0 and self._log_directory() is not None:
            every = self._every(self.options.compact_interval_s, self._compact)
            self._keep(asyncio.ensure_future(every))

    async def _first_load(self, log: RowSink | None) -> None:
        try:
            await self.swapper.refresh()
        finally:  # the first load's pool threads wait for work now (see ProcessLogWriter)
            if log is not None and not self._stopping:
                try:
                    log.start()
                except Exception as exc:  # the models serve on; the log counts what it drops
                    _log.error("the prediction log did not start: %s; its rows are dropped", exc)

    async def stop(self) -> None:
        """Stop background work, end the deployments, flush the logs, free the pool."""
        self._stopping = True
        await self.settle()
        self._coalescer.flush()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._close_sync)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _close_sync(self) -> None:
        self.swapper.end_all("server stopped")
        for sink in (self.prediction_log, self.feedback_log):
            if sink is not None:
                sink.close()

    async def settle(self) -> None:
        """Wait for the shadow calls and canary comparisons started so far."""
        pending = [t for t in self._side_tasks if not t.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait until the first load finished; True when every model is ready."""
        if self._loaded is not None:
            await asyncio.wait_for(asyncio.shield(self._loaded), timeout)
        return self.ready

    @property
    def ready(self) -> bool:
        """Every served reference loaded and warmed."""
        return all(endpoint.ready for endpoint in self.endpoints.values())

    def endpoint(self, name: str) -> ModelEndpoint:
        """The endpoint serving model ``name`` (404 if none)."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise NotFoundError(
                f"model {name!r} is not served here (served: {', '.join(self.endpoints)})"
            )
        return endpoint

    # -- predicting -------------------------------------------------------------------------
    async def predict(
        self,
        name: str,
        parse: Callable[[InputSchema], ModelInput],
        *,
        key: str | None = None,
        version: int | None = None,
        offload: bool = False,
    ) -> Served:
        """Route, validate with the chosen version's schema, infer, log, mirror and count.

        ``offload`` parses in a worker thread (for large bodies, so the loop stays free).
        """
        start = time.perf_counter()
        # Unknown names are the client's choice: keep them out of the metric labels.
        model, label, route = (name if name in self.endpoints else "unknown"), "", ""
        try:
            endpoint = self.endpoint(name)
            if version is None:
                decision = endpoint.decide(key, self.draw())
            else:
                decision = RouteDecision(version, "pinned")
            served = endpoint.served(decision.version)
            label, route = served.label, decision.route
            if offload:
                loop = asyncio.get_running_loop()
                inputs = await loop.run_in_executor(None, _parse, parse, served.schema)
            else:
                inputs = _parse(parse, served.schema)
            prediction = await self._run(endpoint, served, inputs, decision)
        except DriftlineError as exc:
            self.metrics.request(model, label, route, str(http_status_for(exc)), _since(start))
            raise
        except Exception:
            self.metrics.request(model, label, route, "500", _since(start))
            raise
        latency = _since(start)
        ids = prediction_ids(inputs.n_rows)
        self.metrics.request(model, label, route, "200", latency)
        result = Served(name, served, route, inputs, prediction, ids, latency)
        if self.prediction_log is not None:
            self._log(self.prediction_log, result)
        if decision.shadow_versions:
            self._mirror(endpoint, result, decision.shadow_versions)
        if endpoint.rollout is not None:
            self._observe(endpoint, endpoint.rollout, result)
        return result

    def _log(self, sink: RowSink, result: Served) -> None:
        """Hand the rows to the prediction log in batches (row dicts: big ones off the loop).

        Batches go through the coalescer: the requests answered in one turn of the loop
        (one micro-batch of a model) reach the log as one batch.
        """
        if getattr(sink, "submit_batch", None) is not None:
            self._coalescer.add(sink, result)
            return
        if result.inputs.n_rows <= _INLINE_LOG_ROWS:
            self._submit(sink, result)
            return
        loop = asyncio.get_running_loop()
        self._side(loop.run_in_executor(None, self._submit, sink, result))

    def _submit(self, sink: RowSink, result: Served) -> None:
        try:
            rows = log_rows(result, result.version, result.route, self.clock())
        except Exception as exc:  # logging must never cost the client its answer
            self._log_failed(result, exc)
            return
        self.metrics.log_rows.inc(sink.submit(rows))

    def _log_failed(self, result: Served, exc: Exception) -> None:
        _log.warning("could not log %d rows of %s: %s", result.inputs.n_rows, result.model, exc)
        self.metrics.log_dropped.inc(result.inputs.n_rows)

    async def _run(
        self,
        endpoint: ModelEndpoint,
        served: ServedVersion,
        inputs: ModelInput,
        decision: RouteDecision,
    ) -> Prediction:
        served.inflight += 1
        started = time.perf_counter()
        try:
            return await self.infer(endpoint, served, inputs)
        except DriftlineError as exc:
            if endpoint.rollout is not None and http_status_for(exc) >= 500:
                endpoint.rollout.record(
                    served.number, ok=False, latency_s=_since(started), at=self.clock()
                )
            raise
        finally:
            served.inflight -= 1
            if served.inflight == 0 and served.idle is not None:
                served.idle.set()

    async def infer(
        self, endpoint: ModelEndpoint, served: ServedVersion, inputs: ModelInput
    ) -> Prediction:
        """Run the model off the event loop, batched with other requests when configured."""
        batcher = endpoint.batchers.get(served.number)
        if batcher is not None:
            return await batcher.submit(inputs.data)
        self.metrics.batch_size.labels(endpoint.name).observe(inputs.n_rows)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, served.infer, inputs.data)

    def batcher_for(self, served: ServedVersion) -> MicroBatcher | None:
        """A micro-batcher for a newly loaded version, when batching is on."""
        if self.options.batching is None:
            return None
        histogram = self.metrics.batch_size.labels(served.name)
        return MicroBatcher(
            served.infer,
            self.executor,
            self.options.batching,
            slots=min(self.options.batching.max_concurrent, self.options.threads),
            on_batch=histogram.observe,
            name=f"{served.name} v{served.number}",
        )

    # -- shadows ------------------------------------------------------------------------------
    def _mirror(self, endpoint: ModelEndpoint, result: Served, versions: tuple[int, ...]) -> None:
        for number in versions:
            shadow = endpoint.versions.get(number)
            if (
                shadow is None
                or not shadow.warm
                or self._shadows >= self.options.max_shadow_inflight
            ):
                self.metrics.shadow_skipped.labels(endpoint.name).inc()
                continue
            self._shadows += 1
            self._side(self._shadow(endpoint, shadow, result))

    async def _shadow(self, endpoint: ModelEndpoint, shadow: ServedVersion, result: Served) -> None:
        started = time.perf_counter()
        try:
            if shadow.schema.columns != result.version.schema.columns:
                self.metrics.shadow_skipped.labels(endpoint.name).inc()
                return
            answer = await self.infer(endpoint, shadow, result.inputs)
            differ = int(
                sum(
                    a != b
                    for a, b in zip(
                        answer.predictions.tolist(),
                        result.prediction.predictions.tolist(),
                        strict=True,
                    )
                )
            )
            self.metrics.shadow_disagreement.labels(
                endpoint.name, result.version.label, shadow.label
            ).inc(differ)
            if self.prediction_log is not None:
                mirrored = Served(
                    result.model,
                    shadow,
                    "shadow",
                    result.inputs,
                    answer,
                    result.prediction_ids,
                    _since(started),
                )
                self._log(self.prediction_log, mirrored)
        except Exception as exc:  # a shadow must never hurt anything: note it and move on
            _log.warning("shadow call to %s v%s failed: %s", shadow.name, shadow.number, exc)
        finally:
            self._shadows -= 1

    # -- canaries -----------------------------------------------------------------------------
    def _observe(self, endpoint: ModelEndpoint, rollout: CanaryRollout, result: Served) -> None:
        canary = rollout.canary
        if result.route not in ("canary", "stable"):
            return
        check = canary.slo.max_disagreement is not None and result.route == "canary"
        stable = endpoint.versions.get(canary.stable)
        if check and stable is not None and stable.schema.columns == result.version.schema.columns:
            self._side(self._compare(endpoint, stable, result))
            return
        rollout.record(result.version.number, ok=True, latency_s=result.latency_s, at=self.clock())

    async def _compare(
        self, endpoint: ModelEndpoint, stable: ServedVersion, result: Served
    ) -> None:
        disagreed: bool | None = None
        try:
            answer = await self.infer(endpoint, stable, result.inputs)
            disagreed = answer.predictions.tolist() != result.prediction.predictions.tolist()
        except Exception as exc:  # no comparison this time; the outcome still counts
            _log.warning("canary comparison with v%s failed: %s", stable.number, exc)
        if endpoint.rollout is not None:
            endpoint.rollout.record(
                result.version.number,
                ok=True,
                latency_s=result.latency_s,
                disagreed=disagreed,
                at=self.clock(),
            )

    def evaluate_canaries(self) -> dict[str, str]:
        """Judge every running canary now; returns each model's canary state."""
        states: dict[str, str] = {}
        for endpoint in self.endpoints.values():
            rollout = endpoint.rollout
            if rollout is None:
                continue
            before = rollout.state.state
            state = rollout.evaluate(self.clock())
            states[endpoint.name] = state.state
            if state.state != before and state.terminal:
                level = logging.WARNING if state.state == "rolled_back" else logging.INFO
                _log.log(level, "canary of %s: %s", endpoint.name, state.reason)
                if state.state == "rolled_back":
                    self.metrics.rollbacks.labels(endpoint.name).inc()
        return states

    async def _evaluate_async(self) -> None:
        self.evaluate_canaries()

    # -- routing changes ----------------------------------------------------------------------
    async def set_routing(self, name: str, spec: Any) -> dict[str, Any]:
        """Install the routing policy ``spec`` (see ``_routing_spec``), loading its versions."""
        endpoint = self.endpoint(name)
        policy = policy_from_spec(spec)
        await self.swapper.ensure_loaded(endpoint, versions_of(policy))
        if isinstance(policy, Canary):
            endpoint.policy, endpoint.rollout = None, CanaryRollout(policy, clock=self.clock)
        else:
            endpoint.policy, endpoint.rollout = policy, None
        await self.swapper.retire_unneeded(endpoint)
        _log.info("routing of %s set to %s", name, spec)
        return endpoint.status()

    # -- feedback -----------------------------------------------------------------------------
    def feedback(self, rows: list[dict[str, Any]]) -> int:
        """Hand feedback rows to the feedback log; returns how many it accepted."""
        if self.feedback_log is None:
            raise NotFoundError("this server keeps no feedback log (prediction logging is off)")
        accepted = self.feedback_log.submit(rows)
        self.metrics.feedback_rows.inc(accepted)
        return accepted

    # -- background work ----------------------------------------------------------------------
    async def _poll(self) -> None:
        await self.swapper.refresh()

    def _log_directory(self) -> Path | None:
        directory = getattr(self.prediction_log, "directory", None)
        return directory if isinstance(directory, Path) else None

    async def _compact(self) -> None:
        """Turn the prediction log's closed Arrow segments into Parquet, in a niced child."""
        directory = self._log_directory()
        if directory is None or not directory.is_dir():
            return
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, compact_in_child, directory)
        if result.segments or result.failed:
            _log.info(
                "compacted %d log segments (%d rows, %d -> %d bytes)%s",
                result.segments,
                result.rows,
                result.bytes_before,
                result.bytes_after,
                f"; failed: {'; '.join(result.failed)}" if result.failed else "",
            )

    async def _every(self, seconds: float, job: Callable[[], Any]) -> None:
        while True:
            await self.sleep(seconds)
            try:
                await job()
            except Exception:  # keep polling; the failure is in the log and the status
                _log.exception("background job %s failed", getattr(job, "__name__", job))

    def _keep(self, task: asyncio.Future[Any]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _side(self, job: Awaitable[Any]) -> None:
        """Run a shadow call or comparison without the request waiting for it."""
        task = asyncio.ensure_future(job)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
        self._keep(task)


def log_rows(result: Served, served: ServedVersion, route: str, now: Any) -> list[dict[str, Any]]:
    """Prediction-log rows for an answered request, one per input row."""
    predictions = result.prediction.predictions.tolist()
    proba = result.prediction.probabilities
    probabilities = proba.tolist() if proba is not None else [None] * len(predictions)
    features = result.inputs.feature_rows()
    latency_ms = result.latency_s * 1000.0
    return [
        {
            "prediction_id": pid,
            "time": now,
            "model": result.model,
            "version": served.number,
            "route": route,
            "latency_ms": latency_ms,
            "prediction": pred,
            "probabilities": probs,
            "features": feats,
        }
        for pid, pred, probs, feats in zip(
            result.prediction_ids, predictions, probabilities, features, strict=True
        )
    ]


def _parse(parse: Callable[[InputSchema], ModelInput], schema: InputSchema) -> ModelInput:
    """Run a request's parser; anything it trips over is the client's input."""
    try:
        return parse(schema)
    except DriftlineError:
        raise
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValidationError(f"cannot read the input: {exc}") from None


def _since(start: float) -> float:
    return time.perf_counter() - start
