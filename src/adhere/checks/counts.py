"""Counting checks: distinct words, conjunctions, names, numbers, pronouns, keyword tallies,
punctuation coverage, and ratios (stop words, sentence types, trigram overlap).

Units follow IFBench's definitions (its quirks are part of the meaning a benchmark score
depends on, and each one is named in the check's docstring).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import ConfigDict, Field

from ..registry import Finding, NoParams, Params, check
from ..text.view import TextView
from ._charsets import PUNCT_SPACE, english_stopwords, no_punct, plain_words, treebank_of

_TAGS = ("count", "ifbench")


class MinCount(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 3}]})

    min: int = Field(ge=0, description="Smallest count that passes.")


class ExactCount(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"exactly": 2}]})

    exactly: int = Field(ge=0, description="The count required.")


# -- distinct words ----------------------------------------------------------------------------


@check(
    "count.unique_words",
    params=MinCount,
    tags=_TAGS,
    description="At least `min` distinct words (lowercased whitespace tokens, ASCII punctuation trimmed).",
)
def unique_words(view: TextView, p: MinCount) -> Finding:
    """A token made only of punctuation trims to '' and counts as one distinct word, as in IFBench."""
    distinct = {w.strip(PUNCT_SPACE) for w in set(view.lower.split())}  # each distinct token trimmed once
    n = len(distinct)
    return Finding(n >= p.min, f"found {n} distinct words; needs at least {p.min}", {"distinct_words": n})


_CONJUNCTIONS = frozenset(("and", "but", "for", "nor", "or", "so", "yet"))


@check(
    "count.conjunctions",
    params=MinCount,
    tags=_TAGS,
    description="At least `min` different coordinating conjunctions (for, and, nor, but, or, yet, so).",
)
def conjunctions(view: TextView, p: MinCount) -> Finding:
    """Distinctness is over the raw tokens, so 'and' and 'And,' count twice (IFBench's quirk)."""
    found = {w for w in set(plain_words(view)) if w.strip(PUNCT_SPACE).lower() in _CONJUNCTIONS}
    n = len(found)
    return Finding(
        n >= p.min, f"found {n} different conjunction tokens; needs at least {p.min}", {"conjunctions": sorted(found)}
    )


_NAMES = [
    "Emma",
    "Liam",
    "Sophia",
    "Jackson",
    "Olivia",
    "Noah",
    "Ava",
    "Lucas",
    "Isabella",
    "Mason",
    "Mia",
    "Ethan",
    "Charlotte",
    "Alexander",
    "Amelia",
    "Benjamin",
    "Harper",
    "Leo",
    "Zoe",
    "Daniel",
    "Chloe",
    "Samuel",
    "Lily",
    "Matthew",
    "Grace",
    "Owen",
    "Abigail",
    "Gabriel",
    "Ella",
    "Jacob",
    "Scarlett",
    "Nathan",
    "Victoria",
    "Elijah",
    "Layla",
    "Nicholas",
    "Audrey",
    "David",
    "Hannah",
    "Christopher",
    "Penelope",
    "Thomas",
    "Nora",
    "Andrew",
    "Aria",
    "Joseph",
    "Claire",
    "Ryan",
    "Stella",
    "Jonathan",
]


class NamesParams(MinCount):
    model_config = ConfigDict(json_schema_extra={"examples": [{"min": 2}, {"min": 1, "names": ["Ada", "Grace"]}]})

    names: tuple[str, ...] = Field(default=tuple(_NAMES), description="The names that count (case-sensitive).")


_WORD_RUN_RE = re.compile(r"\w+")


@lru_cache(maxsize=64)
def _name_patterns(names: tuple[str, ...]) -> tuple[frozenset[str], list[tuple[str, re.Pattern[str]]]]:
    """The names made only of word characters, and a whole-word pattern for each other name.

    For a name of word characters only, ``\\bname\\b`` matches exactly when the name is one
    of the text's maximal ``\\w+`` runs (``re``'s ``\\b`` and ``\\w`` share one definition of
    a word character), so those names are looked up in the set of runs instead of searched
    one by one.
    """
    plain = frozenset(name for name in names if _WORD_RUN_RE.fullmatch(name))
    return plain, [(name, re.compile(rf"\b{re.escape(name)}\b")) for name in names if name not in plain]


@check(
    "count.person_names",
    params=NamesParams,
    tags=_TAGS,
    description="Mention at least `min` different names from a list (whole words, case-sensitive).",
)
def person_names(view: TextView, p: NamesParams) -> Finding:
    plain, patterns = _name_patterns(p.names)
    runs = view.memo("counts.word_runs", lambda: frozenset(_WORD_RUN_RE.findall(view.text)))
    found = sorted((plain & runs) | {name for name, pat in patterns if pat.search(view.text)})
    n = len(found)
    return Finding(n >= p.min, f"found {n} different listed names; needs at least {p.min}", {"names": found})


_DIGITS_RE = re.compile(r"\d+")


@check(
    "count.numbers",
    params=ExactCount,
    tags=_TAGS,
    description="Exactly `exactly` numbers: digit runs after deleting ASCII punctuation ('3.5' is one).",
)
def numbers(view: TextView, p: ExactCount) -> Finding:
    n = len(_DIGITS_RE.findall(no_punct(view)))
    return Finding(n == p.exactly, f"found {n} numbers; needs exactly {p.exactly}", {"numbers": n})


_PRONOUNS = frozenset(
    [
        "i",
        "me",
        "we",
        "us",
        "you",
        "he",
        "him",
        "she",
        "her",
        "it",
        "they",
        "them",
        "my",
        "mine",
        "our",
        "ours",
        "your",
        "yours",
        "his",
        "hers",
        "its",
        "their",
        "theirs",
        "myself",
        "ourselves",
        "yourself",
        "yourselves",
        "himself",
        "herself",
        "itself",
        "themselves",
        "this",
        "that",
        "these",
        "those",
        "who",
        "whom",
        "whose",
        "which",
        "what",
        "whoever",
        "whomever",
        "whatever",
        "whichever",
        "anybody",
        "anyone",
        "anything",
        "everybody",
        "everyone",
        "everything",
        "nobody",
        "nothing",
        "somebody",
        "someone",
        "something",
        "each",
        "either",
        "neither",
        "both",
        "all",
        "some",
        "any",
        "none",
    ]
)


@check(
    "count.pronouns",
    params=MinCount,
    tags=_TAGS,
    description="At least `min` pronouns (nltk word tokens of the lowercased text; '/' splits 'she/her').",
)
def pronouns(view: TextView, p: MinCount) -> Finding:
    tokens = treebank_of(view, view.text.replace("/", " ").lower())
    n = sum(1 for t in tokens if t in _PRONOUNS)
    return Finding(n >= p.min, f"found {n} pronouns; needs at least {p.min}", {"pronouns": n})


class KeywordTallyParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"keywords": [["cloud", 1], ["rain", 2]]}]})

    keywords: tuple[tuple[str, int], ...] = Field(
        min_length=1, description="(keyword, exact count) pairs; counts are case-insensitive substring counts."
    )


