"""Conformance checks for streaming drift detectors, run over every detector.

Each check takes a factory (a callable returning a fresh detector, with its seed fixed when
it draws random numbers) and raises :class:`AssertionError` saying what broke::

    >>> from driftline.drift.streaming import PageHinkley
    >>> from driftline.testing.detector_checks import check_detector
    >>> check_detector(PageHinkley)

In a test suite, parametrize over ``DETECTOR_CHECKS`` to see each check pass or fail on its
own. The streams are generated from the detector's ``input_kind``: normal values for
``"real"``, Bernoulli errors for ``"binary"`` and ``"unit"``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from driftline.drift.streaming import StreamingDetector
from driftline.exceptions import ValidationError

__all__ = [
    "DETECTOR_CHECKS",
    "check_bad_values_rejected",
    "check_constant_stream_is_quiet",
    "check_detector",
    "check_detects_abrupt_shift",
    "check_flags",
    "check_init_stores_params",
    "check_invalid_param",
    "check_reset_restores_initial_behaviour",
    "check_update_many_keeps_state",
    "check_update_many_matches_update",
    "check_update_returns_self",
    "shift_stream",
]

Factory = Callable[[], StreamingDetector]

CHANGE_AT = 1000


def _expect(ok: bool, message: str) -> None:
    if not ok:
        raise AssertionError(message)


def shift_stream(kind: str, seed: int, segments: int = 2, length: int = CHANGE_AT) -> np.ndarray:
    """Segments of ``length`` values whose level alternates low/high, for an input kind."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(segments):
        high = i % 2 == 1
        if kind == "real":
            parts.append(rng.normal(3.0 if high else 0.0, 1.0, length))
        else:
            parts.append((rng.random(length) < (0.6 if high else 0.1)).astype(float))
    return np.concatenate(parts)


def _loop(detector: StreamingDetector, values: np.ndarray) -> list[int]:
    hits = []
    for i, x in enumerate(values.tolist()):
        if detector.update(x).drift_detected:
            hits.append(i)
    return hits


def _bad_values(kind: str) -> list[Any]:
    bad: list[Any] = [math.nan, math.inf, "0.5", None]
    if kind == "binary":
        bad += [0.5, 2]
    elif kind == "unit":
        bad += [1.5, -0.1]
    return bad


def check_init_stores_params(factory: Factory) -> None:
    """The constructor stores its arguments and nothing else; clone() copies them."""
    detector = factory()
    params = detector.get_params()
    _expect(
        set(vars(detector)) == set(params),
        f"{detector!r}: __init__ must only store its parameters, it set {sorted(vars(detector))}",
    )
    twin = detector.clone()
    _expect(twin.get_params() == params, f"{detector!r}: clone() changed the parameters")
    _expect(twin is not detector, f"{detector!r}: clone() returned the same object")


def check_update_returns_self(factory: Factory) -> None:
    """update() returns the detector itself; reset() too."""
    detector = factory()
    value = shift_stream(detector.input_kind, 0)[0]
    _expect(detector.update(value) is detector, f"{detector!r}: update() must return self")
    _expect(detector.reset() is detector, f"{detector!r}: reset() must return self")


def check_flags(factory: Factory) -> None:
    """The flags are read-only, start False, and drift and warning are never both set."""
    detector = factory()
    _expect(not detector.drift_detected, f"{detector!r}: drift_detected set before any value")
    _expect(not detector.warning_detected, f"{detector!r}: warning_detected set before any value")
    for flag in ("drift_detected", "warning_detected"):
        try:
            setattr(detector, flag, True)
        except AttributeError:
            continue
        raise AssertionError(f"{detector!r}: {flag} must be read-only")
    for x in shift_stream(detector.input_kind, 1, segments=4).tolist():
        detector.update(x)
        _expect(
            not (detector.drift_detected and detector.warning_detected),
            f"{detector!r}: drift and warning reported for the same value",
        )


def check_constant_stream_is_quiet(factory: Factory) -> None:
    """No detection and no warning on a constant stream."""
    kind = factory().input_kind
    for level in [0.5, -3.0] if kind == "real" else [0.0, 1.0]:
        detector = factory()
        hits = detector.update_many(np.full(3000, level))
        _expect(len(hits) == 0, f"{detector!r}: drift at {hits[:5]} on a constant {level}")
        detector = factory()
        for _ in range(500):
            detector.update(level)
            _expect(not detector.warning_detected, f"{detector!r}: warning on a constant {level}")


def check_detects_abrupt_shift(factory: Factory, max_delay: int = 300, seed: int = 0) -> None:
    """A large shift at position 1000 is detected within ``max_delay`` values."""
    detector = factory()
    values = shift_stream(detector.input_kind, seed)
    hits = [h for h in _loop(detector, values) if h >= CHANGE_AT]
    _expect(
        bool(hits) and hits[0] < CHANGE_AT + max_delay,
        f"{factory()!r}: shift at {CHANGE_AT} not detected within {max_delay} values"
        f" (detections after it: {hits[:5]})",
    )


