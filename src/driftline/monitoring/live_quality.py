"""Data quality of live traffic: the model version's quality suite over windows of its inputs.

A suite is found in this order: the YAML suite stored with the model version (an artifact
named by the version's ``driftline.quality_suite`` tag, see :func:`quality_suite_tags`), else
a suite suggested from the version's training dataset (its input columns only; review and
store a real one), else none. Each window's violation rate per check is the share of its
records that break the check; checks that judge a whole batch (schema, row count) give 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftline.exceptions import DriftlineError, ValidationError
from driftline.quality import CheckResult, Suite, suggest

if TYPE_CHECKING:
    from driftline.registry import ModelVersion
    from driftline.workspace import Workspace

__all__ = [
    "SUITE_TAG",
    "LiveSuite",
    "check_label",
    "quality_suite_tags",
    "suite_for_version",
    "violation_rates",
]

#: The model-version tag holding the sha256 of the suite's YAML in the artifact store.
SUITE_TAG = "driftline.quality_suite"


@dataclass(frozen=True)
class LiveSuite:
    """The suite used for one model version and where it came from.

    ``source`` is ``"stored"`` (the version's tag), ``"suggested"`` (inferred from the training
    dataset version ``dataset``) or ``"none"`` (with the reason in ``reason``).
    """

    suite: Suite | None
    source: str
    reason: str = ""
    dataset: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without the suite itself."""
        out: dict[str, Any] = {"source": self.source, "checks": len(self.suite or ())}
        if self.reason:
            out["reason"] = self.reason
        if self.dataset:
            out["dataset"] = self.dataset
        return out


def quality_suite_tags(workspace: Workspace, suite: Suite) -> dict[str, str]:
    """Store ``suite`` as YAML in the artifact store; the tags to register a version with.

    >>> import tempfile
    >>> from driftline import Workspace
    >>> from driftline.quality import Completeness, Suite
    >>> ws = Workspace.open(home=tempfile.mkdtemp())
    >>> sorted(quality_suite_tags(ws, Suite([Completeness("age")])))
    ['driftline.quality_suite']
    >>> ws.close()
    """
    if not isinstance(suite, Suite):
        raise ValidationError(f"quality_suite_tags takes a driftline.quality.Suite, not {suite!r}")
    stored = workspace.artifacts.put_bytes(suite.to_yaml().encode("utf-8"))
    return {SUITE_TAG: stored.sha256}


def suite_for_version(
    workspace: Workspace,
    version: ModelVersion,
    *,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> LiveSuite:
    """The suite to run on ``version``'s live inputs (see the module docstring for the order)."""
    sha = version.tags.get(SUITE_TAG)
    if sha:
        try:
            text = workspace.artifacts.get_bytes(sha).decode("utf-8")
        except (DriftlineError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"{version.uri}: tag {SUITE_TAG!r} names artifact {sha!r}, which cannot be read: "
                f"{exc}"
            ) from None
        return LiveSuite(Suite.from_yaml(text, functions=functions), "stored")
    if version.dataset_version_id is None:
        return LiveSuite(None, "none", reason="no stored suite and no training dataset version")
    dataset = workspace.datasets.get(version.dataset_version_id)
    frame = workspace.datasets.load(dataset)
    inputs = version.signature.columns if version.signature else list(frame.columns)
    missing = [c for c in inputs if c not in frame.columns]
    if missing:
        return LiveSuite(None, "none", reason=f"training dataset lacks inputs {missing}")
    return LiveSuite(suggest(frame[inputs]), "suggested", dataset=dataset.ref)


def check_label(result: CheckResult) -> str:
    """The ``check`` label of a result: ``range:age``, ``unique:a,b``, or ``row_count``."""
    columns = ",".join(result.columns) if result.columns else (result.column or "")
    return f"{result.name}:{columns}" if columns else result.name


def violation_rates(suite: Suite, features: pd.DataFrame) -> dict[str, float]:
    """Share of the records in ``features`` that break each check, by :func:`check_label`.

    >>> import pandas as pd
    >>> from driftline.quality import Suite, ValueRange
    >>> frame = pd.DataFrame({"age": [20, 30, 150, 40]})
    >>> violation_rates(Suite([ValueRange("age", min=0, max=120)]), frame)
    {'range:age': 0.25}
    """
    if not len(features):
        raise ValidationError("violation_rates needs at least one record")
    rates: dict[str, float] = {}
    for result in suite.run(features, workers=1).checks:
        if result.failed_rows is not None and result.rows_checked:
            rate = result.failed_rows / result.rows_checked
        else:
            rate = 0.0 if result.passed else 1.0
        label = check_label(result)
        # Two checks of one kind on one column: the worse of the two speaks for both.
        rates[label] = max(rate, rates.get(label, 0.0))
    return rates
