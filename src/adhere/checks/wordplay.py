"""Word-play checks: letter chains, vowels, consonant clusters, palindromes, prime lengths,
repetition limits, shared initials, syllable parity, Japanese every N-th word.

Words are whitespace tokens (``str.split()``) with ASCII punctuation deleted or trimmed,
as IFBench defines them for each constraint (named in each docstring).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import lru_cache

from pydantic import ConfigDict, Field

from ..errors import MissingExtraError
from ..registry import Finding, NoParams, Params, check
from ..text.view import TextView
from ._charsets import PUNCT_SPACE, no_punct, plain_words

_TAGS = ("words", "ifbench")
_ALPHABET = string.ascii_lowercase


def _nopunct_words(view: TextView) -> list[str]:
    return view.memo("wordplay.nopunct_words", lambda: no_punct(view).split())


def _nopunct_lower_words(view: TextView) -> list[str]:
    return view.memo("wordplay.nopunct_lower_words", lambda: no_punct(view).lower().split())


@check(
    "words.alphabet_chain",
    params=NoParams,
    tags=_TAGS,
    description="Successive words start with successive letters of the alphabet, Z wrapping to A.",
)
def alphabet_chain(view: TextView, p: NoParams) -> Finding:
    """Words are whitespace tokens after deleting ASCII punctuation; the first must start with a-z."""
    words = no_punct(view).strip(PUNCT_SPACE).split()
    if not words:
        return Finding(False, "no words")
    letter = words[0][0].lower()
    if letter not in _ALPHABET:
        return Finding(False, f"the first word {words[0]!r} does not start with a letter a-z")
    for i, word in enumerate(words[1:], start=2):
        word = word.lower()
        letter = _ALPHABET[(_ALPHABET.index(letter) + 1) % 26]
        if word[0] != letter:
            return Finding(False, f"word {i} {word!r} should start with {letter!r}", {"word": i})
    return Finding(True, f"{len(words)} words follow the alphabet", {"words": len(words)})


_VOWELS = frozenset("aeiou")


class VowelParams(Params):
    max_vowels: int = Field(default=3, ge=0, description="Most distinct vowel letters allowed.")


@check(
    "words.few_vowels",
    params=VowelParams,
    tags=_TAGS,
    description="One paragraph (no line break inside) using at most `max_vowels` distinct vowels (a e i o u).",
)
def few_vowels(view: TextView, p: VowelParams) -> Finding:
    lines = view.stripped.split("\n")
    if len(lines) != 1:
        return Finding(False, f"found {len(lines)} lines; needs a single paragraph", {"lines": len(lines)})
    used = sorted(_VOWELS.intersection(lines[0].lower()))
    return Finding(
        len(used) <= p.max_vowels,
        f"uses {len(used)} distinct vowels ({''.join(used)}); at most {p.max_vowels} allowed",
        {"vowels": used},
    )


_CONSONANT_PAIR_RE = re.compile(r"[bcdfghjklmnpqrstvwxyz]{2}")


@check(
    "words.consonant_clusters",
    params=NoParams,
    tags=_TAGS,
    description="Every whitespace-separated word contains two adjacent consonant letters (y counts).",
)
def consonant_clusters(view: TextView, p: NoParams) -> Finding:
    for word in view.lower.split():
        if not _CONSONANT_PAIR_RE.search(word):
            return Finding(False, f"{word!r} has no consonant cluster", {"word": word})
    return Finding(True, "every word has a consonant cluster")


class PalindromeParams(Params):
    min: int = Field(default=10, ge=0, description="Palindromic words required.")
    min_length: int = Field(default=5, ge=1, description="Shortest word that counts.")


@check(
    "words.palindromes",
    params=PalindromeParams,
    tags=_TAGS,
    description="At least `min` palindromic words of `min_length` or more characters (repeats count).",
)
def palindromes(view: TextView, p: PalindromeParams) -> Finding:
    shortest = p.min_length
    # The end letters first: most words fail there without building their reversal.
    found = [w for w in _nopunct_lower_words(view) if len(w) >= shortest and w[0] == w[-1] and w == w[::-1]]
    return Finding(
        len(found) >= p.min,
        f"found {len(found)} palindromes of {p.min_length}+ characters; needs {p.min}",
        {"palindromes": found[:20]},
    )


# IFBench's checker accepts the primes below 100 only: a 101-letter word fails.
_PRIMES = frozenset((2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97))


@check(
    "words.prime_lengths",
    params=NoParams,
    tags=_TAGS,
    description="Every word (ASCII punctuation deleted) has a prime number of characters (primes below 100).",
)
def prime_lengths(view: TextView, p: NoParams) -> Finding:
    for word in _nopunct_words(view):
        if len(word) not in _PRIMES:
            return Finding(False, f"{word!r} has {len(word)} characters, not a prime", {"word": word})
    return Finding(True, "every word has a prime length")


class RepeatParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"max": 2}]})

    max: int = Field(ge=0, description="Most times any word may occur.")


@check(
    "words.max_repeats",
    params=RepeatParams,
    tags=_TAGS,
    description="No word (lowercased, ASCII punctuation deleted) occurs more than `max` times.",
)
def max_repeats(view: TextView, p: RepeatParams) -> Finding:
    counts = Counter(view.lower.translate(_DELETE).split())
    if counts:
        word, n = counts.most_common(1)[0]
        if n > p.max:
            return Finding(False, f"{word!r} occurs {n} times; at most {p.max} allowed", {"word": word, "count": n})
    return Finding(True, f"no word occurs more than {p.max} times")


_DELETE = str.maketrans("", "", string.punctuation)


@check(
    "words.no_shared_initials",
    params=NoParams,
    tags=_TAGS,
    description="No two adjacent words (lowercased, ASCII punctuation deleted) start with the same character.",
)
def no_shared_initials(view: TextView, p: NoParams) -> Finding:
    words = view.lower.translate(_DELETE).split()
    for i in range(len(words) - 1):
        if words[i][0] == words[i + 1][0]:
            return Finding(False, f"{words[i]!r} and {words[i + 1]!r} share their first letter", {"word": i + 1})
    return Finding(True, "no adjacent words share a first letter")


@lru_cache(maxsize=8192)
def _syllable_parity(word: str) -> int:
    import syllapy  # type: ignore[import-untyped]

    return int(syllapy.count(word)) % 2


@check(
    "words.syllable_parity_alternates",
    params=NoParams,
    tags=_TAGS,
    description="Words alternate between odd and even syllable counts (syllapy's counts).",
)
def syllable_parity_alternates(view: TextView, p: NoParams) -> Finding:
    words = _nopunct_lower_words(view)
    prev = -1
    for i, word in enumerate(words):
        parity = _syllable_parity(word)  # hyphens are deleted first, so syllapy never recurses
        if parity == prev:
            kind = "odd" if parity else "even"
            return Finding(False, f"words {i} and {i + 1} both have an {kind} syllable count", {"word": i + 1})
        prev = parity
    return Finding(True, f"{len(words)} words alternate syllable parity")


_JAPANESE_RE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


class NthParams(Params):
    model_config = ConfigDict(json_schema_extra={"examples": [{"n": 3}]})

    n: int = Field(ge=1, description="Every n-th word must be Japanese.")


@check(
    "words.japanese_every_nth",
    params=NthParams,
    tags=(*_TAGS, "language"),
    description="Every n-th whitespace word contains Japanese script (kana or CJK ideographs); numbers are exempt.",
)
def japanese_every_nth(view: TextView, p: NthParams) -> Finding:
    words = plain_words(view)
    for i in range(p.n - 1, len(words), p.n):
        word = words[i].strip(PUNCT_SPACE)
        if word and not word.isdigit() and not _JAPANESE_RE.search(word):
            return Finding(False, f"word {i + 1} {word!r} is not Japanese", {"word": i + 1})
    return Finding(True, f"every {p.n}-th word is Japanese")


class StartVerbParams(Params):
    tagger: str = Field(
        default="auto",
        pattern="^(auto|nltk|pattern)$",
        description="'nltk' (nltk's averaged perceptron, needs its data installed), 'pattern' (TextBlob's "
        "bundled Pattern tagger, the adhere[pos] extra) or 'auto' (nltk when its data is installed, else pattern).",
    )


@check(
    "words.start_verb",
    params=StartVerbParams,
    tags=_TAGS,
    description="The first word token is tagged as a verb (a VB* Penn Treebank tag).",
)
def start_verb(view: TextView, p: StartVerbParams) -> Finding:
    from ._tagger import TaggerUnavailable, tag_first

    tokens = view.treebank_tokens
    if not tokens:
        return Finding(False, "no tokens")
    try:
        name, tag = tag_first(tokens, p.tagger)
    except TaggerUnavailable as exc:
        return Finding(None, str(exc), {"tagger": p.tagger})
    except MissingExtraError as exc:
        return Finding(None, str(exc), {"tagger": p.tagger})
    return Finding("VB" in tag, f"the first token {tokens[0]!r} is tagged {tag}", {"tag": tag, "tagger": name})
