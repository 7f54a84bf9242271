"""How the balancer picks one upstream among the available ones.

Every strategy has one method, ``select(candidates) -> candidate``, over a non-empty sequence
of objects with ``url``, ``weight`` and ``in_flight``; the balancer calls it under its lock.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol, TypeVar

from driftline.exceptions import ValidationError

__all__ = [
    "STRATEGIES",
    "Candidate",
    "LeastConnections",
    "Random",
    "RoundRobin",
    "Strategy",
    "Weighted",
    "make_strategy",
]


class Candidate(Protocol):
    """What a strategy may look at."""

    @property
    def url(self) -> str: ...

    @property
    def weight(self) -> int: ...

    @property
    def in_flight(self) -> int: ...


C = TypeVar("C", bound=Candidate)


class Strategy(Protocol):
    """The one contract of a balancing strategy."""

    def select(self, candidates: Sequence[C]) -> C: ...


class RoundRobin:
    """Each available upstream in turn.

    >>> from types import SimpleNamespace as U
    >>> ups = [U(url=u, weight=1, in_flight=0) for u in "abc"]
    >>> rr = RoundRobin()
    >>> "".join(rr.select(ups).url for _ in range(7))
    'abcabca'
    """

    name = "round_robin"

    def __init__(self) -> None:
        self._next = 0

    def select(self, candidates: Sequence[C]) -> C:
        """The next candidate in turn."""
        choice = candidates[self._next % len(candidates)]
        self._next += 1
        return choice


class LeastConnections:
    """The upstream with the fewest requests in flight per unit of weight; ties in turn.

    >>> from types import SimpleNamespace as U
    >>> ups = [U(url="a", weight=1, in_flight=3), U(url="b", weight=1, in_flight=1)]
    >>> LeastConnections().select(ups).url
    'b'
    """

    name = "least_connections"

    def __init__(self) -> None:
        self._next = 0

    def select(self, candidates: Sequence[C]) -> C:
        """The least loaded candidate."""
        n = len(candidates)
        start = self._next % n
        self._next += 1
        best = candidates[start]
        best_load = best.in_flight / best.weight
        # Starting the scan at a rotating offset spreads ties (e.g. all idle) evenly.
        for i in range(1, n):
            candidate = candidates[(start + i) % n]
            load = candidate.in_flight / candidate.weight
            if load < best_load:
                best, best_load = candidate, load
        return best


class Weighted:
    """Smooth weighted round robin (nginx): weights 5, 1, 1 give ``a a b a c a a``.

    Every pick adds each candidate's weight to its running score, takes the highest and
    subtracts the total from it, so heavy upstreams are spread out rather than picked in bursts.

    >>> from types import SimpleNamespace as U
    >>> ups = [U(url="a", weight=5, in_flight=0), U(url="b", weight=1, in_flight=0),
    ...        U(url="c", weight=1, in_flight=0)]
    >>> w = Weighted()
    >>> " ".join(w.select(ups).url for _ in range(7))
    'a a b a c a a'
    """

    name = "weighted"

    def __init__(self) -> None:
        self._scores: dict[str, int] = {}

    def select(self, candidates: Sequence[C]) -> C:
        """The candidate with the highest running score."""
        total = 0
        best: C | None = None
        best_score = 0
        for candidate in candidates:
            score = self._scores.get(candidate.url, 0) + candidate.weight
            self._scores[candidate.url] = score
            total += candidate.weight
            if best is None or score > best_score:
                best, best_score = candidate, score
        if best is None:
            raise ValidationError("Weighted.select needs at least one candidate")
        self._scores[best.url] = best_score - total
        return best


class Random:
    """A random upstream, drawn in proportion to weight; ``seed`` or ``rng`` make it repeatable.

    >>> from types import SimpleNamespace as U
    >>> ups = [U(url=u, weight=1, in_flight=0) for u in "ab"]
    >>> r = Random(seed=7)
    >>> "".join(r.select(ups).url for _ in range(8))
    'babaaaba'
    """

    name = "random"

    def __init__(self, *, seed: int | None = None, rng: random.Random | None = None) -> None:
        self.seed = seed
        self.rng = rng if rng is not None else random.Random(seed)

    def select(self, candidates: Sequence[C]) -> C:
        """A weighted random draw."""
        if len(candidates) == 1:
            return candidates[0]
        weights = [c.weight for c in candidates]
        if all(w == 1 for w in weights):
            return candidates[self.rng.randrange(len(candidates))]
        return self.rng.choices(candidates, weights=weights)[0]


STRATEGIES = ("round_robin", "least_connections", "weighted", "random")


def make_strategy(name: str | Strategy, *, seed: int | None = None) -> Strategy:
    """A strategy by name (one of :data:`STRATEGIES`), or ``name`` itself if already one."""
    if not isinstance(name, str):
        return name
    if name == "round_robin":
        return RoundRobin()
    if name == "least_connections":
        return LeastConnections()
    if name == "weighted":
        return Weighted()
    if name == "random":
        return Random(seed=seed)
    raise ValidationError(f"strategy {name!r} is not one of {', '.join(STRATEGIES)}")
