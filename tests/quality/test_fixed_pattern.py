"""The byte-level matcher for fixed-width patterns agrees with RE2 wherever it answers."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings

from driftline.quality import Regex, Suite
from driftline.quality._fixed_pattern import compile_fixed, fixed_matches

# Pattern pieces inside the supported grammar, including the awkward spellings of "-" and "]".
ATOMS = [r"\d", r"\w", "[A-Z]", "[a-c0-2]", "[-a]", "[a-]", "[a-z-9]", r"[\d.]", r"[\]a]", r"\.",
         r"\-", r"\\", "-", "a", "Z", " ", "/", "#", "[!-/]", r"[\w-]", "[+--]"]  # fmt: skip
# Values near those pieces, plus multi-byte characters, a newline and the empty string.
CHARS = [*"aAbcxyzZ0129-._ /#!]\\", "é", "日", "\n", "\u00ff"]

atoms = st.tuples(st.sampled_from(ATOMS), st.one_of(st.none(), st.integers(0, 3)))
patterns = st.lists(atoms, max_size=5).map(
    lambda parts: "".join(a if n is None else f"{a}{{{n}}}" for a, n in parts)
)
values = st.lists(
    st.one_of(st.none(), st.lists(st.sampled_from(CHARS), max_size=8).map("".join)),
    min_size=1,
    max_size=60,
)


def _re2(arr: pa.Array, pattern: str) -> np.ndarray:
    hit = pc.match_substring_regex(arr, f"^(?:{pattern})$")
    return hit.fill_null(False).to_numpy(zero_copy_only=False)


@settings(max_examples=300, deadline=None)
@given(patterns, values, st.integers(0, 5))
def test_fixed_matches_equals_re2_on_every_present_value(pattern, items, cut) -> None:
    sets = compile_fixed(pattern)
    assert sets is not None, pattern
    arr = pa.array(items, pa.large_string())
    for part in (arr, arr.slice(min(cut, len(arr)))):  # a slice has an offset into the buffers
        present = ~part.is_null().to_numpy(zero_copy_only=False)
        got, want = fixed_matches(part, sets), _re2(part, pattern)
        assert (got[present] == want[present]).all(), pattern


@settings(max_examples=100, deadline=None)
@given(patterns, st.integers(1, 40), st.randoms(use_true_random=False))
def test_values_of_one_width_take_the_block_path_and_agree_with_re2(pattern, n, rnd) -> None:
    sets = compile_fixed(pattern)
    assert sets is not None
    items = ["".join(rnd.choice(CHARS[:21]) for _ in range(len(sets))) for _ in range(n)]
    arr = pa.array(items, pa.large_string())
    assert (fixed_matches(arr, sets) == _re2(arr, pattern)).all()


@pytest.mark.parametrize(
    "pattern",
    [".", "a|b", "(ab)", "a?", "a+", "a*", "a{2,3}", "a{2,}", r"\s", r"\D", r"\b", "[^a]",
     "[[:alpha:]]", r"[\--z]", "é", "^a", "a$", r"\x41", "a{1000}", "[]a]", r"\_"],
)  # fmt: skip
def test_patterns_outside_the_grammar_are_left_to_re2(pattern: str) -> None:
    assert compile_fixed(pattern) is None


def test_a_regex_check_gives_the_same_result_with_and_without_the_byte_path() -> None:
    rng = np.random.default_rng(5)
    numbers = rng.integers(0, 9_999, 200)
    codes = [f"{a}{b}-{n:04d}" for a, b, n in zip("ABCZ" * 50, "QXYZ" * 50, numbers, strict=True)]
    codes[3], codes[50], codes[77], codes[100] = "ab-1234", "", None, "AB-12345"
    codes[120] = "AÉ-1234"
    fast = Regex("code", r"[A-Z]{2}-\d{4}")
    slow = Regex("code", r"(?:[A-Z]{2}-\d{4})")  # a group: not fixed-width here, so RE2
    assert compile_fixed(fast.pattern) is not None and compile_fixed(slow.pattern) is None
    result = Suite([fast, slow]).run({"code": codes})
    a, b = (c.to_dict() for c in result.checks)
    a.pop("expected"), b.pop("expected")
    assert a == b
    assert result.checks[0].failed_rows == 3  # "ab-1234", "AB-12345", "AÉ-1234"; "" is missing