@check(
    "count.keyword_tally",
    params=KeywordTallyParams,
    tags=(*_TAGS, "keywords"),
    description="Each keyword occurs exactly its given number of times (case-insensitive substrings).",
)
def keyword_tally(view: TextView, p: KeywordTallyParams) -> Finding:
    """Substring counts, not whole words ('cat' counts inside 'catalog'), as IFBench counts them.

    Keywords are trimmed of surrounding whitespace first.
    """
    counts = {kw.strip(): view.lower.count(kw.strip().lower()) for kw, _ in p.keywords}
    wrong = [
        f"{kw.strip()!r} {counts[kw.strip()]}x (needs {want})" for kw, want in p.keywords if counts[kw.strip()] != want
    ]
    if wrong:
        return Finding(False, "wrong counts: " + ", ".join(wrong), {"counts": counts})
    return Finding(True, "every keyword occurs the required number of times", {"counts": counts})


_MARKS = (".", ",", "!", "?", ";", ":")


@check(
    "count.punctuation_marks",
    params=NoParams,
    tags=(*_TAGS, "punctuation"),
    description="Uses each of . , ! ? ; : at least once, plus an interrobang (?! or !? or U+203D).",
)
def punctuation_marks(view: TextView, p: NoParams) -> Finding:
    """One '?!' (else one '!?') is taken as the interrobang and does not also count as '?' and '!'."""
    text = view.text
    if not ("!?" in text or "?!" in text or "‽" in text):
        return Finding(False, "no interrobang (?!, !? or ‽)", {"missing": ["interrobang"]})
    rest = text.replace("?!", "", 1)
    if len(rest) == len(text):
        rest = text.replace("!?", "", 1)
    missing = [m for m in _MARKS if m not in rest]
    if missing:
        return Finding(False, f"missing {' '.join(missing)}", {"missing": missing})
    return Finding(True, "uses every required mark and an interrobang")


