"""Per-feature signals kept apart from the distribution test: missing share and unseen labels.

Missing values are never dropped silently: each feature reports its missing share on both
sides (null and NaN, plus +-inf for numeric features) and a two-proportion z-test of the
change. The test is flagged when its p-value passes the report's corrected level *and* the
share moved by at least ``min_missing_change`` (on a million rows a 0.01% change is
"significant" but not news). Labels the reference never saw are reported as the share of
current non-missing values they take (``unseen_share``), flagged above ``max_unseen_share``;
they never enter the distribution test, so one new label is never an instant alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftline.drift.univariate.z_test import two_proportion_z

__all__ = ["MissingTest", "missing_test"]


@dataclass(frozen=True)
class MissingTest:
    """Missing share on both sides and the z-test of its change."""

    share_ref: float
    share_cur: float
    statistic: float
    p_value: float

    @property
    def change(self) -> float:
        """Absolute change of the missing share."""
        return abs(self.share_cur - self.share_ref)


def missing_test(ref_rows: int, ref_missing: int, cur_rows: int, cur_missing: int) -> MissingTest:
    """Two-proportion z-test of the missing share (both sides need at least one row)."""
    z, p = two_proportion_z(ref_missing, ref_rows, cur_missing, cur_rows)
    return MissingTest(ref_missing / ref_rows, cur_missing / cur_rows, z, p)
