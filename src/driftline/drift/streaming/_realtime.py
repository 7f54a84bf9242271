"""Windowed drift detection over live records, on top of the batch engine."""

from __future__ import annotations

import collections
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np

from driftline.exceptions import ValidationError

if TYPE_CHECKING:
    from driftline.drift.profile import Profile
    from driftline.drift.report import DriftReport

__all__ = ["RealTimeDriftDetector", "WindowCheck"]

RefreshPolicy = Literal["never", "on_drift", "sliding"]
_POLICIES = ("never", "on_drift", "sliding")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WindowCheck:
    """One comparison of the live window with the reference."""

    position: int  # records read when the check ran
    at: datetime
    drift_detected: bool
    drift_share: float
    drifted_features: tuple[str, ...]
    report: DriftReport = field(repr=False, compare=False)


class RealTimeDriftDetector:
    """Compare a sliding window of live records with a reference, every few records.

    The detector keeps the last ``window_size`` records (mappings from feature name to value;
    a missing key is a missing value). Once the window is full, and then every
    ``update_frequency`` records, it runs :func:`driftline.drift.compare` between a reference
    and the window, so each check has the batch engine's tests, multiple-testing correction
    and missing/unseen signals. ``reference_refresh`` says what the reference is:

    - ``"never"``: the data given to :meth:`fit`; drift is reported for as long as it lasts;
    - ``"on_drift"``: the data given to :meth:`fit` until a check finds drift; then the window
      is emptied, the next ``window_size`` records become the reference, and checks resume,
      so one change is reported once and the new regime is watched from then on;
    - ``"sliding"``: the ``window_size`` records just before the window (two consecutive,
      disjoint windows are compared; the data given to :meth:`fit` only names the features).

    A fitted reference is kept as a :class:`~driftline.drift.Profile`, so a check reads only
    the window; it is exact for references up to the profile's ``max_exact`` values per
    feature. ``drift_detected`` is true after the update whose check found drift;
    ``history_`` keeps the last ``history_size`` checks. The river-style contract of the
    other streaming detectors holds (``update`` returns the detector, ``warning_detected`` is
    always False).

    Parameters
    ----------
    window_size
        Records compared at each check.
    update_frequency
        Records between two checks.
    reference_refresh
        ``"never"``, ``"on_drift"`` or ``"sliding"`` (see above).
    method, correction, alpha
        Passed to :func:`~driftline.drift.compare`.
    history_size
        Checks kept in ``history_``.
    clock
        Returns the time stamped on each check (default: now, in UTC).

    Examples
    --------
    >>> import numpy as np
    >>> from driftline.drift.streaming import RealTimeDriftDetector
    >>> rng = np.random.default_rng(0)
    >>> reference = {"age": rng.normal(40, 5, 2000), "plan": rng.choice(["a", "b"], 2000)}
    >>> live = [{"age": rng.normal(40 if i < 600 else 48, 5), "plan": "a"} for i in range(1000)]
    >>> detector = RealTimeDriftDetector(window_size=300, update_frequency=50,
    ...                                  reference_refresh="on_drift").fit(reference)
    >>> detector.update_many(live).tolist()
    [299, 699]
    >>> [check.drifted_features for check in detector.history_ if check.drift_detected]
    [('plan',), ('age',)]
    """

    def __init__(
        self,
        *,
        window_size: int = 1000,
        update_frequency: int = 100,
        reference_refresh: RefreshPolicy = "never",
        method: str = "auto",
        correction: str = "bonferroni",
        alpha: float = 0.05,
        history_size: int = 1000,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.window_size = window_size
        self.update_frequency = update_frequency
        self.reference_refresh = reference_refresh
        self.method = method
        self.correction = correction
        self.alpha = alpha
        self.history_size = history_size
        self.clock = clock

    @property
    def drift_detected(self) -> bool:
        """Whether the last record completed a window that drifted from the reference."""
        return bool(getattr(self, "_drift", False))

    @property
    def warning_detected(self) -> bool:
        """Always False: windowed tests have no warning zone."""
        return False

    def fit(self, reference: Any, *, feature_names: Sequence[str] | None = None) -> Self:
        """Set the reference (data the engine reads, or a fitted Profile); returns ``self``."""
        from driftline.drift.profile import Profile

        self._check_params()
        profile = reference if isinstance(reference, Profile) else Profile()
        if profile is not reference:
            profile.fit(reference, feature_names=feature_names)
        elif not hasattr(profile, "features_"):
            raise ValidationError("the reference Profile is not fitted; call its fit() first")
        self.fitted_reference_ = profile
        self.features_ = tuple(profile.features_)
        return self.reset()

    def reset(self) -> Self:
        """Empty the window and the history; go back to the reference given to :meth:`fit`."""
        self._check_fitted()
        self.reference_ = self.fitted_reference_
        sliding = self.reference_refresh == "sliding"
        size = 2 * self.window_size if sliding else self.window_size
        self._window: dict[str, collections.deque[Any]] = {
            name: collections.deque(maxlen=size) for name in self.features_
        }
        self._n = 0
        self._next = size  # the record count at which the next check (or re-baseline) runs
        self._rebaselining = False
        self._drift = False
        self.history_: collections.deque[WindowCheck] = collections.deque(maxlen=self.history_size)
        self.last_check_: WindowCheck | None = None
        return self

    def update(self, record: Mapping[str, Any]) -> Self:
        """Read one record (feature name -> value); return the detector."""
        self._check_fitted()
        if not isinstance(record, Mapping):
            raise ValidationError(
                f"RealTimeDriftDetector.update: record must be a mapping from feature name to"
                f" value, got {type(record).__name__}"
            )
        for name, column in self._window.items():
            column.append(record.get(name))
        self._n += 1
        self._drift = False
        if self._n == self._next:
            self._next += self.update_frequency
            if self._rebaselining:
                self.reference_ = self._profile(0)
                self._rebaselining = False
            else:
                self._run_check()
        return self

    def update_many(self, records: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> np.ndarray:
        """Read records in order (or a dict of equal-length columns); return drift positions."""
        rows = _rows(records)
        return np.asarray(
            [i for i, row in enumerate(rows) if self.update(row)._drift], dtype=np.intp
        )

    def _profile(self, start: int) -> Profile:
        """Profile of ``window_size`` records of the window from ``start``."""
        from driftline.drift.profile import Profile

        stop = start + self.window_size
        part = {name: list(column)[start:stop] for name, column in self._window.items()}
        return Profile().fit(part)

    def _run_check(self) -> None:
        from driftline.drift.compare import compare

        sliding = self.reference_refresh == "sliding"
        if sliding:
            self.reference_ = self._profile(0)
        start = self.window_size if sliding else 0
        window = {name: list(column)[start:] for name, column in self._window.items()}
        report = compare(
            self.reference_,
            window,
            method=self.method,
            correction=self.correction,
            alpha=self.alpha,
            n_jobs=1,
        )
        check = WindowCheck(
            position=self._n,
            at=(self.clock or _utc_now)(),
            drift_detected=report.drift_detected,
            drift_share=report.drift_share,
            drifted_features=report.drifted_features,
            report=report,
        )
        self.history_.append(check)
        self.last_check_ = check
        self._drift = report.drift_detected
        if report.drift_detected and self.reference_refresh == "on_drift":
            for column in self._window.values():
                column.clear()
            self._rebaselining = True
            self._next = self._n + self.window_size

    def _check_params(self) -> None:
        for name, low in (("window_size", 2), ("update_frequency", 1), ("history_size", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ValidationError(
                    f"RealTimeDriftDetector: parameter {name}={value!r} is invalid;"
                    f" it must be an integer >= {low}"
                )
        if self.reference_refresh not in _POLICIES:
            raise ValidationError(
                f"RealTimeDriftDetector: parameter reference_refresh={self.reference_refresh!r}"
                f" is invalid; it must be one of {_POLICIES}"
            )

    def _check_fitted(self) -> None:
        if not hasattr(self, "fitted_reference_"):
            raise ValidationError("this RealTimeDriftDetector has no reference; call fit() first")

    def __repr__(self) -> str:
        return (
            f"RealTimeDriftDetector(window_size={self.window_size!r},"
            f" update_frequency={self.update_frequency!r},"
            f" reference_refresh={self.reference_refresh!r})"
        )


def _rows(records: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """Rows from rows, or from a mapping of equal-length columns."""
    if not isinstance(records, Mapping):
        return records
    columns = {name: list(values) for name, values in records.items()}
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValidationError(
            "RealTimeDriftDetector.update_many: columns must have the same length, got"
            f" {dict((name, len(values)) for name, values in columns.items())}"
        )
    n = lengths.pop() if lengths else 0
    return ({name: values[i] for name, values in columns.items()} for i in range(n))
