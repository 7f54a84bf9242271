"""Business signals: user-defined functions over a window's predictions and their feedback,
and the CPU cost of a prediction.

A :class:`BusinessMetric` is a name and a function of one window (the predictions of one model
version joined to their feedback, as :func:`driftline.predlog.join_feedback` gives
them: ``prediction``, ``probabilities``, ``label``, ``value``, ``extra``, ``f_<feature>``, ...)
returning a number, or None when the window says nothing. The monitoring cycle records it
per model and version; its :meth:`~BusinessMetric.spec` lets alert rules name it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psutil

from driftline.exceptions import ValidationError
from driftline.monitoring._series import check_metric_name
from driftline.monitoring.catalogue import CATALOGUE, MetricSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BusinessMetric", "CpuCost", "revenue_per_prediction"]

_SOURCE = "business monitor"


@dataclass(frozen=True)
class BusinessMetric:
    """A named function of one window of joined predictions and feedback.

    >>> import pandas as pd
    >>> share_up = BusinessMetric("shop_share_up", lambda w: (w["prediction"] == "UP").mean())
    >>> share_up.compute(pd.DataFrame({"prediction": ["UP", "DOWN", "UP", "UP"]}))
    0.75
    """

    name: str
    fn: Callable[[pd.DataFrame], Any]
    help: str = "A user-defined business metric per model version."

    def __post_init__(self) -> None:
        check_metric_name(self.name)
        if not callable(self.fn):
            raise ValidationError(f"business metric {self.name!r}: fn must be callable")

    def spec(self) -> MetricSpec:
        """The catalogue entry of this metric (the catalogue's own when it has one)."""
        if self.name in CATALOGUE:
            return CATALOGUE.get(self.name)
        return MetricSpec(self.name, "gauge", ("model", "version"), self.help, _SOURCE)

    def compute(self, window: pd.DataFrame) -> float | None:
        """The metric over ``window``: a finite float, or None when ``fn`` returns None."""
        value = self.fn(window)
        if value is None:
            return None
        try:
            number = float(value) if not isinstance(value, bool | str | bytes) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        if math.isnan(number) and not (isinstance(value, float) and math.isnan(value)):
            raise ValidationError(
                f"business metric {self.name!r} returned {type(value).__name__} {value!r}; "
                "return a number or None"
            )
        if not math.isfinite(number):
            raise ValidationError(f"business metric {self.name!r} returned {number}")
        return number


def revenue_per_prediction(
    *,
    field: str = "value",
    missing_as_zero: bool = False,
    name: str = "driftline_revenue_per_prediction",
) -> BusinessMetric:
    """Business value from feedback per prediction.

    ``field`` is the feedback's ``value`` column or a key of its ``extra`` object. By default
    the mean is over the predictions whose feedback carries the value (a late label is not a
    zero); with ``missing_as_zero`` every prediction of the window counts, with 0 when none came.

    >>> import pandas as pd
    >>> window = pd.DataFrame({"value": [10.0, None, 2.0, None]})
    >>> revenue_per_prediction().compute(window)
    6.0
    >>> revenue_per_prediction(missing_as_zero=True).compute(window)
    3.0
    """

    def compute(window: pd.DataFrame) -> float | None:
        values = _field(window, field)
        known = values.dropna()
        if missing_as_zero:
            return float(known.sum()) / len(window) if len(window) else None
        return float(known.mean()) if len(known) else None

    return BusinessMetric(
        name, compute, help=f"Feedback {field!r} per prediction in the window (business value)."
    )


def _field(window: pd.DataFrame, field: str) -> pd.Series:
    if field in window.columns:
        values = window[field]
    elif "extra" in window.columns:
        values = window["extra"].map(lambda e: e.get(field) if isinstance(e, dict) else None)
    else:
        raise ValidationError(f"feedback has no field {field!r} (neither a column nor in 'extra')")
    import pandas as pd  # here, not at import: `driftline.monitoring` loads with every command

    numbers = pd.to_numeric(values, errors="coerce")
    if int(numbers.isna().sum()) > int(values.isna().sum()):
        raise ValidationError(f"feedback field {field!r} holds values that are not numbers")
    return numbers.astype(float)


class CpuCost:
    """CPU seconds (user + system) a process spent per prediction between two readings.

    ``pid`` is the serving process (default: this one); ``cpu_seconds`` replaces the reading
    (for tests, or a value scraped from elsewhere). The first :meth:`measure` only takes the
    starting reading and returns None.

    >>> readings = iter([10.0, 12.5])
    >>> cost = CpuCost(cpu_seconds=lambda: next(readings))
    >>> cost.measure(100) is None, cost.measure(50)
    (True, 0.05)
    """

    def __init__(
        self, *, pid: int | None = None, cpu_seconds: Callable[[], float] | None = None
    ) -> None:
        self.pid = pid
        self.cpu_seconds = cpu_seconds

    def _read(self) -> float:
        if self.cpu_seconds is not None:
            return float(self.cpu_seconds())
        if not hasattr(self, "process_"):
            try:
                self.process_ = psutil.Process(self.pid)
            except psutil.NoSuchProcess:
                raise ValidationError(f"no process with pid {self.pid} to measure") from None
        times = self.process_.cpu_times()
        return float(times.user + times.system)

    def measure(self, predictions: int) -> float | None:
        """CPU seconds per prediction since the previous call (None without one, or no rows)."""
        now = self._read()
        last = getattr(self, "last_reading_", None)
        self.last_reading_ = now
        if last is None or predictions <= 0:
            return None
        return max(now - last, 0.0) / predictions
