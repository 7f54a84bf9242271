"""Training runs: call the user's function on a dataset version, evaluate, register, record.

A run is recorded when it starts (row ``running``, lineage START with the dataset version as
input). It ends either COMPLETE, in one transaction with the model version it registered, its
metrics and its lineage output edge; or FAILED with the error, registering nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update

from driftline._canonical import canonical_json, loads
from driftline.exceptions import DriftlineError, NotFoundError, ValidationError
from driftline.ids import uuid7
from driftline.store import iso_utc
from driftline.store._training_tables import training_runs
from driftline.training._compare import Comparison
from driftline.training._comparisons import compare_versions
from driftline.training._environment import capture_environment
from driftline.training._evaluation import Evaluation, evaluate

if TYPE_CHECKING:
    from driftline.data import Datasets, DatasetVersion
    from driftline.lineage import Lineage
    from driftline.registry import ModelVersion, Registry

__all__ = ["Run", "Trainer", "TrainingError", "TrainingResult"]

TrainFn = Callable[[pd.DataFrame, dict[str, Any]], Any]


class TrainingError(ValidationError):
    """The training function failed or returned nothing a flavor can save."""


@dataclass(frozen=True)
class Run:
    """One training run as recorded."""

    id: str
    name: str
    status: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    seed: int | None
    inputs: list[str]
    model_version_id: str | None
    environment: dict[str, Any]
    error: str | None
    started_at: str
    ended_at: str | None

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class TrainingResult:
    """A completed run, the model version it registered and the holdout evaluation."""

    run: Run
    model_version: ModelVersion
    evaluation: Evaluation | None

    def summary(self) -> dict[str, Any]:
        """``{"run_id", "status", "model", "version", "metrics"}`` (the CLI's JSON)."""
        return {
            "run_id": self.run.id,
            "status": self.run.status,
            "model": self.model_version.name,
            "version": self.model_version.version,
            "metrics": self.run.metrics,
        }


class Trainer:
    """Runs training functions on dataset versions (``ws.training``)."""

    def __init__(self, *, datasets: Datasets, registry: Registry, lineage: Lineage) -> None:
        self.datasets = datasets
        self.registry = registry
        self.lineage = lineage
        self.store = datasets.store
        self.audit = datasets.audit

    def train(
        self,
        train_fn: TrainFn,
        *,
        data: str | DatasetVersion,
        name: str,
        target: str,
        params: Mapping[str, Any] | None = None,
        task: str = "classification",
        seed: int | None = 0,
        holdout: float = 0.2,
        slices: Sequence[str] = (),
        flavor: str | None = None,
        description: str | None = None,
    ) -> TrainingResult:
        """Train on the first ``1 - holdout`` of the rows (time order kept), evaluate on the
        rest, register the model; ``train_fn(frame, params)`` returns the fitted model or
        ``(model, metrics)``. With ``seed``, Python's and numpy's global generators are seeded
        too, for training code that uses them."""
        version = data if not isinstance(data, str) else self.datasets.get(data)
        frame = self.datasets.load(version)
        _check_columns(frame, target, slices)
        train_part, test_part = _split(frame, holdout)
        run_params = {**(params or {}), **({"seed": seed} if seed is not None else {})}
        run = self._start(name, version, run_params, seed)
        try:
            model, user_metrics = self._call(train_fn, train_part, run_params, seed)
            saved, evaluation = self._evaluate(model, flavor, test_part, target, task, slices)
        except BaseException as exc:
            self._fail(run, exc)
            if isinstance(exc, DriftlineError | KeyboardInterrupt):
                raise
            raise TrainingError(
                f"training function {getattr(train_fn, '__name__', train_fn)!r} failed in run "
                f"{run.id}: {type(exc).__name__}: {exc}"
            ) from exc
        metrics = {**(evaluation.overall if evaluation else {}), **user_metrics}
        try:
            return self._complete(
                run, saved, metrics, evaluation, train_part, target, version, description
            )
        except BaseException as exc:  # e.g. the model cannot load back for its smoke test
            self._fail(run, exc)  # the run ends failed instead of staying "running"
            raise

    def compare(
        self,
        name: str,
        challenger: int,
        champion: int,
        *,
        data: str | DatasetVersion,
        **options: Any,
    ) -> Comparison:
        """Compare two versions of ``name`` on a labelled dataset version and store the
        decision and its evidence (see :func:`driftline.training.compare`)."""
        return compare_versions(
            self.registry,
            self.datasets,
            name=name,
            challenger=challenger,
            champion=champion,
            data=data,
            **options,
        )

    def get(self, run_id: str) -> Run:
        """A recorded run by id."""
        with self.store.read() as conn:
            row = (
                conn.execute(select(training_runs).where(training_runs.c.id == run_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFoundError(f"training run {run_id!r} not found")
        return _run(row)

    def list(self, name: str | None = None) -> list[Run]:
        """Recorded runs, oldest first."""
        query = select(training_runs).order_by(training_runs.c.started_at)
        if name is not None:
            query = query.where(training_runs.c.name == name)
        with self.store.read() as conn:
            return [_run(row) for row in conn.execute(query).mappings()]

    def _start(
        self, name: str, version: DatasetVersion, params: dict[str, Any], seed: int | None
    ) -> Run:
        run_id = str(uuid7())
        row = {
            "id": run_id,
            "name": name,
            "status": "running",
            "params": _json(params),
            "metrics": "{}",
            "seed": seed,
            "inputs": _json([version.id]),
            "model_version_id": None,
            "environment": _json(capture_environment()),
            "error": None,
            "started_at": iso_utc(self.datasets.clock()),
            "ended_at": None,
            "created_by": self.audit.actor,
        }
        with self.store.write() as conn:
            conn.execute(insert(training_runs).values(**row))
            self.audit.append(
                conn,
                action="run.start",
                subject=f"run/{run_id}",
                payload={"name": name, "data": version.ref},
            )
            self.lineage.start_run(
                f"train/{name}", run_id=run_id, inputs=[version.id], parameters=params, conn=conn
            )
        return _run(row)

    def _call(
        self, train_fn: TrainFn, frame: pd.DataFrame, params: dict[str, Any], seed: int | None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed % 2**32)
        returned = train_fn(frame.copy(), dict(params))
        model, metrics = returned if isinstance(returned, tuple) else (returned, {})
        if model is None:
            raise TrainingError(f"training function {train_fn.__name__!r} returned no model")
        if not isinstance(metrics, Mapping):
            raise TrainingError("a training function returns a model or (model, metrics dict)")
        return model, dict(metrics)

    def _evaluate(
        self,
        model: Any,
        flavor: str | None,
        test: pd.DataFrame,
        target: str,
        task: str,
        slices: Sequence[str],
    ) -> tuple[Any, Evaluation | None]:
        from driftline.registry._models import saved_from
        from driftline.registry.flavors import get_flavor

        saved = saved_from(model, flavor)
        if test.empty:
            return saved, None
        loaded = get_flavor(saved.flavor).load(saved.data, saved.meta)  # what will be served
        features = test.drop(columns=[target])
        proba = loaded.predict_proba(features) if loaded.has_proba else None
        evaluation = evaluate(
            task,
            test[target].to_numpy(),
            loaded.predict(features),
            proba,
            slices={s: test[s].to_numpy() for s in slices} or None,
            labels=loaded.classes,
        )
        return saved, evaluation

    def _complete(
        self,
        run: Run,
        saved: Any,
        metrics: dict[str, Any],
        evaluation: Evaluation | None,
        train_part: pd.DataFrame,
        target: str,
        version: DatasetVersion,
        description: str | None,
    ) -> TrainingResult:
        from driftline.registry._models import register_model

        stored_metrics = _finite(metrics)
        if evaluation is not None and evaluation.per_slice:
            stored_metrics["per_slice"] = evaluation.to_dict()["per_slice"]
        with self.store.write() as conn:
            model_version = register_model(
                self.registry,
                run.name,
                saved,
                frame=train_part,
                target=target,
                dataset=version,
                run_id=run.id,
                metrics=stored_metrics,
                params=run.params,
                description=description,
                conn=conn,
            )
            ended = iso_utc(self.datasets.clock())
            conn.execute(
                update(training_runs)
                .where(training_runs.c.id == run.id)
                .values(
                    status="completed",
                    metrics=_json(stored_metrics),
                    model_version_id=model_version.id,
                    ended_at=ended,
                )
            )
            self.lineage.finish_run(run.id, outputs=[model_version.id], conn=conn)
            self.audit.append(
                conn,
                action="run.complete",
                subject=f"run/{run.id}",
                payload={"model_version_id": model_version.id},
            )
        return TrainingResult(self.get(run.id), model_version, evaluation)

    def _fail(self, run: Run, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        with self.store.write() as conn:
            conn.execute(
                update(training_runs)
                .where(training_runs.c.id == run.id)
                .values(status="failed", error=message, ended_at=iso_utc(self.datasets.clock()))
            )
            self.lineage.finish_run(run.id, error=exc, conn=conn)
            self.audit.append(
                conn, action="run.fail", subject=f"run/{run.id}", payload={"error": message}
            )


def _check_columns(frame: pd.DataFrame, target: str, slices: Sequence[str]) -> None:
    for column, what in [(target, "target"), *((s, "slice") for s in slices)]:
        if column not in frame.columns:
            raise ValidationError(
                f"{what} column {column!r} is not in the dataset "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )


def _split(frame: pd.DataFrame, holdout: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not 0 <= holdout < 1:
        raise ValidationError(f"holdout must be in [0, 1), got {holdout}")
    cut = len(frame) - round(len(frame) * holdout)
    if cut < 1:
        raise ValidationError("the dataset is too small to keep any rows for training")
    return frame.iloc[:cut].reset_index(drop=True), frame.iloc[cut:].reset_index(drop=True)


def _finite(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in metrics.items()
    }


def _json(value: Any) -> str:
    return canonical_json(value).decode()


def _run(row: Any) -> Run:
    return Run(
        id=row["id"],
        name=row["name"],
        status=row["status"],
        params=loads(row["params"]),
        metrics=loads(row["metrics"]),
        seed=row["seed"],
        inputs=loads(row["inputs"]),
        model_version_id=row["model_version_id"],
        environment=loads(row["environment"]),
        error=row["error"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
    )
