"""Single, ABSplit and Shadow: validation, stickiness, proportions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.exceptions import ValidationError
from driftline.serving.routing import ABSplit, RouteDecision, RoutingPolicy, Shadow, Single

KEYS = [f"user-{i}" for i in range(20_000)]


def test_single_answers_with_its_version_whatever_the_input() -> None:
    policy = Single(7)
    assert isinstance(policy, RoutingPolicy)
    assert {policy.decide(k, d) for k in (None, "a", "b") for d in (0.0, 0.5, 0.999)} == {
        RouteDecision(7, "primary")
    }


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3"], ids=["negative", "bool", "float", "str"])
def test_single_rejects_a_version_that_is_not_a_number(bad: object) -> None:
    with pytest.raises(ValidationError, match=r"Single\.version"):
        Single(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arms", "named"),
    [
        ({"a": (1, 0.5), "b": (2, -0.1)}, "'b'"),
        ({"a": (1, float("nan")), "b": (2, 1.0)}, "'a'"),
        ({"a": (1, float("inf"))}, "'a'"),
        ({"a": (1, 1.0), "b": (2,)}, "'b'"),
        ({"a": (1, 1.0), "b": (-2, 1.0)}, "'b'"),
        ({"a": (1, 1.0), "b": (2, "half")}, "'b'"),
    ],
    ids=["negative", "nan", "inf", "short-tuple", "bad-version", "str-weight"],
)
def test_absplit_rejects_a_bad_arm_by_name(arms: dict, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        ABSplit(arms)


def test_absplit_rejects_empty_and_all_zero_weights() -> None:
    with pytest.raises(ValidationError, match="non-empty"):
        ABSplit({})
    with pytest.raises(ValidationError, match="sum to 0"):
        ABSplit({"a": (1, 0.0), "b": (2, 0)})


def test_absplit_without_key_lays_arms_out_in_name_order() -> None:
    split = ABSplit({"treatment": (4, 1.0), "control": (3, 3.0)})
    assert split.shares == pytest.approx({"control": 0.75, "treatment": 0.25})
    assert split.decide(None, 0.0).route == "ab:control"
    assert split.decide(None, 0.7499).version == 3
    assert split.decide(None, 0.75) == RouteDecision(4, "ab:treatment")
    with pytest.raises(ValidationError, match="draw"):
        split.decide(None, 1.0)


def test_absplit_is_sticky_by_key_and_independent_of_mapping_order() -> None:
    one = ABSplit({"a": (1, 1.0), "b": (2, 2.0), "c": (3, 1.0)})
    other = ABSplit({"c": (3, 1.0), "a": (1, 1.0), "b": (2, 2.0)})
    for key in KEYS[:500]:
        first = one.decide(key, 0.1)
        assert one.decide(key, 0.9) == first
        assert other.decide(key, 0.5) == first


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.one_of(st.just(0.0), st.floats(0.05, 10.0)), min_size=1, max_size=4).filter(
        lambda ws: sum(ws) > 0
    )
)
def test_absplit_key_proportions_converge_to_the_weights(weights: list[float]) -> None:
    arms = {f"arm{i}": (i, w) for i, w in enumerate(weights)}
    split = ABSplit(arms)
    counts = dict.fromkeys(arms, 0)
    for key in KEYS:
        counts[split.decide(key, 0.0).route.removeprefix("ab:")] += 1
    total = sum(weights)
    for name, (_, weight) in arms.items():
        expected = weight / total
        observed = counts[name] / len(KEYS)
        if weight == 0:
            assert counts[name] == 0, f"zero-weight {name} got traffic"
            continue
        sigma = math.sqrt(expected * (1 - expected) / len(KEYS))
        assert abs(observed - expected) <= 5 * sigma + 1e-9, (name, observed, expected)


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0, exclude_max=True))
def test_shadow_primary_always_answers_and_mirror_follows_the_draw(
    percent: float, draw: float
) -> None:
    decision = Shadow(primary=1, shadow=2, percent=percent).decide("k", draw)
    assert (decision.version, decision.route) == (1, "primary")
    assert decision.shadow_versions == ((2,) if draw < percent else ())


def test_shadow_mirrors_its_share_of_a_uniform_grid() -> None:
    policy = Shadow(primary=1, shadow=2, percent=0.3)
    grid = [i / 10_000 for i in range(10_000)]
    mirrored = sum(bool(policy.decide(None, d).shadow_versions) for d in grid)
    assert mirrored == 3_000


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"primary": 1, "shadow": 1, "percent": 0.1}, "Shadow.shadow"),
        ({"primary": 1, "shadow": 2, "percent": 1.5}, "Shadow.percent"),
        ({"primary": 1, "shadow": 2, "percent": float("nan")}, "Shadow.percent"),
    ],
    ids=["same-version", "percent-above-1", "percent-nan"],
)
def test_shadow_validation_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Shadow(**kwargs)
