"""Punkt sentence splitting as nltk 3.10.4's ``sent_tokenize`` (English) does it.

Kiss & Strunk's Punkt decides, for each ``.``, ``?`` or ``!`` followed by whitespace
or closing punctuation, whether it ends a sentence. nltk applies the pre-trained
English parameters (``punkt_english/``: abbreviations, collocations, frequent sentence
starters and each word's orthographic contexts) like this:

1. *Candidates*: every end character followed by either a non-word punctuation
   character or whitespace and a next token. Its *context* is the word before it
   (back to the last ASCII whitespace; candidates whose words overlap are merged, the
   later one wins), the end character, and what follows.
2. *Decision*: the context is split into tokens with Punkt's word regex and
   annotated. First pass, by type: ``.``/``?``/``!`` break; ``..``+ is an ellipsis; a
   token ending in one period is an abbreviation if known, else a break. Second
   pass, with the next token: known collocations join; an abbreviation or ellipsis
   breaks if the orthographic heuristic or the sentence-starter list says the next
   word starts a sentence; an initial or number does not break if the heuristic
   says the next word does not start one (or, for initials, if it is unknown and
   the next word is capitalised and never seen lower-case). The candidate is a
   boundary if any token but the last ends up a break.
3. *Slices*: a boundary ends the sentence at the end character; the next starts at
   the next token (or right after the character). The last runs to the end of the
   right-stripped text.
4. *Realignment*: closing quotes and brackets right after a boundary move to the
   sentence before.

Decisions depend on the context string only, so they are memoised. The regular
expressions use the ``regex`` engine, as nltk does, so character classes such as
``\\s`` and ``\\w`` mean exactly what they mean there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import regex  # type: ignore[import-untyped]  # the engine nltk runs these patterns on

__all__ = ["PunktParams", "iter_sentence_spans", "load_params", "sentence_spans"]

PARAMS_DIR = Path(__file__).with_name("punkt_english")

# Orthographic context flags (where a word type was seen, and with which case).
_BEG_UC, _MID_UC, _UNK_UC = 1 << 1, 1 << 2, 1 << 3
_BEG_LC, _MID_LC, _UNK_LC = 1 << 4, 1 << 5, 1 << 6
_UC = _BEG_UC | _MID_UC | _UNK_UC
_LC = _BEG_LC | _MID_LC | _UNK_LC

_SENT_END = (".", "?", "!")
_NOT_SENT_START = (";", ":", ",", ".", "!", "?")
_NUMBER = "##number##"
_RARE_SPACE = ("\t", "\r", "\x0b", "\x0c")  # with " " and "\n", Python's string.whitespace

# Characters that cannot appear within words (the end characters other than ".").
_NON_WORD = "(?:[)\";}\\]*:@'({\\[\u2018\u2019\u201c\u201d\u00ab\u00bb?!])"
_MULTI_CHAR = r"(?:-{2,}|\.{2,}|(?:\.\s){2,}\.)"
_WORD_START = r"[^(\"`{\[:;&#*@)}\]\-,]"
_WORD_RE = regex.compile(
    f"({_MULTI_CHAR}"
    f"|(?={_WORD_START})\\S+?(?=\\s|$|{_NON_WORD}|{_MULTI_CHAR}|,(?=$|\\s|{_NON_WORD}|{_MULTI_CHAR}))"
    r"|\S)"
)
_PERIOD_CONTEXT_RE = regex.compile(f"[.?!](?=(?P<after_tok>{_NON_WORD}|\\s+(?P<next_tok>\\S+)))")
_NUMERIC_RE = regex.compile(r"^-?[.,]?\d[\d,.-]*\.?$")
_INITIAL_RE = regex.compile(r"[^\W\d]\.$")
_REALIGN_RE = regex.compile("[\"')\\]}\u2018\u2019\u201c\u201d\u00ab\u00bb]+?(?:\\s+|(?=--)|$)", regex.MULTILINE)
_REALIGN_FIRST = frozenset("\"')]}\u2018\u2019\u201c\u201d\u00ab\u00bb")


@dataclass(frozen=True)
class PunktParams:
    """The trained English model."""

    abbrev_types: frozenset[str]
    collocations: frozenset[tuple[str, ...]]
    sent_starters: frozenset[str]
    ortho_context: dict[str, int]


def _lines(path: Path) -> list[str]:
    # Line by line in text mode, each without its newline, as nltk's tab decoder reads.
    with open(path, encoding="utf-8") as fh:
        return [line[:-1] if line.endswith("\n") else line for line in fh]


def load_params(directory: Path = PARAMS_DIR) -> PunktParams:
    ortho: dict[str, int] = {}
    for line in _lines(directory / "ortho_context.tab"):
        key, value = line.split("\t")
        ortho[key] = int(value)
    return PunktParams(
        abbrev_types=frozenset(_lines(directory / "abbrev_types.txt")),
        collocations=frozenset(tuple(line.split("\t")) for line in _lines(directory / "collocations.tab")),
        sent_starters=frozenset(_lines(directory / "sent_starters.txt")),
        ortho_context=ortho,
    )


class _Token:
    """One Punkt token with its first-pass annotation."""

    __slots__ = (
        "abbr",
        "ellipsis",
        "first_lower",
        "first_upper",
        "initial",
        "period_final",
        "sentbreak",
        "tok",
        "type",
    )

    def __init__(self, tok: str, abbrev_types: frozenset[str]) -> None:
        self.tok = tok
        low = tok.lower()
        self.type = _NUMBER if _NUMERIC_RE.match(low) else low
        self.period_final = tok.endswith(".")
        first = tok[0]
        self.first_upper = first.isupper()
        self.first_lower = first.islower()
        self.sentbreak = self.abbr = self.ellipsis = self.initial = False
        if self.period_final:
            self.initial = _INITIAL_RE.match(tok) is not None  # a letter and a period
        if tok in _SENT_END:
            self.sentbreak = True
        elif len(tok) > 1 and not tok.strip("."):
            self.ellipsis = True
        elif self.period_final and not tok.endswith(".."):
            stem = tok[:-1].lower()
            if stem in abbrev_types or stem.split("-")[-1] in abbrev_types:
                self.abbr = True
            else:
                self.sentbreak = True

    def type_no_period(self) -> str:
        typ = self.type
        return typ[:-1] if len(typ) > 1 and typ[-1] == "." else typ

    def type_no_sentperiod(self) -> str:
        return self.type_no_period() if self.sentbreak else self.type


class PunktSplitter:
    """Sentence boundaries with one parameter set; decisions memoised per context."""

    def __init__(self, params: PunktParams) -> None:
        self.params = params
        self._decisions: dict[str, bool] = {}
        self._tokens: dict[str, _Token] = {}  # first-pass annotations by token text

    # -- the decision for one candidate --------------------------------------------------------

    def _ortho_says_start(self, token: _Token) -> bool | None:
        """The orthographic heuristic: True (starts a sentence), False, or None (unknown)."""
        if token.tok in _NOT_SENT_START:
            return False
        context = self.params.ortho_context.get(token.type_no_sentperiod(), 0)
        if token.first_upper and context & _LC and not context & _MID_UC:
            return True
        if token.first_lower and (context & _UC or not context & _BEG_LC):
            return False
        return None

    def _breaks(self, token: _Token, following: _Token) -> bool:
        """Second pass: does ``token`` end a sentence, given the token after it?"""
        if not token.period_final:
            return token.sentbreak
        typ = token.type_no_period()
        next_typ = following.type_no_sentperiod()
        initial = token.initial
        params = self.params
        if (typ, next_typ) in params.collocations:
            return False
        if (token.abbr or token.ellipsis) and not initial:
            if self._ortho_says_start(following) is True:
                return True
            if following.first_upper and next_typ in params.sent_starters:
                return True
        if initial or typ == _NUMBER:
            says = self._ortho_says_start(following)
            if says is False:
                return False
            if says is None and initial and following.first_upper and not params.ortho_context.get(next_typ, 0) & _LC:
                return False
        return token.sentbreak

    def _token(self, tok: str) -> _Token:
        token = self._tokens.get(tok)
        if token is None:
            token = _Token(tok, self.params.abbrev_types)
            if len(self._tokens) < 200_000:
                self._tokens[tok] = token
        return token

    def _decide(self, context: str) -> bool:
        """Does any token of ``context`` but the last end a sentence (both passes)?"""
        if "\n" in context:
            toks = [tok for line in context.split("\n") if line.strip() for tok in _WORD_RE.findall(line)]
        else:
            toks = _WORD_RE.findall(context) if context.strip() else []
        for i in range(len(toks) - 1):
            tok = toks[i]
            if tok.endswith("."):
                if self._breaks(self._token(tok), self._token(toks[i + 1])):
                    return True
            elif tok in _SENT_END:  # "?" and "!" break, and the second pass keeps them
                return True
        return False

    def clear_caches(self) -> None:
        self._decisions.clear()
        self._tokens.clear()

    def contains_break(self, context: str) -> bool:
        decision = self._decisions.get(context)
        if decision is None:
            decision = self._decide(context)
            if len(self._decisions) > 100_000:  # bound the memo; a racing clear only costs a recompute
                self._decisions.clear()
            self._decisions[context] = decision
        return decision

    # -- candidates, slices, realignment ------------------------------------------------------

    @staticmethod
    def _candidates(text: str) -> Iterator[tuple[int, int, str]]:
        """``(position, next token start or -1, context)`` of each candidate end, in order.

        The context is the word before (back to the last ASCII whitespace), the end
        character and what follows it; where two candidates' words overlap, only the
        later one stays. A candidate is yielded once the next one is known (or the text
        ends), so a reader that stops early never scans the rest of the text.
        """
        rare_space = [ch for ch in _RARE_SPACE if ch in text]
        rfind = text.rfind
        prev_at = -1
        prev_start = prev_end = prev_next = 0
        for match in _PERIOD_CONTEXT_RE.finditer(text):
            at = match.start()
            gap = prev_at if prev_at > 0 else 0  # from the previous candidate's end character on
            # The last ASCII whitespace (Python's string.whitespace) in the gap.
            space = rfind(" ", gap, at)
            newline = rfind("\n", gap, at)
            if newline > space:
                space = newline
            for ch in rare_space:
                space = max(space, rfind(ch, gap, at))
            # nltk counts a space found at offset 0 of the gap as no space at all.
            start = space + 1 if space > gap else prev_start
            if prev_at >= 0 and prev_at <= start:
                yield prev_at, prev_next, text[prev_start:prev_end]
            # Groups by number (1: after_tok, 2: next_tok): a name lookup per candidate costs more.
            prev_at, prev_start, prev_end, prev_next = at, start, match.end(1), match.start(2)
        if prev_at >= 0:
            yield prev_at, prev_next, text[prev_start:prev_end]

    def _slices(self, text: str) -> Iterator[tuple[int, int]]:
        """Sentence slices before realignment, in order (the last runs to the right-stripped end)."""
        last_break = 0
        decisions = self._decisions
        for at, next_start, context in self._candidates(text):
            decision = decisions.get(context)
            if decision is None:
                decision = self.contains_break(context)
            if decision:
                yield last_break, at + 1
                # The next sentence starts at the next token, or right after the end character.
                last_break = next_start if next_start >= 0 else at + 1
        yield last_break, len(text.rstrip())

    def iter_spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Sentence spans of ``text`` in order, computed only as far as they are read.

        ``list(iter_spans(text))`` is :meth:`spans`: the same steps, in the same order. A
        span is final once the slice after it is known (realignment looks one slice
        ahead), which needs the text only up to the end character that closes that slice.
        """
        slices = self._slices(text)
        start, stop = next(slices)  # there is always a last slice
        realign = 0
        for next_start, next_stop in slices:
            start += realign
            m = None
            if next_start < next_stop and text[next_start] in _REALIGN_FIRST:
                m = _REALIGN_RE.match(text[next_start:next_stop])
            if m is not None:
                yield start, next_start + len(m.group(0).rstrip())
                realign = m.end()
            else:
                realign = 0
                if start < stop:
                    yield start, stop
            start, stop = next_start, next_stop
        start += realign
        if start < stop:
            yield start, stop

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Sentence spans of ``text`` (``sent_tokenize``'s sentences are ``text[s:e]``)."""
        return list(self.iter_spans(text))


_splitter: PunktSplitter | None = None
_splitter_lock = threading.Lock()


def splitter() -> PunktSplitter:
    global _splitter
    if _splitter is None:
        with _splitter_lock:
            if _splitter is None:
                _splitter = PunktSplitter(load_params())
    return _splitter


def sentence_spans(text: str) -> list[tuple[int, int]]:
    return splitter().spans(text)


def iter_sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """:func:`sentence_spans`, one span at a time, computed only as far as read."""
    return splitter().iter_spans(text)
