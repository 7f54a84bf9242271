"""``driftline explain PREDICTION_ID``: walk a served prediction back to its data."""

from __future__ import annotations

from typing import Annotated

import typer

from driftline.cli._output import console, open_workspace, print_json

__all__ = ["register"]


def explain(
    ctx: typer.Context,
    prediction_id: Annotated[str, typer.Argument(help="A prediction id from a response.")],
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Show the model version that made a prediction and everything upstream of it."""
    from driftline.serving.explain import explain_prediction

    with open_workspace(ctx) as ws:
        chain = explain_prediction(ws, prediction_id)
    if json:
        print_json(chain)
        return
    out, p, m = console(), chain["prediction"], chain["model_version"]
    # Text shows this model's own generation (up to the drift events, 4 hops); --json has all.
    near = {k: [n for n in v if n["hops"] <= 4] for k, v in chain.items() if isinstance(v, list)}
    out.print(
        f"prediction {p['id']} at {p['time']}: {p['prediction']!r} "
        f"by {m['uri']} (route {p['route']})"
    )
    out.print(f"  model artifact sha256 {m['sha256']}")
    for run in near["runs"]:
        out.print(f"  trained by run {run['id']} ({run['name']})")
    for data in near["dataset_versions"]:
        out.print(
            f"  on dataset {data['name']}:{data['version']} content sha256 {data['content_hash']}"
        )
    for decision in near["retrain_decisions"]:
        out.print(
            f"  because of retrain decision {decision['id']}: "
            f"{decision['attributes'].get('reason', '')}"
        )
    for event in near["drift_events"]:
        out.print(
            f"  caused by drift event {event['id']} (share "
            f"{event['attributes'].get('drift_share')}, window ending "
            f"{event['attributes'].get('window_end')})"
        )


def register(app: typer.Typer) -> None:
    """Add ``explain`` to ``app``."""
    app.command("explain")(explain)
