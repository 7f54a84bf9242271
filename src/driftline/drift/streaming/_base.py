"""The contract every streaming detector follows, and the input and parameter checks they share.

A detector reads one value per :meth:`~StreamingDetector.update` call and says after each call
whether that value completed a drift (``drift_detected``) or entered a warning zone
(``warning_detected``). After a detection the detector starts afresh with the next value, as
river's detectors do, so one change gives one detection.
:meth:`~StreamingDetector.update_many` gives exactly the detections of an ``update`` loop over
the same values and leaves the same state behind.
"""

from __future__ import annotations

import inspect
import math
import numbers
import operator
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np

from driftline.exceptions import ValidationError

__all__ = ["InputKind", "StreamingDetector"]

InputKind = Literal["real", "binary", "unit"]

_KIND_TEXT = {
    "real": "a finite number",
    "binary": "0 or 1 (1 = error)",
    "unit": "a number between 0 and 1",
}

# update_many runs its vectorised kernels on chunks that start small after each detection
# (little work is thrown away when detections are frequent) and double while none is found.
FIRST_CHUNK = 256
MAX_CHUNK = 1 << 16


class StreamingDetector(ABC):
    """A river-style drift detector over a stream of numbers.

    Subclasses store their constructor arguments unchanged; the parameters are checked on
    first use (the first ``update``, ``update_many`` or ``reset``).
    """

    #: The values the detector reads: any finite real, 0/1 outcomes, or reals in [0, 1].
    input_kind: ClassVar[InputKind] = "real"

    # Class-level defaults, shadowed per instance once it starts: a fresh detector reports
    # nothing and knows it has not checked its parameters yet.
    _drift_detected = False
    _warning_detected = False
    _ready = False

    if TYPE_CHECKING:

        @property
        def drift_detected(self) -> bool:
            """Whether the last value completed a drift."""
            return self._drift_detected

        @property
        def warning_detected(self) -> bool:
            """Whether the last value left the detector in its warning zone (False if none)."""
            return self._warning_detected

    else:
        # Read-only properties whose getter is C code: the flags are read after every
        # update, and a Python getter would add a function call (~20 ns) to each read.
        drift_detected = property(
            operator.attrgetter("_drift_detected"),
            doc="Whether the last value completed a drift.",
        )
        warning_detected = property(
            operator.attrgetter("_warning_detected"),
            doc="Whether the last value left the detector in its warning zone (False if none).",
        )

    @abstractmethod
    def update(self, x: float) -> Self:
        """Read one value; return the detector."""

    def update_many(self, values: Iterable[float] | np.ndarray) -> np.ndarray:
        """Read many values; return the positions in ``values`` where drift was detected."""
        xs = self._check_values(values)
        if not self._ready:
            self.reset()
        hits = []
        start = 0
        size = FIRST_CHUNK
        while start < len(xs):
            chunk = xs[start : start + size]
            hit = self._run_chunk(chunk)
            if hit < 0:
                start += len(chunk)
                size = min(2 * size, MAX_CHUNK)
            else:
                hits.append(start + hit)
                # the next run is likely about as long as this one: twice that usually
                # reaches the next detection in one call without much work past it
                run = start + hit - (hits[-2] if len(hits) > 1 else -1)
                size = min(max(2 * run, FIRST_CHUNK), MAX_CHUNK)
                start += hit + 1
        return np.asarray(hits, dtype=np.intp)

    def reset(self) -> Self:
        """Forget everything seen so far, as if freshly constructed."""
        self._check_params()
        self._clear()
        self._drift_detected = False
        self._warning_detected = False
        self._ready = True
        return self

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, by name."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def clone(self) -> Self:
        """A fresh detector with the same parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @abstractmethod
    def _check_params(self) -> None:
        """Raise ValidationError naming the first invalid parameter."""

    @abstractmethod
    def _clear(self) -> None:
        """Set the learned state to that of a detector that has seen nothing."""

    def _run_chunk(self, xs: np.ndarray) -> int:
        """Feed ``xs`` from the current state; stop after the first detection.

        Returns the position of that detection (the detector is then fresh, with
        ``drift_detected`` set) or -1 when all of ``xs`` was read without one. Subclasses
        replace this loop with a vectorised kernel that computes the same numbers.
        """
        update = self.update
        for i, x in enumerate(xs.tolist()):
            if update(x)._drift_detected:
                return i
        return -1

    def _check_values(self, values: Iterable[float] | np.ndarray) -> np.ndarray:
        """``values`` as a 1-D float64 array, or ValidationError naming the first bad one."""
        name = type(self).__name__
        items = values if isinstance(values, np.ndarray) else list(values)
        array = np.asarray(items)
        if array.ndim != 1:
            raise ValidationError(
                f"{name}.update_many: values must be one-dimensional, got shape {array.shape}"
            )
        if array.dtype.kind not in "biuf":
            array = self._numbers_only(items)
        xs = array.astype(float, copy=False)
        bad = _outside_domain(xs, self.input_kind)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError(
                f"{name}.update_many: values[{i}] = {float(xs[i])!r} is not valid; each value"
                f" must be {_KIND_TEXT[self.input_kind]}"
            )
        return xs

    def _numbers_only(self, items: Any) -> np.ndarray:
        """Values that numpy did not read as numbers: each must be a real number."""
        seq = items.tolist() if isinstance(items, np.ndarray) else items
        for i, v in enumerate(seq):
            if not isinstance(v, numbers.Real | np.bool_):
                raise ValidationError(
                    f"{type(self).__name__}.update_many: values[{i}] = {v!r} is not a number;"
                    f" each value must be {_KIND_TEXT[self.input_kind]}"
                )
        try:
            return np.asarray([float(v) for v in seq])
        except OverflowError as exc:
            raise ValidationError(
                f"{type(self).__name__}.update_many: values hold a number too large ({exc})"
            ) from exc

    def _bad_value(self, x: object) -> ValidationError:
        """The error for one value outside the detector's input domain."""
        return ValidationError(
            f"{type(self).__name__}.update: x = {x!r} is not valid; x must be"
            f" {_KIND_TEXT[self.input_kind]}"
        )

    def _to_float(self, x: object) -> float:
        """``x`` as a finite float; the slow path of ``update`` for values that are not floats."""
        if x.__class__ is int:  # 0/1 outcomes and counts: common, and finite once converted
            try:
                return float(x)
            except OverflowError:
                raise self._bad_value(x) from None
        if isinstance(x, numbers.Real | np.bool_):
            try:
                value = float(x)
            except (OverflowError, ValueError):
                raise self._bad_value(x) from None
            if math.isfinite(value):
                return value
        raise self._bad_value(x)


def _outside_domain(xs: np.ndarray, kind: InputKind) -> np.ndarray:
    if kind == "binary":
        return (xs != 0.0) & (xs != 1.0)
    if kind == "unit":
        return ~((xs >= 0.0) & (xs <= 1.0))
    return ~np.isfinite(xs)


def param_error(owner: object, name: str, value: object, rule: str) -> ValidationError:
    """The error for a constructor argument that breaks ``rule``."""
    return ValidationError(
        f"{type(owner).__name__}: parameter {name}={value!r} is invalid; it must be {rule}"
    )


def check_int(owner: object, name: str, low: int) -> int:
    """The integer parameter ``name`` of ``owner``, checked to be at least ``low``."""
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise param_error(owner, name, value, f"an integer >= {low}")
    return int(value)


def check_float(
    owner: object,
    name: str,
    low: float,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """The real parameter ``name`` of ``owner``, checked to lie between ``low`` and ``high``."""
    value = getattr(owner, name)
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    number = float(value) if ok else math.nan
    above = number > low if open_low else number >= low
    below = number < high if open_high else number <= high
    if not (ok and above and below and math.isfinite(number)):
        interval = f"{'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
        raise param_error(owner, name, value, f"a finite number in {interval}")
    return number
