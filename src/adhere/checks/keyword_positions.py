"""Where a keyword sits: in the n-th sentence, as the m-th word of the n-th sentence, or as
both the second and the second-to-last word of the response."""

from __future__ import annotations

import re
import string
from functools import lru_cache

from pydantic import ConfigDict, Field

from ..registry import Finding, Params, check
from ..text.view import TextView
from ._charsets import sentence_bound, treebank_of

_TAGS = ("keywords", "position", "ifbench")


@lru_cache(maxsize=256)
def _whole_word(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(keyword)}\b", re.IGNORECASE)


_SENTENCE_END_RE = re.compile(r"[.?!]")


def _after_sentence_ends(text: str, n: int) -> int:
    """The position right after the ``n``-th '.', '?' or '!' of ``text`` (0 for ``n = 0``; the
    text's length when it has fewer): no part of the (n+1)-th Punkt sentence comes before it."""
    if n <= 0:
        return 0
    for i, match in enumerate(_SENTENCE_END_RE.finditer(text), 1):
        if i == n:
            return match.end()
    return len(text)


class InSentenceParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"keyword": "river", "sentence": 2}]})

    keyword: str = Field(description="The word to find (whole word, case-insensitive).")
    sentence: int = Field(ge=1, description="1-based index of the sentence that must contain it.")


@check(
    "keywords.in_sentence",
    params=InSentenceParams,
    tags=_TAGS,
    description="The `sentence`-th sentence contains `keyword` as a whole word (case-insensitive).",
)
def in_sentence(view: TextView, p: InSentenceParams) -> Finding:
    """Decided without sentence splitting when the text has too few sentence ends or lacks the
    keyword after the first ``sentence - 1`` of them: a Punkt sentence is a slice cut at
    punctuation or whitespace (so a whole-word match in a sentence is one in the text), and the
    n-th sentence starts after n - 1 breaks, each right after its own '.', '?' or '!'. Otherwise
    the text is split only up to that sentence."""
    bound = sentence_bound(view)
    if bound < p.sentence:
        return Finding(False, f"found at most {bound} sentences; needs at least {p.sentence}", {"sentences_max": bound})
    pattern = _whole_word(p.keyword)
    if pattern.search(view.text, _after_sentence_ends(view.text, p.sentence - 1)) is None:
        return Finding(False, f"{p.keyword!r} does not occur after {p.sentence - 1} sentence end marks")
    sents = view.first_sentences(p.sentence)  # fewer only when that is all the text has
    if len(sents) < p.sentence:
        return Finding(False, f"found {len(sents)} sentences; needs at least {p.sentence}", {"sentences": len(sents)})
    ok = pattern.search(sents[-1]) is not None
    where = "contains" if ok else "does not contain"
    return Finding(ok, f"sentence {p.sentence} {where} {p.keyword!r}")


class AtWordParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"keyword": "river", "sentence": 1, "word": 3}]})

    keyword: str = Field(description="The word required (case-insensitive; surrounding spaces ignored).")
    sentence: int = Field(ge=1, description="1-based sentence index.")
    word: int = Field(ge=1, description="1-based word index inside that sentence, punctuation tokens not counted.")


def _word_tokens(view: TextView, text: str) -> list[str]:
    """nltk word tokens of ``text`` that contain a letter or digit (punctuation tokens dropped)."""
    return [t for t in treebank_of(view, text) if any(ch.isalnum() for ch in t)]


@check(
    "keywords.at_word",
    params=AtWordParams,
    tags=_TAGS,
    description="`keyword` is the `word`-th word of the `sentence`-th sentence (punctuation tokens skipped).",
)
def at_word(view: TextView, p: AtWordParams) -> Finding:
    """Word tokens are substrings of the text, so a text without the keyword (any case) fails
    before sentence splitting."""
    bound = sentence_bound(view)
    if bound < p.sentence:
        return Finding(False, f"found at most {bound} sentences; needs at least {p.sentence}", {"sentences_max": bound})
    if p.keyword.strip().lower() not in view.lower:
        return Finding(False, f"{p.keyword.strip()!r} does not occur at all")
    sents = view.first_sentences(p.sentence)  # fewer only when that is all the text has
    if len(sents) < p.sentence:
        return Finding(False, f"found {len(sents)} sentences; needs at least {p.sentence}", {"sentences": len(sents)})
    words = _word_tokens(view, sents[-1])
    if len(words) < p.word:
        return Finding(False, f"sentence {p.sentence} has {len(words)} words; needs at least {p.word}")
    got = words[p.word - 1]
    ok = got.lower() == p.keyword.strip().lower()
    return Finding(ok, f"word {p.word} of sentence {p.sentence} is {got!r}", {"word": got})


class KeywordParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"keyword": "river"}]})

    keyword: str = Field(description="The word required (case-insensitive; surrounding spaces ignored).")


@check(
    "keywords.second_and_penultimate",
    params=KeywordParams,
    tags=_TAGS,
    description="`keyword` is both the second word token and the second-to-last one (when the text ends "
    "with a punctuation token, IFBench counts it as the last word: the keyword is then third from the end).",
)
def second_and_penultimate(view: TextView, p: KeywordParams) -> Finding:
    want = p.keyword.strip().lower()
    if want not in view.lower:  # word tokens are substrings of the text
        return Finding(False, f"{p.keyword.strip()!r} does not occur at all")
    tokens = view.treebank_tokens
    if len(tokens) < 2:
        return Finding(False, f"found {len(tokens)} tokens; needs at least 2")
    # A final token counts as punctuation when it is a substring of string.punctuation, as in IFBench.
    last = -3 if tokens[-1] in string.punctuation else -2
    if len(tokens) < -last:
        return Finding(False, f"found {len(tokens)} tokens; needs at least {-last}")
    second, penult = tokens[1], tokens[last]
    ok = second.lower() == penult.lower() == want
    return Finding(ok, f"second word {second!r}, second-to-last {penult!r}", {"second": second, "penultimate": penult})
