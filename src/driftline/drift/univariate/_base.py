"""The one small contract every univariate drift test follows."""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from driftline.drift._samples import CategoricalPair, NumericPair, Pair, pair_from_arrays
from driftline.exceptions import ValidationError

__all__ = ["UnivariateResult", "UnivariateTest"]


@dataclass(frozen=True)
class UnivariateResult:
    """Outcome of one univariate drift test on one feature.

    ``threshold`` is a significance level when ``p_value`` is set (drift when
    ``p_value <= threshold``), else a bound on ``statistic`` (drift when
    ``statistic > threshold``). ``approximate`` is true when a side was a quantile sketch;
    ``error_bound`` then bounds ``|statistic - exact statistic|``.
    """

    method: str
    statistic: float
    p_value: float | None
    threshold: float
    drift_detected: bool
    effect_size: float
    approximate: bool = False
    error_bound: float | None = None
    n_reference: int = 0
    n_current: int = 0

    def with_threshold(self, threshold: float) -> UnivariateResult:
        """The same result judged against another threshold (after a correction)."""
        return _result_with(self, threshold)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "method": self.method,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "drift_detected": self.drift_detected,
            "effect_size": self.effect_size,
            "approximate": self.approximate,
            "error_bound": self.error_bound,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
        }


def _result_with(result: UnivariateResult, threshold: float) -> UnivariateResult:
    from dataclasses import replace

    if result.p_value is not None:
        detected = result.p_value <= threshold
    else:
        detected = result.statistic > threshold
    return replace(result, threshold=threshold, drift_detected=detected)


class UnivariateTest(abc.ABC):
    """A drift test of one feature: ``compare(reference, current) -> UnivariateResult``.

    ``reference`` and ``current`` are 1-D array-likes (numpy, list, pandas, polars, Arrow) or
    single-feature profiles. Subclasses set ``name``, ``kinds`` (``"numeric"``,
    ``"categorical"``) and ``has_p_value``, and implement ``_numeric`` and/or ``_categorical``.
    Input a test cannot judge (too few values, wrong kind) raises
    :class:`~driftline.exceptions.ValidationError` with the reason.
    """

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    has_p_value: ClassVar[bool]
    threshold: float

    def compare(self, reference: Any, current: Any) -> UnivariateResult:
        """Test whether ``current`` is drawn from the distribution of ``reference``."""
        return self.compare_pair(pair_from_arrays(reference, current))

    def compare_pair(self, pair: Pair) -> UnivariateResult:
        """Run the test on a prepared pair (the engine's entry point)."""
        self._check_threshold()
        if pair.kind not in self.kinds:
            kinds = " or ".join(sorted(self.kinds))
            raise ValidationError(f"{self.name} tests {kinds} features, not {pair.kind} ones")
        if isinstance(pair, NumericPair):
            _need(pair.reference.n, pair.current.n, 1)
            return self._numeric(pair)
        _need(pair.n_reference, pair.n_current, 1)
        return self._categorical(pair)

    def _numeric(self, pair: NumericPair) -> UnivariateResult:
        raise ValidationError(f"{self.name} does not test numeric features")

    def _categorical(self, pair: CategoricalPair) -> UnivariateResult:
        raise ValidationError(f"{self.name} does not test categorical features")

    def _check_threshold(self) -> None:
        t = self.threshold
        if not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
            raise ValidationError(f"{self.name}: threshold must be a finite number >= 0, got {t!r}")
        if self.has_p_value and t > 1:
            raise ValidationError(f"{self.name}: threshold is a significance level in [0, 1]")

    def _result(
        self,
        statistic: float,
        p_value: float | None,
        effect_size: float,
        n: tuple[int, int],
        error_bound: float | None = None,
    ) -> UnivariateResult:
        statistic, effect_size = _finite(statistic, self.name), _finite(effect_size, self.name)
        if p_value is not None:
            p_value = min(1.0, max(0.0, _finite(p_value, self.name)))
        approximate = error_bound is not None and error_bound > 0
        result = UnivariateResult(
            method=self.name,
            statistic=statistic,
            p_value=p_value,
            threshold=float(self.threshold),
            drift_detected=False,
            effect_size=effect_size,
            approximate=approximate,
            error_bound=float(error_bound) if error_bound is not None and approximate else None,
            n_reference=int(n[0]),
            n_current=int(n[1]),
        )
        return _result_with(result, float(self.threshold))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(threshold={self.threshold!r})"


def _need(n_ref: int, n_cur: int, minimum: int) -> None:
    if n_ref < minimum:
        raise ValidationError(f"the reference has {n_ref} usable values (need {minimum})")
    if n_cur < minimum:
        raise ValidationError(f"the current data has {n_cur} usable values (need {minimum})")


def _finite(value: float, name: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        # a bug guard, not input validation: every test is written to stay finite
        raise ValidationError(f"{name} produced a non-finite value; please report this input")
    return value
