"""Rules that turn per-check results into one quality score between 0 and 1.

``seed`` (the rule driftline's seed used): start at 1 and multiply by

- 0.8 when completeness is below 0.9, where completeness is the mean over the suite's
  completeness checks of ``1 - missing share`` (with no completeness check it does not apply);
- 0.7 when any schema check failed;
- 0.6 when any freshness check failed (stale data).

Each factor applies at most once, so the score is one of 1, 0.8, 0.7, 0.6, 0.56, 0.48, 0.42 and
0.336; failures of other checks (ranges, categories, ...) do not lower it.

``weighted`` (the default): the weighted share of checks that passed,
``sum(weight * passed) / sum(weight)``.

``soft``: like ``weighted``, but a failed row-level check still earns the share of its checked
rows that passed, ``1 - failed_rows / rows_checked``, so 2% bad rows cost less than 60%; a
failed batch-level check (schema, row count, data timestamp) earns 0.

A check's ``severity`` decides whether its failure fails the suite, not how much it costs in
the score; its ``weight`` does that. Every rule gives 1.0 for a suite without checks (or whose
weights are all 0). Scores are rounded to 6 decimals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from driftline.exceptions import ValidationError
from driftline.quality.result import CheckResult

__all__ = ["SCORING_RULES", "score"]

SEED_PENALTIES = {"completeness": 0.8, "schema": 0.7, "freshness": 0.6}


def _seed(checks: Sequence[CheckResult]) -> float:
    value = 1.0
    shares = [c.observed for c in checks if c.kind == "completeness"]
    if shares and 1.0 - sum(shares) / len(shares) < 0.9:
        value *= SEED_PENALTIES["completeness"]
    for kind in ("schema", "freshness"):
        if any(c.kind == kind and not c.passed for c in checks):
            value *= SEED_PENALTIES[kind]
    return value


def _weighted(checks: Sequence[CheckResult], credit: Callable[[CheckResult], float]) -> float:
    total = sum(c.weight for c in checks)
    if total == 0:
        return 1.0
    return sum(c.weight * credit(c) for c in checks) / total


def _soft_credit(check: CheckResult) -> float:
    if check.passed:
        return 1.0
    if check.failed_rows is None or not check.rows_checked:
        return 0.0
    return 1.0 - check.failed_rows / check.rows_checked


_RULES: dict[str, Callable[[Sequence[CheckResult]], float]] = {
    "seed": _seed,
    "weighted": lambda checks: _weighted(checks, lambda c: float(c.passed)),
    "soft": lambda checks: _weighted(checks, _soft_credit),
}
SCORING_RULES = tuple(_RULES)


def score(checks: Sequence[CheckResult], rule: str = "weighted") -> float:
    """The score of ``checks`` under ``rule`` (one of :data:`SCORING_RULES`).

    >>> from driftline.quality import Completeness, Schema, Suite
    >>> frame = {"age": [30.0, None, None, 41.0], "city": ["Oslo", "Lima", "Pune", "Rome"]}
    >>> checks = [Completeness("age"), Schema({"age": "numeric", "city": "numeric"})]
    >>> [Suite(checks, scoring=rule).run(frame).score for rule in ("seed", "weighted", "soft")]
    [0.56, 0.0, 0.25]
    """
    try:
        compute = _RULES[rule]
    except KeyError:
        raise ValidationError(
            f"unknown scoring rule {rule!r}; use one of {', '.join(SCORING_RULES)}"
        ) from None
    return round(float(compute(checks)), 6)  # no 0.5599999999999999 in reports
