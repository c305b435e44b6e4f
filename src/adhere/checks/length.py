"""Length checks: how many words and sentences a response has."""

from __future__ import annotations

from pydantic import ConfigDict

from ..registry import Finding, check
from ..text.view import TextView
from ._common import CountRange, count_reason, describe_range, within


class WordsParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 300}, {"max": 99}, {"min": 50, "max": 80}]})


@check(
    "length.words",
    params=WordsParams,
    tags=("length", "ifeval"),
    description="Number of words (runs of word characters, \\w+) within [min, max].",
)
def words(view: TextView, p: WordsParams) -> Finding:
    n = view.word_count
    return Finding(within(n, p), count_reason(n, "words", p), {"words": n})


class SentencesParams(CountRange):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 5}, {"max": 4}]})


@check(
    "length.sentences",
    params=SentencesParams,
    tags=("length", "ifeval"),
    description="Number of sentences (nltk's English Punkt model) within [min, max].",
)
def sentences(view: TextView, p: SentencesParams) -> Finding:
    # Punkt only ends a sentence at '.', '?' or '!', so their number + 1 bounds the count:
    # when the bound alone decides, the text is never tokenised.
    text = view.text
    bound = text.count(".") + text.count("?") + text.count("!") + 1
    if p.min is not None and bound < p.min:
        return Finding(False, f"found at most {bound} sentences; needs {describe_range(p)}", {"sentences_max": bound})
    if p.min is None and p.max is not None and bound <= p.max:
        return Finding(True, f"found at most {bound} sentences; needs {describe_range(p)}", {"sentences_max": bound})
    n = len(view.sentences)
    return Finding(within(n, p), count_reason(n, "sentences", p), {"sentences": n})
