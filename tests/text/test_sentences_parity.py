"""``punkt_sentences`` and ``treebank_words`` equal nltk 3.10.4's answers, every one.

The references run in-process: ``nltk.tokenize.sent_tokenize`` (English Punkt, read
from ``../shared/data/nltk_data``) and ``nltk.word_tokenize``. adhere's own code never
imports nltk; these tests do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adhere.text import _punkt, _treebank
from adhere.text.sentences import punkt_sentences, treebank_words


@pytest.fixture(scope="module")
def nltk_tokenize(nltk_data_dir: Path) -> Any:
    import nltk.tokenize

    return nltk.tokenize


def mismatches(nltk_tokenize: Any, texts: list[str]) -> list[tuple[str, str]]:
    bad = []
    for text in texts:
        if punkt_sentences(text) != nltk_tokenize.sent_tokenize(text):
            bad.append(("sentences", text))
        if treebank_words(text) != nltk_tokenize.word_tokenize(text):
            bad.append(("words", text))
    return bad


def test_ifeval_responses_variants_and_prompts(nltk_tokenize: Any, ifeval_corpus: list[str]) -> None:
    assert len(ifeval_corpus) > 2000
    assert mismatches(nltk_tokenize, ifeval_corpus) == []


@pytest.mark.slow
def test_ifbench_texts(nltk_tokenize: Any, ifbench_corpus: list[str]) -> None:
    assert mismatches(nltk_tokenize, ifbench_corpus) == []


@pytest.mark.slow
def test_muldimif_texts(nltk_tokenize: Any, muldimif_corpus: list[str]) -> None:
    assert mismatches(nltk_tokenize, muldimif_corpus) == []


def test_shipped_parameters_equal_nltk_loading_them(nltk_tokenize: Any, nltk_data_dir: Path) -> None:
    from nltk.tokenize.punkt import load_punkt_params

    class Dir:  # nltk's loader reads files through path pointers with .join(name).open()
        def __init__(self, path: Path) -> None:
            self.path = path

        def join(self, name: str) -> Any:
            path = self.path / name

            class Pointer:
                def open(self, encoding: str) -> Any:
                    return open(path, encoding=encoding)

            return Pointer()

    theirs = load_punkt_params(Dir(_punkt.PARAMS_DIR))
    ours = _punkt.load_params()
    assert ours.abbrev_types == theirs.abbrev_types
    assert ours.collocations == theirs.collocations
    assert ours.sent_starters == theirs.sent_starters
    assert ours.ortho_context == dict(theirs.ortho_context)
    shared = nltk_data_dir / "tokenizers" / "punkt_tab" / "english"
    for name in ("abbrev_types.txt", "collocations.tab", "ortho_context.tab", "sent_starters.txt"):
        assert (_punkt.PARAMS_DIR / name).read_bytes() == (shared / name).read_bytes()


# -- generated texts -----------------------------------------------------------------------------

PIECES = [
    "Mr.", "Mrs.", "Dr.", "St.", "U.S.", "e.g.", "i.e.", "etc.", "vs.", "No.", "Jan.", "p.m.", "A.", "J.",
    "1.", "3.14", "2,000", "-5.", "##", "...", "..", ". . .", "--", "---", "?!", "!!!", "?", "!", ".", ",",
    ";", ":", "'", "''", '"', "`", "``", "(", ")", "[", "]", "{", "}", "<", ">", "*", "**", "@", "#", "$",
    "%", "&", "\u2018", "\u2019", "\u201c", "\u201d", "\u00ab", "\u00bb", "\u201e", "\u2013", "\u2014",
    "\u2012", "\u2015", "can't", "won't", "I'm", "you're", "we've", "they'll", "he'd", "it's", "'tis",
    "'Twas", "cannot", "gonna", "Gimme", "wanna", "lemme", "gotta", "d'ye", "more'n", "'s", "o'clock",
    "rock'n'roll", "The", "the", "And", "however", "This", "I", "a", "It", "In", "word", "Word", "WORD",
    "x", "\u00e9t\u00e9", "\u00c9t\u00e9", "stra\u00dfe", "\u017ftar", "\u212aelvin", "\u0130stanbul",
    "\u65e5\u672c\u8a9e", "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd",
    "\u043f\u0440\u0438\u0432\u0435\u0442",
    "http://x.y/z.", "a@b.co", "\U0001f600", "\x1c", "\x85", "\u00a0", "\u2028", "\u3000", "\t",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\n", "\n\n", "\t", "", " \n "]

texts = st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), max_size=40).map(
    lambda parts: "".join(p + s for p, s in parts)
) | st.text(max_size=200)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_generated_texts(nltk_tokenize: Any, text: str) -> None:
    assert mismatches(nltk_tokenize, [text]) == []


@pytest.mark.parametrize(
    "text",
    ["", " ", "\n\n", ".", "?!", "a.", "A. B. C.", "(Sent1.) Sent2.", '"Hi." "(Yes.)" (\'No!\')', "x" * 5000],
    ids=range(10),
)
def test_edge_texts(nltk_tokenize: Any, text: str) -> None:
    assert mismatches(nltk_tokenize, [text]) == []


# -- the shortcuts are exact ---------------------------------------------------------------------

spacey = st.text(alphabet=st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x1d\x85\u00a0\u2028\u3000ab")), max_size=30)


@given(spacey)
def test_space_squeeze_equals_the_regex(text: str) -> None:
    padded = " " + text + " "
    assert _treebank._squeeze_spaces(padded) == regex.sub(r"\s+", " ", padded)


@given(st.text(alphabet=st.sampled_from(list("cannotdyegimlwhrisTWAS'\u017f\u212a\u0130\u0131 ")), max_size=20))
def test_contraction_probe_never_misses(text: str) -> None:
    padded = " " + text + " "
    changed = any(p.sub(r" \1 \2 ", padded) != padded for p in _treebank._CONTRACTIONS)
    if changed:
        assert _treebank._may_contract(padded)


rule_text = st.text(
    alphabet=st.sampled_from(
        list(
            "aZ9_ .,:;'\"`()[]{}<>*?!-@#$%&\n\t\x1c"
            "\u00ab\u00bb\u201c\u201d\u2018\u2019\u201e\u2013\u00bd\u0301sSmMdDlLrReEvVnNtT"
        )
    ),
    max_size=25,
)


@settings(max_examples=500, deadline=None)
@given(rule_text)
def test_rule_prechecks_never_skip_a_rewrite(text: str) -> None:
    """Each rule is skipped only when its regex would leave the text unchanged."""
    rules = _treebank._STARTING_QUOTES + _treebank._PUNCTUATION + _treebank._ENDING_QUOTES
    for applies, pattern, replacement in rules:
        if not applies(text):
            assert pattern.sub(replacement, text) == text
