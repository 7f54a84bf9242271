"""Training: runs on dataset versions, evaluation (overall and per slice), champion/challenger
comparison."""

from driftline.training._compare import Comparison, SliceComparison, compare
from driftline.training._evaluation import Evaluation, evaluate
from driftline.training._metrics import METRICS, MetricSpec
from driftline.training._paired_tests import McNemarResult, mcnemar
from driftline.training._runs import Run, Trainer, TrainingError, TrainingResult

__all__ = [
    "METRICS",
    "Comparison",
    "Evaluation",
    "McNemarResult",
    "MetricSpec",
    "Run",
    "SliceComparison",
    "Trainer",
    "TrainingError",
    "TrainingResult",
    "compare",
    "evaluate",
    "mcnemar",
]
