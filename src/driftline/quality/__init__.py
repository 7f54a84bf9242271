"""Data quality checks, declared once and run on batches or on single records.

A :class:`Suite` holds checks (:class:`Completeness`, :class:`Schema`, :class:`ValueRange`,
:class:`AllowedValues`, :class:`Uniqueness`, :class:`Regex`, :class:`RowCount`,
:class:`Freshness`, :class:`Referential`, :class:`Custom`). ``suite.run(frame)`` returns a
:class:`QualityResult`; ``suite.check_record(record)`` a :class:`RecordResult`.

Frames may be pandas (numpy, Arrow or object dtypes), polars, pyarrow or a dict of arrays, and
give identical results, because every input goes through one normalisation where missing means:
null/None/``pd.NA`` in any column; NaN in float columns (polars keeps NaN apart from null,
pandas turns it into null: both are missing here); NaT in datetime columns; ``""`` in text
columns unless the suite says ``empty_is_missing=False``; and any per-column marker declared in
``missing_markers`` (``{"workclass": ["?"], "pdays": [-1]}``). Single records follow the same
rule value by value.

A suite in YAML::

    scoring: weighted            # or soft, seed (see driftline.quality.scoring)
    empty_is_missing: true
    missing_markers: {workclass: ["?"]}
    checks:
      - completeness: {column: age, max_missing: 0.01}
      - range: {column: age, min: 0, max: 120}
      - allowed_values: {column: sex, values: [Female, Male]}
      - unique: {columns: [id]}
      - regex: {column: zip, pattern: '\\d{5}'}
      - row_count: {min: 1000}
      - freshness: {column: updated_at, max_age: 36h}
      - referential: {column: customer_id, reference_column: id}
      - schema: {columns: {age: numeric, sex: categorical}, unexpected: warn}
      - custom: {name: bedrooms_fit, columns: [rooms, bedrooms]}

Every check also takes ``severity`` (``error`` or ``warn``) and ``weight``.
"""

from driftline.quality._base import Check
from driftline.quality._record import RecordChecker
from driftline.quality.categories import AllowedValues
from driftline.quality.completeness import Completeness
from driftline.quality.custom import Columns, Custom
from driftline.quality.freshness import Freshness
from driftline.quality.ranges import ValueRange
from driftline.quality.referential import Referential
from driftline.quality.regex import Regex
from driftline.quality.result import (
    CheckResult,
    ColumnMetrics,
    QualityResult,
    RecordCheckResult,
    RecordResult,
)
from driftline.quality.row_count import RowCount
from driftline.quality.schema import LOGICAL_TYPES, Schema
from driftline.quality.scoring import SCORING_RULES, score
from driftline.quality.suggest import suggest
from driftline.quality.suite import Suite
from driftline.quality.uniqueness import Uniqueness

__all__ = [
    "LOGICAL_TYPES",
    "SCORING_RULES",
    "AllowedValues",
    "Check",
    "CheckResult",
    "ColumnMetrics",
    "Columns",
    "Completeness",
    "Custom",
    "Freshness",
    "QualityResult",
    "RecordCheckResult",
    "RecordChecker",
    "RecordResult",
    "Referential",
    "Regex",
    "RowCount",
    "Schema",
    "Suite",
    "Uniqueness",
    "ValueRange",
    "score",
    "suggest",
]