# -- ratios ------------------------------------------------------------------------------------


class PercentParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"max_percent": 30}]})

    max_percent: float = Field(ge=0, description="Largest share of stop words, in percent, that passes.")


@check(
    "ratio.stop_words",
    params=PercentParams,
    tags=("ratio", "ifbench"),
    description="Stop words (nltk's English list) are at most `max_percent` percent of the words (\\w+ runs).",
)
def stop_words(view: TextView, p: PercentParams) -> Finding:
    words = view.words
    if not words:
        return Finding(False, "no words", {"words": 0})
    stops = english_stopwords()
    n_stop = sum(map(stops.__contains__, map(str.lower, words)))
    share = (n_stop / len(words)) * 100
    return Finding(
        share <= p.max_percent,
        f"stop words are {share:.1f}% of {len(words)} words; at most {p.max_percent:g}% allowed",
        {"stop_words": n_stop, "words": len(words), "percent": share},
    )


_Types = tuple[int, int, int]


def _sentence_types(view: TextView, hopeless: Callable[[_Types, _Types], bool]) -> tuple[_Types, bool]:
    """(declarative, interrogative, exclamatory): Punkt sentences ending in '.', '?', '!'; and
    whether those are the counts of the whole text.

    Sentences are read one at a time; after each, ``hopeless(counts so far, marks)`` may stop the
    reading, where ``marks`` counts the '.', '?' and '!' characters of the text: no more
    sentences than that can end with each (sentences do not overlap), so a check can tell when
    no rest of the text could bring the counts into line. Complete counts are memoised.
    """
    memo: dict[str, _Types] = view.memo("counts.sentence_types", dict)
    if "all" in memo:
        return memo["all"], True
    text = view.text
    marks = (text.count("."), text.count("?"), text.count("!"))
    decl = inter = excl = 0
    for sent in view.iter_sentences():
        end = sent[-1]
        if end == ".":
            decl += 1
        elif end == "?":
            inter += 1
        elif end == "!":
            excl += 1
        else:
            continue
        if hopeless((decl, inter, excl), marks):
            return (decl, inter, excl), False
    memo["all"] = (decl, inter, excl)
    return memo["all"], True


def _known_types(view: TextView) -> dict[str, bool | None]:
    """For each end mark, whether some sentence ends with it, when that is clear without Punkt.

    A kind is absent when its mark never occurs; it is present when the text ends with it
    (the last Punkt sentence ends where the right-stripped text ends). None: unknown.
    """

    def known() -> dict[str, bool | None]:
        text, last = view.text, view.stripped[-1:]
        return {mark: (False if mark not in text else True if last == mark else None) for mark in ".?!"}

    return view.memo("counts.known_types", known)


class SentenceRatioParams(Params):
    declarative: int = Field(default=2, ge=0, description="Declarative part of the ratio.")
    interrogative: int = Field(default=1, ge=0, description="Interrogative part of the ratio.")


@check(
    "ratio.sentence_types",
    params=SentenceRatioParams,
    tags=("ratio", "ifbench"),
    description="'.'-ending and '?'-ending sentences in the ratio declarative:interrogative (default 2:1).",
)
def sentence_types(view: TextView, p: SentenceRatioParams) -> Finding:
    """Sentences are nltk Punkt sentences; none of either kind (0:0) also passes, as in IFBench."""
    known = _known_types(view)
    # With both ratio parts non-zero and one kind absent, the ratio holds only if the other is absent too.
    if p.declarative and p.interrogative and (known["."] is False or known["?"] is False):
        ok = known["."] is False and known["?"] is False
        if ok or known["."] or known["?"]:
            return Finding(ok, "decided by which end marks occur", {"known": known})
    d, i = p.declarative, p.interrogative

    def hopeless(counts: _Types, marks: _Types) -> bool:
        # The final counts lie in [so far, marks]: the ratio cannot come back once one side
        # already exceeds what the other side could ever match.
        return counts[0] * i > marks[1] * d or counts[1] * d > marks[0] * i

    (decl, inter, _), complete = _sentence_types(view, hopeless)
    if not complete:
        return Finding(
            False,
            f"already {decl} declarative and {inter} interrogative sentences; the rest of the text "
            f"cannot bring them to {d}:{i}",
            {"declarative_at_least": decl, "interrogative_at_least": inter},
        )
    ok = decl * i == inter * d
    return Finding(
        ok,
        f"{decl} declarative and {inter} interrogative sentences; needs {d}:{i}",
        {"declarative": decl, "interrogative": inter},
    )


