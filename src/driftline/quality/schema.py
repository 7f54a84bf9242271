"""Schema consistency: declared columns are present with their logical types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast

from driftline.exceptions import ValidationError
from driftline.quality._base import BatchContext, Cell, Check, Outcome, RecordContext, Rule, closest

__all__ = ["LOGICAL_TYPES", "Schema"]

LOGICAL_TYPES = ("numeric", "boolean", "datetime", "categorical", "text")
Unexpected = Literal["forbid", "warn", "allow"]

# Which data kinds satisfy a declared type. Categorical and text are both string-valued: a CSV
# has no categorical type, so whether strings are categories is a modelling choice, not a type.
_ACCEPTS = {
    "numeric": {"numeric"},
    "boolean": {"boolean"},
    "datetime": {"datetime"},
    "categorical": {"text"},
    "text": {"text"},
}


@dataclass(frozen=True)
class Schema(Check):
    """The declared ``columns`` (name to logical type) are present with a compatible type.

    Types are ``numeric``, ``boolean``, ``datetime``, ``categorical`` and ``text`` (the last two
    both accept string columns). A column with no values at all has no type and matches any.
    ``unexpected`` says what to do with columns that are not declared: ``forbid`` fails the
    check, ``warn`` passes with a warning, ``allow`` ignores them. The observed value is the
    number of problems; ``details`` lists them. On a record, a declared key that is absent or a
    present value of the wrong type fails.

    >>> import pandas as pd
    >>> from driftline.quality import Schema, Suite
    >>> frame = pd.DataFrame({"age": [30, 41], "city": ["Oslo", "Lima"], "zip": ["0150", "15"]})
    >>> check = Schema({"age": "numeric", "city": "categorical", "income": "numeric"})
    >>> result = Suite([check]).run(frame)
    >>> result.checks[0].details["missing"], result.checks[0].details["unexpected"]
    (['income'], ['zip'])
    """

    columns: Mapping[str, str] | tuple[tuple[str, str], ...]
    unexpected: Unexpected = "forbid"

    kind: ClassVar[str] = "schema"
    cost: ClassVar[int] = 0
    thread_safe: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        pairs: Any = self.columns.items() if isinstance(self.columns, Mapping) else self.columns
        try:
            columns = tuple((str(name), str(kind)) for name, kind in pairs)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{self.kind}: columns must map column names to types") from exc
        for name, kind in columns:
            if kind not in _ACCEPTS:
                raise ValidationError(
                    f"{self.kind}: column {name!r} has unknown type {kind!r}"
                    f"{closest(kind, _ACCEPTS)} (types: {', '.join(LOGICAL_TYPES)})"
                )
        if self.unexpected not in ("forbid", "warn", "allow"):
            raise ValidationError(
                f"{self.kind}: unexpected must be 'forbid', 'warn' or 'allow', "
                f"got {self.unexpected!r}"
            )
        object.__setattr__(self, "columns", columns)

    @property
    def types(self) -> dict[str, str]:
        """The declared columns as a dict of name to type."""
        return dict(cast(tuple[tuple[str, str], ...], self.columns))

    @property
    def datetime_inputs(self) -> tuple[str, ...]:
        return tuple(name for name, kind in self.types.items() if kind == "datetime")

    def evaluate(self, ctx: BatchContext) -> Outcome:
        table = ctx.table
        declared = self.types
        missing = [name for name in declared if name not in table]
        wrong = {
            name: {"expected": kind, "actual": actual}
            for name, kind in declared.items()
            if name in table
            and (actual := table.kind(name)) != "null"
            and actual not in _ACCEPTS[kind]
        }
        unexpected = [name for name in table.names if name not in declared]
        forbidden = len(unexpected) if self.unexpected == "forbid" else 0
        problems = len(missing) + len(wrong) + forbidden
        warnings: tuple[str, ...] = ()
        if unexpected and self.unexpected == "warn":
            warnings = (f"columns not in the schema: {', '.join(unexpected)}",)
        return Outcome(
            passed=problems == 0,
            observed=problems,
            details={"missing": missing, "wrong_type": wrong, "unexpected": unexpected},
            warnings=warnings,
        )

    def record_rule(self, ctx: RecordContext) -> Rule:
        declared = {name: _ACCEPTS[kind] for name, kind in self.types.items()}
        forbid = self.unexpected == "forbid"

        def rule(cells: Mapping[str, Cell], record: Mapping[str, Any], now_us: int) -> bool:
            for name, accepts in declared.items():
                if name not in record:
                    return False
                cell = cells[name]
                if not cell.missing and cell.kind not in accepts:
                    return False
            return not (forbid and any(key not in declared for key in record))

        return rule

    def expected(self) -> str:
        n = len(self.columns)
        return f"{n} declared columns with their types, unexpected: {self.unexpected}"

    def to_config(self) -> dict[str, Any]:
        config = super().to_config()
        config["columns"] = self.types
        return config
