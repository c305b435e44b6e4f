"""Behaviour of each built-in IFEval-family check on small, readable inputs.

Each case states what a reader of the check's description would expect, including the
reference quirks the checks keep on purpose (marked "quirk"). The IFEval parity tests
compare the same checks with the reference implementation on real responses.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adhere import Spec, TextView
from adhere.verdict import Outcome

CASES: list[tuple[str, str, dict[str, Any], str, Outcome]] = [
    # id, check, params, text, expected outcome
    ("words-min-pass", "length.words", {"min": 5}, "Hello, world! It's 2024.", "pass"),  # Hello world It s 2024
    ("words-min-fail", "length.words", {"min": 6}, "Hello, world! It's 2024.", "fail"),
    ("words-max", "length.words", {"max": 2}, "one two three", "fail"),
    ("words-range", "length.words", {"min": 2, "max": 3}, "one two three", "pass"),
    ("sentences-abbrev", "length.sentences", {"min": 2, "max": 2}, "Dr. Smith arrived. He sat down.", "pass"),
    ("sentences-max-fail", "length.sentences", {"max": 1}, "Dr. Smith arrived. He sat down.", "fail"),
    ("sentences-bound-pass", "length.sentences", {"max": 1}, "no sentence punctuation at all", "pass"),
    ("sentences-bound-fail", "length.sentences", {"min": 3}, "One. Two", "fail"),
    ("sentences-at-least", "length.sentences", {"min": 3}, "One. Two! Three? Four.", "pass"),
    ("paragraphs-3", "structure.paragraphs", {"min": 3, "max": 3}, "a\n***\nb\n***\nc", "pass"),
    ("paragraphs-edges", "structure.paragraphs", {"min": 2, "max": 2}, "***\na\n***\nb\n***", "pass"),
    ("paragraphs-empty-inner", "structure.paragraphs", {"min": 2}, "a\n***\n***\nc", "fail"),
    ("paragraphs-wrong-count", "structure.paragraphs", {"min": 3, "max": 3}, "a\n***\nb", "fail"),
    (
        "first-word",
        "structure.paragraph_first_word",
        {"nth": 2, "word": "However", "paragraphs": 3},
        "Intro.\n\nHowever, this.\n\nEnd.",
        "pass",
    ),
    ("first-word-quoted", "structure.paragraph_first_word", {"nth": 1, "word": "tis"}, "'Tis the season.", "pass"),
    (
        "first-word-count",
        "structure.paragraph_first_word",
        {"nth": 1, "word": "intro", "paragraphs": 2},
        "Intro.\n\nHowever, this.\n\nEnd.",
        "fail",
    ),
    ("first-word-missing", "structure.paragraph_first_word", {"nth": 4, "word": "x"}, "a\n\nb", "fail"),
    # quirk: positions count empty pieces, so after "\n\n\n\n" the 2nd piece is empty
    ("first-word-empty-piece", "structure.paragraph_first_word", {"nth": 2, "word": "b"}, "a\n\n\n\nb\n\nc", "fail"),
    # quirk: letters are lowercased one by one, so a final capital sigma becomes 'σ', not 'ς'
    ("first-word-sigma", "structure.paragraph_first_word", {"nth": 1, "word": "οδοσ"}, "ΟΔΟΣ is a road.", "pass"),
    ("first-word-sigma-final", "structure.paragraph_first_word", {"nth": 1, "word": "οδος"}, "ΟΔΟΣ is a road.", "fail"),
    ("bullets-3", "structure.bullets", {"min": 3, "max": 3}, "* a\n* b\n- c", "pass"),
    ("bullets-bold-not", "structure.bullets", {"min": 1, "max": 1}, "**bold** line\n* a", "pass"),
    ("bullets-rule", "structure.bullets", {"min": 1, "max": 1}, "text\n---\nmore", "pass"),  # quirk: '---' counts
    ("bullets-too-many", "structure.bullets", {"min": 2, "max": 2}, "* a\n* b\n* c", "fail"),
    ("highlights-2", "format.highlights", {"min": 2}, "*a* and **b**", "pass"),
    ("highlights-blank", "format.highlights", {"min": 1}, "* * and ** **", "fail"),
    ("sections-2", "structure.sections", {"splitter": "SECTION", "min": 2}, "SECTION 1\nfoo\nSECTION 2\nbar", "pass"),
    ("sections-case", "structure.sections", {"splitter": "SECTION", "min": 1}, "Section 1\nfoo", "fail"),
    ("sections-literal", "structure.sections", {"splitter": "Day.", "min": 1}, "Day1 went well", "fail"),
    ("sections-regex", "structure.sections", {"splitter": "Day.", "min": 1, "regex": True}, "Day1 x Day 2", "pass"),
    ("placeholders-2", "structure.placeholders", {"min": 2}, "Dear [name], at [address].", "pass"),
    ("placeholders-1", "structure.placeholders", {"min": 2}, "Dear [name].", "fail"),
    ("postscript-ps", "structure.postscript", {"marker": "P.S."}, "Hi.\nP.S. Bye.", "pass"),
    ("postscript-spaced", "structure.postscript", {"marker": "P.S."}, "Hi.\np. s. bye", "pass"),
    ("postscript-pps", "structure.postscript", {"marker": "P.P.S"}, "Hi.\nP.P.S. Bye.", "pass"),
    ("postscript-none", "structure.postscript", {"marker": "P.S."}, "Hi.\nPS Bye.", "fail"),
    ("postscript-other", "structure.postscript", {"marker": "Note:"}, "Hi.\nNOTE: soon", "pass"),
    ("two-responses", "structure.two_responses", {}, "A\n******\nB", "pass"),
    ("two-responses-edges", "structure.two_responses", {}, "******\nA\n******\nB\n******", "pass"),
    ("two-responses-same", "structure.two_responses", {}, "A\n******\n A ", "fail"),
    ("two-responses-empty", "structure.two_responses", {}, "A\n******\n******\nB", "fail"),
    ("two-responses-three", "structure.two_responses", {}, "A ****** B ****** C", "fail"),
    ("json-fenced", "format.json", {}, '```json\n{"a": 1}\n```', "pass"),
    ("json-plain", "format.json", {}, ' [1, 2, "x"] ', "pass"),
    ("json-nan", "format.json", {}, "NaN", "pass"),  # quirk: Python's json accepts NaN
    ("json-broken", "format.json", {}, '{"a": 1', "fail"),
    ("json-deep", "format.json", {}, "[" * 100_000, "fail"),
    ("json-prose", "format.json", {}, 'Here it is: {"a": 1}', "fail"),
    ("title", "format.title", {}, "<<My Title>>\nText", "pass"),
    ("title-blank", "format.title", {}, "<< >>\n<<<>>>", "fail"),
    ("title-greedy", "format.title", {}, "<< >> and <<>>", "pass"),  # quirk: one greedy match
    ("title-multiline", "format.title", {}, "<<\n>>", "fail"),
    ("choice", "format.choice", {"options": ["My answer is yes.", "My answer is no."]}, "My answer is no.", "pass"),
    ("choice-case", "format.choice", {"options": ["My answer is yes."]}, "my answer is yes.", "fail"),
    ("include", "keywords.include", {"keywords": ["Apple", "day"]}, "an apple a day", "pass"),
    ("include-missing", "keywords.include", {"keywords": ["apple", "night"]}, "an apple a day", "fail"),
    ("include-case", "keywords.include", {"keywords": ["Apple"], "case_sensitive": True}, "an apple", "fail"),
    ("include-literal", "keywords.include", {"keywords": ["colou?r"]}, "the color red", "fail"),
    ("include-regex", "keywords.include", {"keywords": ["colou?r"], "regex": True}, "the color red", "pass"),
    ("forbidden-substring-ok", "keywords.forbidden", {"words": ["cat"]}, "concatenate", "pass"),
    ("forbidden-word", "keywords.forbidden", {"words": ["cat"]}, "A Cat.", "fail"),
    # not whole-word: "the" inside "theme" counts, as in the reference
    ("count-substring", "keywords.count", {"keyword": "the", "min": 3}, "The theme of the day", "pass"),
    ("count-max", "keywords.count", {"keyword": "the", "max": 2}, "The theme of the day", "fail"),
    ("letter-hash", "keywords.letter_count", {"letter": "#", "min": 3}, "# a ## b", "pass"),
    ("letter-case", "keywords.letter_count", {"letter": "Q", "max": 1}, "q Q", "fail"),
    (
        "language-fr",
        "language.is",
        {"language": "fr"},
        "Bonjour, comment allez-vous aujourd'hui ? Je vais très bien, merci beaucoup.",
        "pass",
    ),
    (
        "language-en-fail",
        "language.is",
        {"language": "en"},
        "Bonjour, comment allez-vous aujourd'hui ? Je vais très bien, merci beaucoup.",
        "fail",
    ),
    ("language-undetectable", "language.is", {"language": "de"}, "12345 !!!", "pass"),  # IFEval rule
    ("lower-en", "case.lowercase", {"language": "en"}, "hello there, this is a small english sentence.", "pass"),
    ("lower-capital", "case.lowercase", {"language": "en"}, "Hello there.", "fail"),
    ("lower-no-letters", "case.lowercase", {}, "123 456", "fail"),  # islower needs a cased letter
    ("lower-spanish", "case.lowercase", {"language": "en"}, "hola amigo, ¿cómo estás hoy? muy bien, gracias.", "fail"),
    ("upper-en", "case.uppercase", {"language": "en"}, "HELLO THERE, THIS IS A SMALL ENGLISH SENTENCE.", "pass"),
    ("upper-mixed", "case.uppercase", {}, "HELLO there", "fail"),
    ("capitals-5", "case.capital_words", {"min": 5}, "I AM HERE. NASA and FBI.", "pass"),
    ("capitals-max", "case.capital_words", {"max": 4}, "I AM HERE. NASA and FBI.", "fail"),
    ("capitals-none", "case.capital_words", {"max": 0}, "all lowercase words here", "pass"),
    ("capitals-bound", "case.capital_words", {"min": 3}, "Only One capital", "fail"),
    ("capitals-contraction", "case.capital_words", {"min": 2, "max": 2}, "CAN'T", "pass"),  # CA + N'T
    ("ends-with", "position.ends_with", {"phrase": "Any other questions?"}, 'Thanks. any other questions?"  ', "pass"),
    ("ends-with-more", "position.ends_with", {"phrase": "Any other questions?"}, "Any other questions? Bye.", "fail"),
    ("quoted", "position.quoted", {}, '  "hi there"\n', "pass"),
    ("quoted-single-char", "position.quoted", {}, '"', "fail"),
    ("quoted-open", "position.quoted", {}, '"hi', "fail"),
    ("repeat-param", "position.repeats_prompt", {"prompt": "Write a poem."}, "write a poem. Roses are red.", "pass"),
    ("repeat-param-fail", "position.repeats_prompt", {"prompt": "Write a poem."}, "Sure! Write a poem.", "fail"),
    ("no-comma", "punctuation.no_comma", {}, "No commas here.", "pass"),
    ("comma", "punctuation.no_comma", {}, "One, two.", "fail"),
]


def judge(check_id: str, params: dict[str, Any], text: str, prompt: str = "") -> Any:
    spec = Spec.parse({"check": check_id, "params": params})
    return spec.evaluate(TextView(text, prompt))


@pytest.mark.parametrize(("check_id", "params", "text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check(check_id: str, params: dict[str, Any], text: str, expected: Outcome) -> None:
    verdict = judge(check_id, params, text)
    assert verdict.outcome == expected, verdict.reason
    assert verdict.reason and "\n" not in verdict.reason


def test_reason_states_the_count_and_the_need() -> None:
    verdict = judge("length.words", {"min": 300}, "word " * 212)
    assert verdict.reason == "found 212 words; needs at least 300"
    assert verdict.evidence == {"words": 212}


def test_repeats_prompt_defaults_to_the_samples_prompt() -> None:
    assert judge("position.repeats_prompt", {}, "Write a poem. Roses...", prompt="Write a poem.").passed
    assert judge("position.repeats_prompt", {}, "Roses...", prompt="Write a poem.").failed
    assert judge("position.repeats_prompt", {}, "Roses...", prompt="").unscorable


def test_memoised_views_are_shared_between_checks() -> None:
    view = TextView("SECTION 1 alpha beta. SECTION 2 gamma.")
    first = Spec.parse({"check": "length.words", "params": {"min": 1}}).evaluate(view)
    assert view.__dict__["word_count"] == 7 and first.passed  # computed once, then read by every later check
    view.__dict__["word_count"] = 1000  # a later check that recomputed would see 7 and pass
    assert not Spec.parse({"check": "length.words", "params": {"max": 100}}).evaluate(view).passed
    sentences = view.sentences
    Spec.parse({"check": "length.sentences", "params": {"min": 1}}).evaluate(view)
    assert view.__dict__["sentences"] is sentences


_KEYWORD_TEXT = st.lists(st.sampled_from([*"aAbB .,\n\u212a\u017fkKsS", "ab", "AB", "a.b"]), max_size=30).map("".join)
_KEYWORD = st.lists(st.sampled_from([*"aAbBkKsS", " ", "\u212a", ".", "a.b"]), min_size=1, max_size=4).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_KEYWORD_TEXT, keyword=_KEYWORD, regex=st.booleans(), case_sensitive=st.booleans())
def test_keyword_checks_equal_their_regex_definition(
    text: str, keyword: str, regex: bool, case_sensitive: bool
) -> None:
    """The substring pre-check never changes an answer (ASCII-only shortcut; Kelvin sign, long s)."""
    flags = 0 if case_sensitive else re.IGNORECASE
    pattern = keyword if regex else re.escape(keyword)
    opts = {"regex": regex, "case_sensitive": case_sensitive}
    found = re.search(pattern, text, flags) is not None
    assert judge("keywords.include", {"keywords": [keyword], **opts}, text).passed == found
    whole = re.search(r"\b" + pattern + r"\b", text, flags) is not None
    assert judge("keywords.forbidden", {"words": [keyword], **opts}, text).failed == whole
    n = len(re.findall(pattern, text, flags))
    assert judge("keywords.count", {"keyword": keyword, "min": n, "max": n, **opts}, text).passed


_SECTION_TEXT = st.lists(
    st.sampled_from([*"Sx 12\n.\t\u00a0", "SECTION", "Section", "SectionSection", "p.s.", "P. S.", "p.p.s", "note"]),
    max_size=20,
)


@settings(max_examples=600, deadline=None)
@given(
    text=_SECTION_TEXT.map("".join),
    splitter=st.sampled_from(["SECTION", "Section", "S.", "(S)", "Sx", "SS", " Section", "1"]),
    marker=st.sampled_from(["P.S.", "P.P.S", "Note", "p.s", "(note)"]),
    regex=st.booleans(),
)
def test_sections_and_postscripts_equal_their_regex_definition(
    text: str, splitter: str, marker: str, regex: bool
) -> None:
    """Their substring pre-checks never change an answer."""
    word = splitter if regex else re.escape(splitter)
    n = len(re.split(r"\s?" + word + r"\s?\d+\s?", text)) - 1
    assert judge("structure.sections", {"splitter": splitter, "min": n, "max": n, "regex": regex}, text).passed
    if marker == "P.P.S":
        ps = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        ps = r"\s*p\.\s?s\..*$"
    else:
        ps = r"\s*" + (marker.lower() if regex else re.escape(marker.lower())) + r".*$"
    found = bool(re.findall(ps, text.lower(), flags=re.MULTILINE))
    assert judge("structure.postscript", {"marker": marker, "regex": regex}, text).passed == found