@check(
    "ratio.sentence_types_balanced",
    params=NoParams,
    tags=("ratio", "ifbench"),
    description="As many '.'-ending as '?'-ending as '!'-ending sentences.",
)
def sentence_types_balanced(view: TextView, p: NoParams) -> Finding:
    known = _known_types(view)
    if False in known.values():  # one kind is absent: all must be
        if all(v is False for v in known.values()):
            return Finding(True, "no sentence ends with '.', '?' or '!'", {"known": known})
        if True in known.values():
            return Finding(False, "one kind of sentence is missing while another occurs", {"known": known})

    def hopeless(counts: _Types, marks: _Types) -> bool:
        return max(counts) > min(marks)  # one kind already outnumbers what another could reach

    (decl, inter, excl), complete = _sentence_types(view, hopeless)
    if not complete:
        return Finding(
            False,
            f"already {decl} declarative, {inter} interrogative, {excl} exclamatory sentences; "
            "the other kinds have too few end marks left to catch up",
            {"declarative_at_least": decl, "interrogative_at_least": inter, "exclamatory_at_least": excl},
        )
    return Finding(
        decl == inter == excl,
        f"{decl} declarative, {inter} interrogative, {excl} exclamatory sentences; needs equal counts",
        {"declarative": decl, "interrogative": inter, "exclamatory": excl},
    )


class OverlapParams(Params):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reference": "The quick brown fox jumps over the lazy dog.", "percent": 40}]}
    )

    reference: str = Field(description="The text to overlap with.")
    percent: float = Field(description="Target share of the response's character trigrams found in the reference.")
    tolerance: float = Field(default=2.0, ge=0, description="Allowed distance from `percent`, in points.")


def _trigrams(text: str) -> Any:
    """The distinct character trigrams of ``text`` (what ``set(nltk.ngrams(text, 3))`` holds), each
    coded as one integer, sorted: a numpy ``uint64`` array.

    A code point takes 21 bits, so three fit in 63 and equal codes mean equal trigrams. Sorting
    integers in numpy is several times faster than hashing a Python tuple per position, and
    loose mode asks for up to eight variants of a long response.
    """
    import numpy as np

    if len(text) < 3:
        return np.empty(0, dtype=np.uint64)
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    codes = (points[:-2] << 42) | (points[1:-1] << 21) | points[2:]
    codes.sort()
    first = np.empty(len(codes), dtype=bool)  # each value's first place (np.unique is slower here)
    first[0] = True
    np.not_equal(codes[1:], codes[:-1], out=first[1:])
    return codes[first]


def _shared(sorted_a: Any, sorted_b: Any) -> int:
    """How many values of ``sorted_a`` also occur in ``sorted_b`` (both sorted, without repeats)."""
    import numpy as np

    if not len(sorted_b):
        return 0
    at = np.searchsorted(sorted_b, sorted_a)
    at[at == len(sorted_b)] = 0
    return int(np.count_nonzero(sorted_b[at] == sorted_a))


@check(
    "ratio.trigram_overlap",
    params=OverlapParams,
    tags=("ratio", "ifbench"),
    description="Share of the response's distinct character trigrams also in `reference` is percent ± tolerance.",
)
def trigram_overlap(view: TextView, p: OverlapParams) -> Finding:
    """IFBench's checker takes trigrams of characters (nltk.ngrams over a string), not of words."""
    mine = view.memo("counts.trigrams", lambda: _trigrams(view.text))
    if not len(mine):
        return Finding(False, "the response is shorter than three characters", {"trigrams": 0})
    overlap = _shared(mine, _reference_trigrams(p.reference)) / len(mine)
    pct = overlap * 100
    return Finding(
        p.percent - p.tolerance <= pct <= p.percent + p.tolerance,
        f"trigram overlap is {pct:.1f}%; needs {p.percent:g}% ± {p.tolerance:g}",
        {"percent": pct, "trigrams": len(mine)},
    )


@lru_cache(maxsize=256)
def _reference_trigrams(reference: str) -> Any:
    codes = _trigrams(reference)
    codes.flags.writeable = False  # shared between calls
    return codes
