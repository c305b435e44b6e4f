"""Sentences split only as far as they are read are the sentences of a full split.

``TextView.iter_sentences`` / ``first_sentences`` stop Punkt early; the checks that use them
(``keywords.in_sentence``, ``keywords.at_word``, ``format.emoji_endings``,
``sentences.alliteration_grows``, ``sentences.word_step``, ``sentences.chain_last_first``)
must decide exactly as they would on the whole list. Compared here on generated texts (built
from Punkt's hard cases) and on every IFBench response and prompt.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adhere.checks._charsets import PUNCT_SPACE, strip_punct
from adhere.registry import REGISTRY
from adhere.text.sentences import punkt_sentences
from adhere.text.view import TextView

from .test_sentences_parity import texts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.lists(st.integers(0, 12), max_size=4))
def test_partial_reads_then_full_equal_one_split(text: str, reads: list[int]) -> None:
    full = punkt_sentences(text)
    view = TextView(text)
    for n in reads:  # interleaved partial readers share what is split so far
        assert view.first_sentences(n) == full[:n]
        assert list(itertools.islice(view.iter_sentences(), n)) == full[:n]
    assert view.sentences == full
    assert list(view.iter_sentences()) == full


def run(check: str, text: str, params: dict[str, Any]) -> bool | None:
    info = REGISTRY.get(check)
    return info.fn(TextView(text), info.parse_params(params)).ok


# The plain definitions, on the full sentence list.
def in_sentence(text: str, keyword: str, n: int) -> bool:
    sents = punkt_sentences(text)
    return len(sents) >= n and re.search(rf"\b{re.escape(keyword)}\b", sents[n - 1], re.IGNORECASE) is not None


def emoji_endings(text: str) -> bool:
    import emoji

    sents = punkt_sentences(text)
    if text.strip() and not any(emoji.is_emoji(ch) for ch in text):
        return False
    for i, sent in enumerate(sents):
        body = strip_punct(sent).strip()
        if not body:
            return False
        if emoji.is_emoji(body[-1]) or emoji.is_emoji(body[-2] if len(body) > 1 else body[-1]):
            continue
        following = strip_punct(sents[i + 1]).strip() if i < len(sents) - 1 else ""
        if not (following and emoji.is_emoji(following[0])):
            return False
    return True


def alliteration(sentence: str) -> int:
    words = [c for c in (w.lstrip(PUNCT_SPACE) for w in sentence.lower().split()) if c]
    total, in_run = 0, False
    for a, b in itertools.pairwise(words):
        total += (1 if in_run else 2) if a[0] == b[0] else 0
        in_run = a[0] == b[0]
    return total


def alliteration_grows(text: str) -> bool:
    counts = [alliteration(s) for s in punkt_sentences(text)]
    return all(b > a for a, b in itertools.pairwise([-1, *counts]))


def word_step(text: str, step: int) -> bool:
    counts = [len(strip_punct(s).split()) for s in punkt_sentences(text)]
    return bool(counts) and all(b == a + step for a, b in itertools.pairwise(counts))


def chain_last_first(text: str) -> bool:
    for a, b in itertools.pairwise(punkt_sentences(text)):
        last, first = a.rstrip(PUNCT_SPACE).split(), b.lstrip(PUNCT_SPACE).split()
        if not last or not first or last[-1].lower() != first[0].lower():
            return False
    return True


def agree(text: str, keyword: str) -> None:
    for n in range(1, 6):
        assert run("keywords.in_sentence", text, {"keyword": keyword, "sentence": n}) == in_sentence(text, keyword, n)
    assert run("format.emoji_endings", text, {}) == emoji_endings(text)
    assert run("sentences.alliteration_grows", text, {}) == alliteration_grows(text)
    for step in (-1, 0, 1, 2):
        assert run("sentences.word_step", text, {"step": step}) == word_step(text, step)
    assert run("sentences.chain_last_first", text, {}) == chain_last_first(text)


keyword_texts = st.lists(
    st.tuples(
        st.sampled_from(["cat", "Cat", "cats", "a", "A", "big", "Bad", "Mr.", "e.g.", "\U0001f600", "ok", "Ok"]),
        st.sampled_from([" ", " ", ". ", "? ", "! ", ".\n", '." ', "...", "\n\n", ", ", "(", ") "]),
    ),
    max_size=25,
).map(lambda parts: "".join(a + b for a, b in parts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keyword_texts | texts, st.sampled_from(["cat", "ok", "Mr.", "a"]))
def test_early_stopping_checks_equal_the_full_definitions(text: str, keyword: str) -> None:
    agree(text, keyword)


def test_early_stopping_checks_on_ifbench_responses(ifbench_corpus: list[str]) -> None:
    pytest.importorskip("emoji")
    for text in ifbench_corpus:
        agree(text, "the")


def sentence_types(text: str, decl: int, inter: int) -> bool:
    sents = punkt_sentences(text)
    d, i = sum(s.endswith(".") for s in sents), sum(s.endswith("?") for s in sents)
    return d * inter == i * decl


def sentence_types_balanced(text: str) -> bool:
    sents = punkt_sentences(text)
    return len({sum(s.endswith(mark) for s in sents) for mark in ".?!"}) == 1


mark_texts = st.lists(
    st.tuples(
        st.sampled_from(["A", "b", "Mr", "e.g", "x y", "'", ")"]), st.sampled_from([". ", "? ", "! ", "?! ", "."])
    ),
    max_size=14,
).map(lambda parts: "".join(a + b for a, b in parts))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mark_texts | texts, st.integers(0, 3), st.integers(0, 3))
def test_sentence_type_ratios_stop_only_when_hopeless(text: str, decl: int, inter: int) -> None:
    params = {"declarative": decl, "interrogative": inter}
    assert run("ratio.sentence_types", text, params) == sentence_types(text, decl, inter)
    assert run("ratio.sentence_types_balanced", text, {}) == sentence_types_balanced(text)
    # Both on one view: the second reads what the first left (partial or memoised counts).
    view = TextView(text)
    for check, p in (("ratio.sentence_types_balanced", {}), ("ratio.sentence_types", params)):
        info = REGISTRY.get(check)
        want = sentence_types_balanced(text) if not p else sentence_types(text, decl, inter)
        assert info.fn(view, info.parse_params(p)).ok == want
