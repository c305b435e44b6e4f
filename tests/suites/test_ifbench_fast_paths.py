"""The IFBench checks' shortcuts give the answers of the plain definitions they replace.

Each shortcut (a set of word runs instead of one whole-word search per name, a scan of only the
characters that can move a bracket or quote stack, character trigrams as tuples) is compared
with the straightforward definition, written out here, on generated texts that are dense in
the characters that matter.
"""

from __future__ import annotations

import re
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adhere.checks._charsets import no_punct, strip_punct
from adhere.registry import REGISTRY
from adhere.text.view import TextView

NAMES = ("Emma", "Liam", "Ann", "Mary Ann", "O'Neil", "José", "Li_Wei", "Anna-Lena", "Zoë")


def run(check: str, text: str, params: dict[str, Any]) -> Any:
    info = REGISTRY.get(check)
    return info.fn(TextView(text), info.parse_params(params))


def names_by_search(text: str, names: tuple[str, ...]) -> list[str]:
    return sorted({name for name in names if re.search(rf"\b{re.escape(name)}\b", text)})


name_texts = st.lists(
    st.sampled_from([*NAMES, "Emmanuel", "emma", "_Liam", "Liam2", "é", "'", "-", " ", "\n", ".", "Ann's", "x"])
    | st.text(max_size=3),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(name_texts)
def test_person_names_equal_whole_word_search(text: str) -> None:
    found = run("count.person_names", text, {"min": 1, "names": list(NAMES)})
    assert found.evidence["names"] == names_by_search(text, NAMES)


def test_person_names_default_list_on_real_words() -> None:
    text = "Emma and Liam met Emmanuel, Olivia's friend, and _Noah; Ava2 waved at Sophia."
    names = REGISTRY.get("count.person_names").parse_params({"min": 1}).names  # type: ignore[attr-defined]
    found = run("count.person_names", text, {"min": 1})
    assert found.evidence["names"] == names_by_search(text, names)
    assert found.evidence["names"]  # the text does name some


def brackets_by_scan(text: str, min_depth: int) -> tuple[bool, int]:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    deepest = 0
    for ch in text:
        if ch in "([{":
            stack.append(ch)
            deepest = max(deepest, len(stack))
        elif ch in pairs:
            if stack and stack[-1] == pairs[ch]:
                stack.pop()
                if deepest >= min_depth and len(stack) < deepest:
                    return True, deepest
            else:
                stack, deepest = [], 0
    return False, deepest


def quotes_by_scan(text: str, min_depth: int) -> tuple[bool, int]:
    stack: list[str] = []
    reached = 0
    for ch in text:
        if stack and ch == stack[-1]:
            stack.pop()
            if reached - len(stack) >= min_depth:
                return True, reached
        elif ch in "\"'":
            stack.append(ch)
            reached = max(reached, len(stack))
    return False, reached


bracket_texts = st.text(alphabet="()[]{}a \"'", max_size=40)


@settings(max_examples=600, deadline=None)
@given(bracket_texts, st.integers(1, 6))
def test_nested_brackets_equal_full_scan(text: str, depth: int) -> None:
    found = run("format.nested_brackets", text, {"min_depth": depth})
    assert (found.ok, found.evidence["depth"]) == brackets_by_scan(text, depth)


@settings(max_examples=600, deadline=None)
@given(bracket_texts, st.integers(1, 4))
def test_nested_quotes_equal_full_scan(text: str, depth: int) -> None:
    found = run("format.nested_quotes", text, {"min_depth": depth})
    assert (found.ok, found.evidence["depth"]) == quotes_by_scan(text, depth)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab c\n*é", max_size=30), st.text(alphabet="ab c\n*é", min_size=3, max_size=30))
def test_trigram_overlap_equals_string_trigrams(text: str, reference: str) -> None:
    mine = {text[i : i + 3] for i in range(len(text) - 2)}
    ref = {reference[i : i + 3] for i in range(len(reference) - 2)}
    found = run("ratio.trigram_overlap", text, {"reference": reference, "percent": 50})
    if not mine:
        assert not found.ok
        return
    assert found.evidence["trigrams"] == len(mine)
    assert found.evidence["percent"] == len(mine & ref) / len(mine) * 100


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())) | st.text(alphabet="a.,!é😀\ud800 \"'-"))
def test_strip_punct_equals_translate(text: str) -> None:
    delete = str.maketrans("", "", string.punctuation)
    assert strip_punct(text) == text.translate(delete)
    assert no_punct(TextView(text)) == text.translate(delete)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abAB .,!\n", max_size=60), st.integers(1, 4))
def test_palindromes_equal_the_reversal_test(text: str, shortest: int) -> None:
    words = strip_punct(text).lower().split()
    want = [w for w in words if len(w) >= shortest and w == w[::-1]]
    found = run("words.palindromes", text, {"min": 1, "min_length": shortest})
    assert found.evidence["palindromes"] == want[:20]
