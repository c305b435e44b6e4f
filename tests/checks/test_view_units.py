"""TextView's IFEval units equal their definitions (the reference's regular expressions).

The view computes some units without those regexes (for speed, or to stay linear on
hostile input); these properties pin the equivalence on arbitrary text.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adhere.text.view import TextView

_TEXT = st.lists(st.sampled_from([*"[]*-\n \t ab\r", "***"]), max_size=60).map("".join)


@settings(max_examples=200)
@given(_TEXT)
def test_placeholder_count_is_the_lazy_bracket_regex(text: str) -> None:
    assert TextView(text).placeholder_count == len(re.findall(r"\[.*?\]", text))


@settings(max_examples=200)
@given(_TEXT)
def test_bullets_and_highlights_follow_the_definitions(text: str) -> None:
    view = TextView(text)
    stars = re.findall(r"^\s*\*[^\*].*$", text, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", text, flags=re.MULTILINE)
    assert view.ifeval_bullet_count == len(stars) + len(dashes)
    single = [h for h in re.findall(r"\*[^\n\*]*\*", text) if h.strip("*").strip()]
    double = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", text) if h.removeprefix("**").removesuffix("**").strip()]
    assert view.ifeval_highlight_count == len(single) + len(double)


@settings(max_examples=200)
@given(_TEXT)
def test_paragraph_pieces(text: str) -> None:
    view = TextView(text)
    assert view.divider_paragraphs == re.split(r"\s?\*\*\*\s?", text)
    assert view.blank_line_paragraphs == re.split(r"\n\n", text)


_CAPS = [*"AbC dE'.,\"-!?()\nϒǅ", "CAN'T", "NASA", " CANNOT ", " GONNA ", "'TIS", "D'YE", "MORE'N", " U.S. ", "--"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_CAPS), max_size=40).map("".join))
def test_capital_word_count_and_its_bound(text: str) -> None:
    view = TextView(text)
    count = view.capital_word_count
    assert count == sum(1 for t in view.treebank_tokens if t.isupper())
    bounds = view.capital_word_bounds
    assert bounds is None or bounds[0] <= count <= bounds[1]


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=80)
    | st.lists(st.sampled_from([*"aé²_ ", "डिजिटल", "テスト", "x\u0301"]), max_size=20).map("".join)
)
def test_words_are_nltk_regexp_tokens(text: str) -> None:
    """IFEval's count_words is nltk's RegexpTokenizer(r"\\w+") (on the `regex` engine since nltk 3.10)."""
    from nltk.tokenize import RegexpTokenizer

    assert TextView(text).words == RegexpTokenizer(r"\w+").tokenize(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80) | st.text(max_size=40))
def test_word_count_is_the_number_of_nltk_regexp_tokens(text: str) -> None:
    """word_count skips making the words for ASCII text; it must count exactly IFEval's tokens."""
    from nltk.tokenize import RegexpTokenizer

    assert TextView(text).word_count == len(RegexpTokenizer(r"\w+").tokenize(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"ab .?!\n\"')", "Dr.", "U.S.", "...", " e.g. ", "3.5"]), max_size=40).map("".join))
def test_sentence_count_is_bounded_by_end_marks(text: str) -> None:
    """length.sentences decides from this bound without tokenising: Punkt only ends a
    sentence at '.', '?' or '!'."""
    assert len(TextView(text).sentences) <= text.count(".") + text.count("?") + text.count("!") + 1
