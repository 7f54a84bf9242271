from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from driftline import Workspace
from driftline.exceptions import ConflictError, IntegrityError, NotFoundError, ValidationError
from driftline.registry import Registry, parse_model_ref


class Ticker:
    """A clock that moves one minute per reading."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def registry(workspace: Workspace) -> Registry:
    return Registry(
        store=workspace.store, artifacts=workspace.artifacts, audit=workspace.audit, clock=Ticker()
    )


def _register(registry: Registry, name: str = "fraud", payload: bytes = b"m1"):
    return registry.register_saved(
        name,
        flavor="python",
        data=payload,
        flavor_meta={"k": 1},
        metrics={"auc": 0.9},
        tags={"team": "risk"},
    )


def test_versions_count_up_per_name(registry: Registry) -> None:
    first, second = _register(registry), _register(registry, payload=b"m2")
    other = _register(registry, "churn")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert registry.get("fraud") == second
    assert registry.get("models:/fraud/1") == first
    assert first.metrics == {"auc": 0.9} and first.tags == {"team": "risk"}
    assert [v.uri for v in registry.list()] == [
        "models:/churn/1",
        "models:/fraud/1",
        "models:/fraud/2",
    ]


def test_alias_history_answers_point_in_time_questions(registry: Registry) -> None:
    for payload in (b"a", b"b", b"c"):
        _register(registry, payload=payload)
    moves = [registry.promote("fraud", v, reason=f"step {v}") for v in (1, 2, 3)]
    rolled = registry.rollback("fraud", reason="v3 broke the canary")
    assert (rolled.from_version, rolled.to_version) == (3, 2)
    assert registry.get("models:/fraud@champion").version == 2
    history = registry.alias_history("fraud", "champion")
    assert [(h.from_version, h.to_version) for h in history] == [(None, 1), (1, 2), (2, 3), (3, 2)]
    assert history[-1].reason == "v3 broke the canary"
    at = [datetime.fromisoformat(m.time) for m in moves]
    assert registry.version_at("fraud", "champion", at[0] - timedelta(seconds=1)) is None
    assert registry.version_at("fraud", "champion", at[0]) == 1
    assert registry.version_at("fraud", "champion", at[1] + timedelta(seconds=30)) == 2
    assert registry.version_at("fraud", "champion", at[2]) == 3
    actions = [e.action for e in registry.audit.entries(newest_first=False)]
    assert actions.count("model.alias") == 4


def test_aliases_guard_versions(registry: Registry) -> None:
    _register(registry)
    _register(registry, payload=b"m2")
    registry.set_alias("fraud", 1, "champion", reason="first")
    with pytest.raises(ConflictError, match="champion"):
        registry.delete("fraud/1", reason="cleanup")
    with pytest.raises(ConflictError, match="champion"):
        registry.archive("fraud/1", reason="old")
    archived = registry.archive("fraud/2", reason="superseded")
    assert archived.status == "archived"
    with pytest.raises(ConflictError, match="archived"):
        registry.set_alias("fraud", 2, "challenger", reason="try")
    with pytest.raises(NotFoundError, match="no version 7"):
        registry.set_alias("fraud", 7, "champion", reason="typo")
    with pytest.raises(ValidationError, match="needs a reason"):
        registry.set_alias("fraud", 1, "champion", reason=" ")
    with pytest.raises(ValidationError, match="alias"):
        registry.set_alias("fraud", 1, "7up", reason="digits first read as a version")
    assert registry.get("fraud@champion").version == 1  # nothing moved


def test_a_failed_move_leaves_no_trace(registry: Registry) -> None:
    _register(registry)
    head = registry.audit.head()
    with pytest.raises(NotFoundError):
        registry.set_alias("fraud", 2, "champion", reason="x")
    assert registry.audit.head() == head
    assert registry.alias_history("fraud", "champion") == []


def test_tampered_artifact_is_refused(registry: Registry) -> None:
    version = _register(registry, payload=b"weights" * 50)
    path = (
        registry.artifacts.root
        / "sha256"
        / version.artifact_sha256[:2]
        / (version.artifact_sha256[2:])
    )
    path.write_bytes(b"evil" + path.read_bytes()[4:])
    with pytest.raises(IntegrityError, match=str(path)):
        registry.verify(version.uri)
    with pytest.raises(IntegrityError):
        registry.load_bytes(version.uri)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:/fraud/3", ("fraud", 3, None)),
        ("models:/fraud@champion", ("fraud", None, "champion")),
        ("fraud/12", ("fraud", 12, None)),
        ("fraud@challenger", ("fraud", None, "challenger")),
        ("fraud", ("fraud", None, None)),
    ],
)
def test_model_refs(text: str, expected: tuple) -> None:
    ref = parse_model_ref(text)
    assert (ref.name, ref.version, ref.alias) == expected


@pytest.mark.parametrize("text", ["models:/fraud/0", "models:/", "fr aud", "models:/x@", "@a"])
def test_bad_model_refs(text: str) -> None:
    with pytest.raises(ValidationError, match="not a model reference"):
        parse_model_ref(text)


def test_unknown_alias_and_model(registry: Registry) -> None:
    with pytest.raises(NotFoundError, match="models:/nope"):
        registry.get("nope")
    _register(registry)
    with pytest.raises(NotFoundError, match="no alias 'champion'"):
        registry.get("fraud@champion")
