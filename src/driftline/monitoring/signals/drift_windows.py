"""Drift of served traffic: windows of the prediction log against the model's reference.

Each complete window (a span of time, or a count of rows) of one model version's logged
inputs is compared with the reference profile stored with that version at registration.
The result is stored as a drift event, audited, and linked in lineage
(model version -> drift event), so a retrain it causes can point back at it. Windows are
processed once: the monitor resumes after the newest stored window of the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, insert, select

from driftline._canonical import canonical_json, loads
from driftline.exceptions import ValidationError
from driftline.ids import uuid7
from driftline.store import iso_utc
from driftline.store._drift_tables import drift_events

if TYPE_CHECKING:
    from driftline.drift import Profile
    from driftline.workspace import Workspace

__all__ = ["DriftEvent", "DriftMonitor", "latest_events"]


@dataclass(frozen=True)
class DriftEvent:
    """One monitored window and its drift decision."""

    id: str
    model_name: str
    model_version: int
    window_start: str
    window_end: str
    rows: int
    drift_detected: bool
    drift_share: float
    features: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


class DriftMonitor:
    """Compares prediction-log windows of ``model`` with each version's reference profile."""

    def __init__(
        self,
        workspace: Workspace,
        model: str,
        *,
        window: timedelta | int = timedelta(hours=1),
        min_rows: int = 30,
        correction: str = "bonferroni",
        predictions_dir: Path | None = None,
    ) -> None:
        if isinstance(window, int) and window < min_rows:
            raise ValidationError(f"a window of {window} rows is below min_rows={min_rows}")
        self.workspace = workspace
        self.model = model
        self.window = window
        self.min_rows = min_rows
        self.correction = correction
        self.predictions_dir = predictions_dir or workspace.home / "predictions"
        self._profiles: dict[int, Profile] = {}

    def run_once(self, *, now: datetime | None = None) -> list[DriftEvent]:
        """Process every complete window not processed yet; return the new events."""
        from driftline.predlog import features_frame, read_predictions

        now = now or self.workspace.store.clock()
        since = self._last_window_end()
        if not self.predictions_dir.exists():
            return []
        logged = read_predictions(self.predictions_dir, model=self.model, since=since)
        if since is not None and len(logged):
            logged = logged[logged["time"] > pd.Timestamp(since)]
        events = []
        for version, rows in logged.groupby("version", sort=True):
            for window in self._windows(rows.sort_values("time", kind="stable"), now):
                events.append(self._evaluate(int(version), window, features_frame(window)))
        return events

    def _windows(self, rows: pd.DataFrame, now: datetime) -> Iterator[pd.DataFrame]:
        if isinstance(self.window, int):
            for start in range(0, len(rows) - self.window + 1, self.window):
                yield rows.iloc[start : start + self.window]
            return
        buckets = rows["time"].dt.floor(pd.Timedelta(self.window))
        for bucket, window in rows.groupby(buckets, sort=True):
            if (
                bucket + pd.Timedelta(self.window) <= pd.Timestamp(now)
                and len(window) >= self.min_rows
            ):
                yield window

    def _evaluate(self, version: int, window: pd.DataFrame, features: pd.DataFrame) -> DriftEvent:
        from driftline.drift import compare

        profile = self._profile(version)
        report = compare(profile, features[list(profile.features_)], correction=self.correction)
        summary = report.to_dict()
        event = DriftEvent(
            id=str(uuid7()),
            model_name=self.model,
            model_version=version,
            window_start=iso_utc(window["time"].iloc[0].to_pydatetime()),
            window_end=iso_utc(window["time"].iloc[-1].to_pydatetime()),
            rows=len(window),
            drift_detected=bool(summary["drift_detected"]),
            drift_share=float(summary["drift_share"]),
            features={name: _feature_summary(f) for name, f in summary["features"].items()},
        )
        self._store(event)
        return event

    def _profile(self, version: int) -> Profile:
        if version not in self._profiles:
            from driftline.drift import Profile

            registered = self.workspace.registry.get(f"{self.model}/{version}")
            if not registered.reference_profile_sha256:
                raise ValidationError(
                    f"{registered.uri} has no reference profile; register it with its "
                    "training data (--data) to monitor drift"
                )
            data = self.workspace.artifacts.get_bytes(registered.reference_profile_sha256)
            self._profiles[version] = Profile.from_json(data.decode())
        return self._profiles[version]

    def _store(self, event: DriftEvent) -> None:
        ws = self.workspace
        version_id = ws.registry.get(f"{event.model_name}/{event.model_version}").id
        row = {
            **event.to_dict(),
            "report": canonical_json(event.features).decode(),
            "created_at": iso_utc(ws.store.clock()),
        }
        del row["features"]
        with ws.store.write() as conn:
            conn.execute(insert(drift_events).values(**row))
            ws.audit.append(
                conn,
                action="drift.window",
                subject=f"drift/{event.id}",
                payload={
                    "model": event.model_name,
                    "version": event.model_version,
                    "drift_detected": event.drift_detected,
                    "drift_share": event.drift_share,
                    "rows": event.rows,
                },
            )
            ws.lineage.add_node(
                event.id,
                "drift_event",
                f"drift of {event.model_name}/{event.model_version}",
                conn=conn,
                attributes={
                    "drift_detected": event.drift_detected,
                    "drift_share": event.drift_share,
                    "window_start": event.window_start,
                    "window_end": event.window_end,
                    "rows": event.rows,
                },
            )
            ws.lineage.add_edge(version_id, event.id, "detected", conn=conn)

    def _last_window_end(self) -> datetime | None:
        with self.workspace.store.read() as conn:
            last = conn.execute(
                select(func.max(drift_events.c.window_end)).where(
                    drift_events.c.model_name == self.model
                )
            ).scalar()
        return datetime.fromisoformat(last) if last else None


def _feature_summary(feature: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "method",
        "statistic",
        "p_value",
        "threshold",
        "drift_detected",
        "missing_share_cur",
        "unseen_share",
    )
    return {k: feature.get(k) for k in keys}


def latest_events(
    workspace: Workspace, model: str | None = None, *, limit: int = 50
) -> list[DriftEvent]:
    """The newest stored drift events, newest first."""
    query = select(drift_events).order_by(drift_events.c.window_end.desc()).limit(limit)
    if model is not None:
        query = query.where(drift_events.c.model_name == model)
    with workspace.store.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        DriftEvent(
            id=r["id"],
            model_name=r["model_name"],
            model_version=int(r["model_version"]),
            window_start=r["window_start"],
            window_end=r["window_end"],
            rows=int(r["rows"]),
            drift_detected=bool(r["drift_detected"]),
            drift_share=float(r["drift_share"]),
            features=loads(r["report"]),
        )
        for r in rows
    ]
