"""The retraining policy of a declared pipeline (``driftline.yaml``)."""

from __future__ import annotations

from pathlib import Path

from driftline.retraining.executor import RetrainPolicy

__all__ = ["policy_from_config"]


def policy_from_config(path: Path) -> RetrainPolicy:
    """Retrain the pipeline's model with its entry point, target, task, params and evaluation
    metric; the entry point is imported from the file's folder."""
    from driftline.training._config import load_config

    pipeline = load_config(path)
    return RetrainPolicy(
        model=pipeline.name,
        target=pipeline.target,
        train_fn=pipeline.train_function(path.resolve().parent),
        task=pipeline.task,
        params=pipeline.params,
        metric=pipeline.evaluation.metric,
        slices=tuple(pipeline.evaluation.slices),
    )