def check_update_many_matches_update(factory: Factory, seed: int = 2) -> None:
    """update_many gives the detections and the flags of an update loop."""
    reference = factory()
    values = shift_stream(reference.input_kind, seed, segments=6, length=700)
    expected = _loop(reference, values)
    got = factory().update_many(values)
    _expect(got.dtype.kind == "i", f"{reference!r}: update_many must return integer positions")
    _expect(
        got.tolist() == expected,
        f"{reference!r}: update_many found {got.tolist()[:8]}, the loop {expected[:8]}",
    )
    for cut in sorted(np.random.default_rng(seed).integers(1, len(values), 5).tolist()):
        many = factory()
        many.update_many(values[:cut])
        looped = factory()
        _loop(looped, values[:cut])
        flags = (many.drift_detected, many.warning_detected)
        _expect(
            flags == (looped.drift_detected, looped.warning_detected),
            f"{reference!r}: flags after update_many(values[:{cut}]) differ from the loop's",
        )
    from_list = factory().update_many(values.tolist()).tolist()
    _expect(from_list == expected, f"{reference!r}: update_many(list) differs from the array")


def check_update_many_keeps_state(factory: Factory, seed: int = 3) -> None:
    """update_many continues from the state it finds and leaves the loop's state behind."""
    reference = factory()
    values = shift_stream(reference.input_kind, seed, segments=6, length=700)
    expected = _loop(reference, values)
    rng = np.random.default_rng(seed)
    for cut in [0, *sorted(rng.integers(1, len(values), 3).tolist()), len(values)]:
        split = factory()
        head = split.update_many(values[:cut]).tolist()
        tail = [cut + h for h in _loop(split, values[cut:])]
        _expect(
            head + tail == expected,
            f"{reference!r}: update_many on values[:{cut}] left a different state behind",
        )
    cuts = [0, *sorted(rng.integers(1, len(values), 6).tolist()), len(values)]
    pieces = factory()
    found = [a + h for a, b in itertools.pairwise(cuts) for h in pieces.update_many(values[a:b])]
    _expect(
        found == expected,
        f"{reference!r}: update_many called piece by piece found {found[:8]},"
        f" the loop {expected[:8]}",
    )
    for cut in sorted(rng.integers(1, len(values), 5).tolist()):
        looped_first = factory()
        head = _loop(looped_first, values[:cut])
        tail = [cut + int(h) for h in looped_first.update_many(values[cut:])]
        _expect(
            head + tail == expected,
            f"{reference!r}: update_many after {cut} updates found different detections",
        )


def check_reset_restores_initial_behaviour(factory: Factory) -> None:
    """After reset() the detector behaves exactly as a fresh one."""
    detector = factory()
    kind = detector.input_kind
    detector.update_many(shift_stream(kind, 3, segments=3, length=600))
    detector.reset()
    _expect(
        not (detector.drift_detected or detector.warning_detected),
        f"{detector!r}: flags still set after reset()",
    )
    values = shift_stream(kind, 4)
    _expect(
        _loop(detector, values) == _loop(factory(), values),
        f"{detector!r}: detections after reset() differ from a fresh detector's",
    )


def check_bad_values_rejected(factory: Factory) -> None:
    """Bad values raise ValidationError naming the value, and change nothing."""
    probe = factory()
    kind = probe.input_kind
    values = shift_stream(kind, 5)
    expected = _loop(factory(), values)
    detector = factory()
    hits = []
    for i, x in enumerate(values.tolist()):
        if i == CHANGE_AT - 7:
            for bad in _bad_values(kind):
                try:
                    detector.update(bad)
                except ValidationError as exc:
                    _expect(repr(bad) in str(exc), f"{probe!r}: error for {bad!r} hides it: {exc}")
                else:
                    raise AssertionError(f"{probe!r}: update({bad!r}) was accepted")
        if detector.update(x).drift_detected:
            hits.append(i)
    _expect(hits == expected, f"{probe!r}: rejected values changed the detections")
    for bad in _bad_values(kind):
        try:
            factory().update_many([values[0], bad])
        except ValidationError as exc:
            _expect("values[1]" in str(exc), f"{probe!r}: error does not name values[1]: {exc}")
        else:
            raise AssertionError(f"{probe!r}: update_many accepted {bad!r}")


def check_invalid_param(factory: Factory, name: str) -> None:
    """A detector built with an invalid ``name`` is built, then fails on first use naming it."""
    detector = factory()  # building must not validate (scikit-learn's contract)
    value = shift_stream(detector.input_kind, 0)[0]
    for use in (lambda: detector.update(value), lambda: detector.update_many([value])):
        try:
            use()
        except ValidationError as exc:
            _expect(name in str(exc), f"{detector!r}: the error does not name {name!r}: {exc}")
        else:
            raise AssertionError(f"{detector!r}: invalid {name!r} was accepted")


DETECTOR_CHECKS: tuple[Callable[[Factory], None], ...] = (
    check_init_stores_params,
    check_update_returns_self,
    check_flags,
    check_constant_stream_is_quiet,
    check_detects_abrupt_shift,
    check_update_many_matches_update,
    check_update_many_keeps_state,
    check_reset_restores_initial_behaviour,
    check_bad_values_rejected,
)


def check_detector(factory: Factory) -> None:
    """Run every check of ``DETECTOR_CHECKS`` on ``factory``."""
    for check in DETECTOR_CHECKS:
        check(factory)
