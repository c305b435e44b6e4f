"""Checks on how sentences and paragraphs relate: growing alliteration, word-count steps,
last-word/first-word chains, equal lengths, paragraph bookends, letter-ordered openings.

Sentences are nltk Punkt sentences (``view.sentences``), IFBench's definition.
"""

from __future__ import annotations

import itertools

from pydantic import ConfigDict, Field

from ..registry import Finding, NoParams, Params, check
from ..text.view import TextView
from ._charsets import PUNCT_SPACE, strip_punct

_TAGS = ("sentences", "ifbench")


def _alliteration(sentence: str) -> int:
    """Words in runs of two or more adjacent words sharing a first character (leading punctuation trimmed)."""
    words = [c for c in (w.lstrip(PUNCT_SPACE) for w in sentence.lower().split()) if c]
    total, in_run = 0, False
    for a, b in itertools.pairwise(words):
        if a[0] == b[0]:
            total += 1 if in_run else 2
            in_run = True
        else:
            in_run = False
    return total


@check(
    "sentences.alliteration_grows",
    params=NoParams,
    tags=_TAGS,
    description="Each sentence has more alliterative words (same first letter, adjacent) than the one before.",
)
def alliteration_grows(view: TextView, p: NoParams) -> Finding:
    """Sentences are split only up to the first one that does not grow (the evidence lists the
    counts up to it)."""
    counts: list[int] = []
    prev = -1
    for i, sent in enumerate(view.iter_sentences()):
        n = _alliteration(sent)
        counts.append(n)
        if n <= prev:
            return Finding(
                False, f"sentence {i + 1} has {n} alliterative words, not more than {prev}", {"counts": counts}
            )
        prev = n
    return Finding(True, f"alliteration grows over {len(counts)} sentences", {"counts": counts})


class StepParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"step": 2}]})

    step: int = Field(description="Words each sentence adds to the previous one.")


@check(
    "sentences.word_step",
    params=StepParams,
    tags=_TAGS,
    description="Each sentence has exactly `step` more words (ASCII punctuation deleted) than the previous one.",
)
def word_step(view: TextView, p: StepParams) -> Finding:
    """Sentences are split only up to the first one off the step."""
    counts: list[int] = []
    for i, sent in enumerate(view.iter_sentences()):
        counts.append(len(strip_punct(sent).split()))
        if i and counts[i] != counts[i - 1] + p.step:
            return Finding(
                False,
                f"sentence {i + 1} has {counts[i]} words; needs {counts[i - 1] + p.step}",
                {"counts": counts},
            )
    if not counts:
        return Finding(False, "no sentences")
    return Finding(True, f"{len(counts)} sentences grow by {p.step} words each", {"counts": counts})


@check(
    "sentences.chain_last_first",
    params=NoParams,
    tags=_TAGS,
    description="Each sentence begins with the word that ended the previous sentence (case-insensitive).",
)
def chain_last_first(view: TextView, p: NoParams) -> Finding:
    """Sentences are split only up to the first broken link."""
    n = 0
    for i, (sent, after) in enumerate(itertools.pairwise(view.iter_sentences())):
        n = i + 2
        last = sent.rstrip(PUNCT_SPACE).split()
        first = after.lstrip(PUNCT_SPACE).split()
        if not last or not first:
            return Finding(False, f"sentence {i + 1} or {i + 2} has no words", {"sentence": i + 1})
        if last[-1].lower() != first[0].lower():
            return Finding(
                False,
                f"sentence {i + 2} starts with {first[0]!r}, not {last[-1]!r}",
                {"sentence": i + 2},
            )
    if not n:  # no pair: zero sentences or one
        n = len(view.first_sentences(1))
    return Finding(True, f"{n} sentences chain last word to first word")


class EqualLengthParams(Params):
    count: int = Field(default=3, ge=1, description="Number of sentences required.")


@check(
    "sentences.equal_length",
    params=EqualLengthParams,
    tags=_TAGS,
    description="Exactly `count` sentences, all with the same number of characters.",
)
def equal_length(view: TextView, p: EqualLengthParams) -> Finding:
    """IFBench's 'all different words' wording is not checked (its checker does not check it either)."""
    lengths = [len(s.strip()) for s in view.sentences]
    if len(lengths) != p.count:
        return Finding(False, f"found {len(lengths)} sentences; needs {p.count}", {"lengths": lengths})
    return Finding(len(set(lengths)) == 1, f"sentence lengths {lengths}", {"lengths": lengths})


@check(
    "paragraphs.same_first_last_word",
    params=NoParams,
    tags=("paragraphs", "ifbench"),
    description="Every line-separated paragraph ends with the word it starts with (case-insensitive).",
)
def same_first_last_word(view: TextView, p: NoParams) -> Finding:
    """Outer ASCII punctuation is trimmed from the paragraph, not from inner words ('go,' != 'go')."""
    for i, line in enumerate(view.lines):
        words = line.strip().lower().strip(PUNCT_SPACE).split()
        if words and words[0] != words[-1]:
            return Finding(False, f"line {i + 1} starts with {words[0]!r} but ends with {words[-1]!r}", {"line": i + 1})
    return Finding(True, "every paragraph ends with its first word")


class AlphabetParams(Params):
    count: int = Field(default=26, ge=1, le=26, description="Sentences required; they start with a, b, c, ...")


@check(
    "sentences.alphabet_openings",
    params=AlphabetParams,
    tags=_TAGS,
    description="Exactly `count` sentences whose first words start with a, b, c, ... in order.",
)
def alphabet_openings(view: TextView, p: AlphabetParams) -> Finding:
    sents = view.sentences
    if len(sents) != p.count:
        return Finding(False, f"found {len(sents)} sentences; needs {p.count}", {"sentences": len(sents)})
    for i, sent in enumerate(sents):
        words = sent.lstrip().split()
        letter = chr(97 + i)
        if not words or words[0].lower()[0] != letter:
            return Finding(False, f"sentence {i + 1} does not start with {letter!r}", {"sentence": i + 1})
    return Finding(True, f"{p.count} sentences open in alphabetical order")
