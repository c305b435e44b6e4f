"""Word tokens as nltk 3.10.4's ``NLTKWordTokenizer`` gives them for one sentence.

The tokenizer is the Penn Treebank convention as a sequence of rewrites that pad
tokens with spaces, then a whitespace split:

* opening quotes (``"`` at the start or after a bracket becomes two backticks,
  typographic opening quotes and backtick runs stand alone, a leading ``'`` before
  a word that is not a clitic splits off);
* punctuation (the sentence-final period with any closing quotes and brackets,
  ``:`` and ``,`` unless a digit follows, ellipses, ``;@#$%&``, figure and em
  dashes, ``?!``, a ``'`` before a space, ``*``), brackets, double dashes;
* closing quotes (``"`` and ``''`` become ``''``), whitespace runs, clitics
  (``'s 'm 'd 'll 're 've n't``) and the MacIntyre contractions
  (``cannot``, ``gonna``, ``'tis`` ...).

Each rewrite is a regular expression in the same engine nltk uses for it (``regex``
for most, the standard ``re`` for the contractions), applied in the same order. A
cheap test of the characters a rule needs skips rules that cannot apply, and whole
sentences are memoised: loose-mode variants repeat most sentences.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import regex  # type: ignore[import-untyped]  # the engine nltk runs these patterns on

__all__ = ["tokenize"]

_Rule = tuple[Callable[[str], bool], "regex.Pattern[str] | re.Pattern[str]", str]


def _has_any(chars: str) -> Callable[[str], bool]:
    def probe(s: str) -> bool:
        for ch in chars:  # noqa: SIM110 - a plain loop beats any() on short strings
            if ch in s:
                return True
        return False

    return probe


def _has(sub: str) -> Callable[[str], bool]:
    return lambda s: sub in s


def _has_any_of(subs: tuple[str, ...]) -> Callable[[str], bool]:
    def probe(s: str) -> bool:
        for sub in subs:  # noqa: SIM110
            if sub in s:
                return True
        return False

    return probe


_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _may_open_quote(s: str) -> bool:
    """Is some "'" not preceded by an ASCII word character (which \\w surely matches)?"""
    at = s.find("'")
    while at >= 0:
        if at == 0 or s[at - 1] not in _ASCII_WORD:
            return True
        at = s.find("'", at + 1)
    return False


_CLOSING = "\u00bb\u201d\u2019"  # » ” ’

_STARTING_QUOTES: list[_Rule] = [
    (_has_any("\u00ab\u201c\u2018\u201e`"), regex.compile("([\u00ab\u201c\u2018\u201e]|[`]+)"), r" \1 "),
    (lambda s: s.startswith('"'), regex.compile(r'^"'), "``"),
    (_has("``"), regex.compile("(``)"), r" \1 "),
    (lambda s: '"' in s or "''" in s, regex.compile(r"([ (\[{<])(\"|'{2})"), r"\1 `` "),
    (_may_open_quote, regex.compile(r"(?i)(?<!\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)"), r"\1 "),
]

_PUNCTUATION: list[_Rule] = [
    (_has("."), regex.compile(f"([^.])(\\.)([\\])}}>\"'{_CLOSING} ]*+)\\s*$"), r"\1 \2 \3 "),
    (_has_any(":,"), regex.compile(r"([:,])([^\d])"), r" \1 \2"),
    (lambda s: s.endswith((":", ",", ":\n", ",\n")), regex.compile(r"([:,])$"), r" \1 "),
    (_has(".."), regex.compile(r"\.{2,}"), r" \g<0> "),
    (_has_any(";@#$%&"), regex.compile(r"[;@#$%&]"), r" \g<0> "),
    (_has_any("\u2012\u2013\u2014\u2015"), regex.compile("[\u2012-\u2015]"), r" \g<0> "),
    (_has("."), regex.compile(r"([^.])(\.)([\])}>\"']*)\s*$"), r"\1 \2\3 "),
    (_has_any("?!"), regex.compile(r"[?!]"), r" \g<0> "),
    (_has("' "), regex.compile(r"([^'])' "), r"\1 ' "),
    (_has("*"), regex.compile(r"[*]"), r" \g<0> "),
    (_has_any("[]{}()<>"), regex.compile(r"[\]\[(){}<>]"), r" \g<0> "),
    (_has("--"), regex.compile(r"--"), r" -- "),
]

_ENDING_QUOTES: list[_Rule] = [
    (_has_any(_CLOSING), regex.compile(f"([{_CLOSING}])"), r" \1 "),
    (_has("''"), regex.compile(r"''"), " '' "),
    (_has('"'), regex.compile(r'"'), " '' "),
    (
        _has_any_of(("' ", "'s ", "'S ", "'m ", "'M ", "'d ", "'D ")),
        regex.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "),
        r"\1 \2 ",
    ),
    (
        _has_any_of(("'ll ", "'LL ", "'re ", "'RE ", "'ve ", "'VE ", "n't ", "N'T ")),
        regex.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "),
        r"\1 \2 ",
    ),
]

# MacIntyre's contractions, in the standard ``re`` engine as nltk compiles them.
_CONTRACTION_WORDS = ["can|not", "d|'ye", "gim|me", "gon|na", "got|ta", "lem|me", "more|'n"]
_CONTRACTIONS: list[re.Pattern[str]] = [
    *(re.compile(rf"(?i)\b({a})({b})\b") for a, b in (w.split("|") for w in _CONTRACTION_WORDS)),
    re.compile(r"(?i)\b(wan)(na)(?=\s)"),
    re.compile(r"(?i) ('t)(is)\b"),
    re.compile(r"(?i) ('t)(was)\b"),
]
# Each contraction needs its letters in a row, case-insensitively in the same engine
# (whose case folding also pairs some non-ASCII letters with ASCII ones).
_CONTRACTION_LITERALS = [w.replace("|", "") for w in [*_CONTRACTION_WORDS, "wan|na", "'t|is", "'t|was"]]
_CONTRACTION_PROBE = re.compile("(?i)" + "|".join(_CONTRACTION_LITERALS))


def _may_contract(text: str) -> bool:
    if text.isascii():
        low = text.lower()
        return any(word in low for word in _CONTRACTION_LITERALS)
    return _CONTRACTION_PROBE.search(text) is not None


_SPACE_RUN_RE = regex.compile(r"\s+")
_PY_ONLY_SPACE = ("\x1c", "\x1d", "\x1e", "\x1f")  # whitespace to str.split, not to regex's \s


def _squeeze_spaces(text: str) -> str:
    """Runs of ``\\s`` (regex) to one space, for text that starts and ends with a space."""
    if text.isascii() and not any(ch in text for ch in _PY_ONLY_SPACE):
        # Same whitespace set here, so split/join gives the same runs.
        words = text.split()
        return " " + " ".join(words) + " " if words else " "
    return str(_SPACE_RUN_RE.sub(" ", text))


def _apply(rules: list[_Rule], text: str) -> str:
    for applies, pattern, replacement in rules:
        if applies(text):
            text = pattern.sub(replacement, text)
    return text


def _tokenize(sentence: str) -> list[str]:
    text = _apply(_STARTING_QUOTES, sentence)
    text = _apply(_PUNCTUATION, text)
    text = _apply(_ENDING_QUOTES[:3], " " + text + " ")
    text = _squeeze_spaces(text)
    text = _apply(_ENDING_QUOTES[3:], text)
    if _may_contract(text):
        for pattern in _CONTRACTIONS:
            text = pattern.sub(r" \1 \2 ", text)
    return text.split()


_memo: dict[str, tuple[str, ...]] = {}
_memo_lock = threading.Lock()
_MEMO_LIMIT = 50_000


def tokenize(sentence: str) -> tuple[str, ...]:
    """``NLTKWordTokenizer().tokenize(sentence)``, as a tuple (memoised)."""
    tokens = _memo.get(sentence)
    if tokens is None:
        tokens = tuple(_tokenize(sentence))
        if len(sentence) <= 10_000:
            with _memo_lock:
                if len(_memo) >= _MEMO_LIMIT:
                    _memo.clear()
                _memo[sentence] = tokens
    return tokens


def clear_cache() -> None:
    with _memo_lock:
        _memo.clear()
