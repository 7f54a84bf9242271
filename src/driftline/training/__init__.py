"""Training: model evaluation (overall and per slice) and champion/challenger comparison."""

from driftline.training._compare import Comparison, SliceComparison, compare
from driftline.training._evaluation import Evaluation, evaluate
from driftline.training._metrics import METRICS, MetricSpec
from driftline.training._paired_tests import McNemarResult, mcnemar

__all__ = [
    "METRICS",
    "Comparison",
    "Evaluation",
    "McNemarResult",
    "MetricSpec",
    "SliceComparison",
    "compare",
    "evaluate",
    "mcnemar",
]
