"""The closed loop of one model: monitor, then decide about retraining, again and again.

A cycle runs the monitoring cycle (drift windows, performance from delayed labels, live
quality, alert rules and their notifications; see :class:`~driftline.monitoring.MonitoringCycle`)
and then one controller check (:meth:`RetrainController.check_once`), so a retrain decision
sees the drift events the same cycle recorded. Between cycles the loop waits ``interval``,
looking every ``poll_s`` for pending retrain requests (``POST /v1/retrain``), which start the
next cycle at once. :meth:`ClosedLoop.stop` (safe from any thread) ends a wait at once, and a
canary at its next poll when the promoter sleeps with :func:`stoppable_sleep`; :meth:`close`
then abandons a retrain left half-done and frees the model's lease.

This is what ``driftline run`` runs next to its model server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from driftline.retraining.requests import has_pending_requests

if TYPE_CHECKING:
    from driftline.monitoring import CycleSummary, MonitoringCycle
    from driftline.retraining.arbiter import Decision
    from driftline.retraining.controller import CycleReport, RetrainController

__all__ = ["ClosedLoop", "LoopCycle", "LoopStopped", "stoppable_sleep"]


class LoopStopped(Exception):
    """Raised inside a cycle (by :func:`stoppable_sleep`) when the loop was asked to stop."""


def stoppable_sleep(stop: threading.Event) -> Callable[[float], None]:
    """A ``sleep`` for :class:`CanaryPromoter` that raises :class:`LoopStopped` once ``stop``
    is set, so a canary that bakes for minutes does not hold a stopping process."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise LoopStopped("stopped while waiting")

    return sleep


@dataclass(frozen=True)
class LoopCycle:
    """One cycle: why it ran, what monitoring saw, what the controller decided."""

    at: datetime
    woken_by: str  # "start", "interval" or "request"
    monitoring: CycleSummary | None = None
    retrain: CycleReport | None = None
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "at": self.at.isoformat(),
            "woken_by": self.woken_by,
            "monitoring": None if self.monitoring is None else self.monitoring.to_dict(),
            "retrain": None if self.retrain is None else self.retrain.to_dict(),
            "errors": list(self.errors),
        }


class ClosedLoop:
    """Monitoring then a retrain check for ``controller``'s model, every ``interval``.

    ``monitoring`` may be None (retraining checks only). ``before_cycle`` runs first in each
    cycle (``driftline run`` closes its server's open log segments there, so the monitors
    read every served row). ``wait(seconds) -> stopped`` and ``monotonic`` are injectable
    for tests; by default :meth:`stop` ends a wait early.
    """

    def __init__(
        self,
        controller: RetrainController,
        monitoring: MonitoringCycle | None = None,
        *,
        interval: timedelta | str | float = timedelta(minutes=5),
        poll_s: float = 1.0,
        before_cycle: Callable[[], object] | None = None,
        stop: threading.Event | None = None,
        wait: Callable[[float], bool] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        from driftline.monitoring import parse_duration  # the package is heavy to import

        self.controller = controller
        self.monitoring = monitoring
        self.interval = parse_duration(interval, what="interval")
        self.poll_s = poll_s
        self.before_cycle = before_cycle
        self.stop_event = stop or threading.Event()
        self.wait = wait or self.stop_event.wait
        self.monotonic = monotonic

    @property
    def model(self) -> str:
        """The model this loop looks after."""
        return self.controller.policy.model

    def run_once(self, *, woken_by: str = "start", raise_errors: bool = False) -> LoopCycle:
        """One cycle now. A failing step is reported in ``errors`` and the other still runs;
        with ``raise_errors`` a failing retrain check raises instead."""
        errors: list[str] = []
        at = self.controller.workspace.store.clock()
        if self.before_cycle is not None:
            _guarded("before the cycle", self.before_cycle, errors)
        summary = None
        if self.monitoring is not None:
            summary = _guarded("monitoring", self.monitoring.run_once, errors)
        try:
            report = self.controller.check_once()
        except LoopStopped:
            raise
        except Exception as exc:
            if raise_errors:
                raise
            errors.append(f"retrain check: {type(exc).__name__}: {exc}")
            report = None
        return LoopCycle(at, woken_by, summary, report, tuple(errors))

    def run(
        self,
        *,
        cycles: int | None = None,
        on_cycle: Callable[[LoopCycle], object] | None = None,
        wait_first: bool = False,
    ) -> int:
        """Run cycles until ``cycles`` ran or :meth:`stop`; returns how many completed.
        With ``wait_first`` the first cycle waits for the interval or a request too (the
        caller just ran one)."""
        done, woken_by = 0, "start"
        try:
            if wait_first:
                first = self._wait(self.interval.total_seconds())
                if first is None:
                    return 0
                woken_by = first
            while (cycles is None or done < cycles) and not self.stop_event.is_set():
                started = self.monotonic()
                cycle = self.run_once(woken_by=woken_by)
                done += 1
                if on_cycle is not None:
                    on_cycle(cycle)
                if cycles is not None and done >= cycles:
                    break
                left = self.interval.total_seconds() - (self.monotonic() - started)
                next_reason = self._wait(left)
                if next_reason is None:
                    break
                woken_by = next_reason
        except LoopStopped:
            pass
        return done

    def _wait(self, seconds: float) -> str | None:
        """Wait up to ``seconds``: "request" when one is pending, None when stopped."""
        deadline = self.monotonic() + seconds
        while not self.stop_event.is_set():
            if self._requested():
                return "request"
            left = deadline - self.monotonic()
            if left <= 0:
                return "interval"
            if self.wait(min(self.poll_s, left)):
                return None
        return None

    def _requested(self) -> bool:
        try:
            return has_pending_requests(self.controller.workspace, self.model)
        except Exception:  # the DB is away: the interval still brings the next cycle
            return False

    def stop(self) -> None:
        """Ask :meth:`run` to stop: at once while waiting, else after the step in progress."""
        self.stop_event.set()

    def close(self) -> list[Decision]:
        """Abandon this model's retrain left half-done (stopped mid-canary, say) and free its
        lease; returns the decisions abandoned."""
        return self.controller.arbiter.abandon_stale(self.model)


def _guarded(what: str, step: Callable[[], Any], errors: list[str]) -> Any:
    try:
        return step()
    except LoopStopped:
        raise
    except Exception as exc:  # one failing step must not cost the cycle its other step
        errors.append(f"{what}: {type(exc).__name__}: {exc}")
        return None
