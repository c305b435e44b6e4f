"""``TextView``: one response, analysed once.

Ten checks on one response tokenise it once: every analysis is computed on first
use and memoised on the view. Checks read text only through a view. Where a
reference benchmark defines a unit its own way (IFEval's words and sentences), the
view offers that definition by name, so parity never forks the logic.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from functools import cached_property, lru_cache
from typing import Any, TypeVar

from . import language as _language
from . import sentences as _sentences

__all__ = ["TextView"]

T = TypeVar("T")
_SENTENCES_SO_FAR = "view.sentences_so_far"  # memo key: (sentences split so far, the rest to come)
_WORD_RE = re.compile(r"\w+")
_FENCE_RE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
_BLANK_LINE_RE = re.compile(r"\n\s*\n")
_BULLET_RE = re.compile(r"^\s*(?:[*+-]|\d+[.)])\s+(.*)$", re.MULTILINE)

# IFEval's own units (instruction_following_eval): kept verbatim in meaning, quirks included.
# A "bullet" is a line opening with `*` (not `**`) or `-`; `^\s*` may span blank lines.
_IFEVAL_STAR_BULLET_RE = re.compile(r"^\s*\*[^\*].*$", re.MULTILINE)
_IFEVAL_DASH_BULLET_RE = re.compile(r"^\s*-.*$", re.MULTILINE)
# Highlights: *text* and **text** on one line, counted by both patterns.
_IFEVAL_HIGHLIGHT_RE = re.compile(r"\*[^\n\*]*\*")
_IFEVAL_DOUBLE_HIGHLIGHT_RE = re.compile(r"\*\*[^\n\*]*\*\*")
# Paragraphs divided by the Markdown rule `***` (one optional whitespace either side).
_IFEVAL_DIVIDER_RE = re.compile(r"\s?\*\*\*\s?")
_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Bytes of ASCII word characters (``\w``: letters, digits, underscore) kept, every other byte a space.
_ASCII_WORD_BYTES = bytes(c if (chr(c).isalnum() and c < 128) or c == ord("_") else ord(" ") for c in range(256))
_DROP_ASCII_UPPER = str.maketrans("", "", _ASCII_UPPER)


@lru_cache(maxsize=1)
def _unicode_word_re() -> Any:
    import regex  # type: ignore[import-untyped]  # nltk's regular-expression engine

    return regex.compile(r"\w+", regex.UNICODE | regex.MULTILINE | regex.DOTALL)


class TextView:
    """Memoised analyses of one text. Cheap to build; pay only for what is read."""

    __slots__ = ("__dict__", "_memo", "prompt", "text")

    def __init__(self, text: str, prompt: str = "") -> None:
        self.text = text
        self.prompt = prompt
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """Memoise a check-specific derived value under ``key`` (hashable)."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    # -- basic forms ----------------------------------------------------------------
    @cached_property
    def stripped(self) -> str:
        return self.text.strip()

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    # -- words and sentences ----------------------------------------------------------
    @cached_property
    def words(self) -> list[str]:
        """Runs of word characters (``\\w+``): IFEval's word definition.

        IFEval counts with ``nltk.tokenize.RegexpTokenizer(r"\\w+")``, which nltk 3.10
        runs on the third-party ``regex`` engine. Its ``\\w`` differs from ``re``'s
        outside ASCII (it includes combining marks such as Devanagari vowel signs, and
        excludes digits like '²'), so non-ASCII text is split with ``regex``.
        """
        text = self.text
        if text.isascii():
            return _WORD_RE.findall(text)
        return list(_unicode_word_re().findall(text))

    @cached_property
    def word_count(self) -> int:
        """``len(self.words)``; for ASCII text counted without making the words (3x faster):
        every non-word byte becomes a space and the runs left are the ``\\w+`` matches."""
        if "words" not in self.__dict__ and self.text.isascii():
            return len(self.text.encode("ascii").translate(_ASCII_WORD_BYTES).split())
        return len(self.words)

    @cached_property
    def sentences(self) -> list[str]:
        """Sentences by nltk's English Punkt model: IFEval's sentence definition."""
        if _SENTENCES_SO_FAR in self._memo:  # a reader has split part of the text: go on from there
            return list(self.iter_sentences())
        return _sentences.punkt_sentences(self.text)

    def iter_sentences(self) -> Iterator[str]:
        """:attr:`sentences` one by one, split only as far as they are read.

        A check that can decide on the first few sentences (a failing one, the n-th one)
        stops there; the part already split is kept, and a later reader, or
        :attr:`sentences`, continues from it. The sentences are the same, in the same
        order, whoever reads first.
        """
        if "sentences" in self.__dict__:
            yield from self.__dict__["sentences"]
            return
        state = self._memo.get(_SENTENCES_SO_FAR)
        if state is None:
            state = self._memo[_SENTENCES_SO_FAR] = ([], _sentences.iter_punkt_sentences(self.text))
        done, rest = state
        i = 0
        while True:
            if i < len(done):
                yield done[i]
                i += 1
                continue
            sentence = next(rest, None)
            if sentence is None:
                return
            done.append(sentence)

    def first_sentences(self, n: int) -> list[str]:
        """The first ``n`` sentences (fewer when the text has fewer), split only that far."""
        return list(itertools.islice(self.iter_sentences(), n))

    @cached_property
    def treebank_tokens(self) -> list[str]:
        """Tokens as ``nltk.word_tokenize`` gives them (IFEval's capital-word count)."""
        return _sentences.treebank_words(self.text)

    # -- structure ----------------------------------------------------------------------
    @cached_property
    def paragraphs(self) -> list[str]:
        """Non-empty blocks separated by blank lines."""
        return [p.strip() for p in _BLANK_LINE_RE.split(self.text) if p.strip()]

    @cached_property
    def bullets(self) -> list[str]:
        """The text of Markdown list items (``*``, ``-``, ``+`` or ``1.``)."""
        return _BULLET_RE.findall(self.text)

    @cached_property
    def code_blocks(self) -> list[str]:
        """Bodies of fenced Markdown code blocks, in order."""
        return _FENCE_RE.findall(self.text)

    # -- IFEval's units ---------------------------------------------------------------------
    # Each is IFEval's definition, named as such, so general checks can use it without
    # forking the logic. They are memoised: loose mode re-reads them on up to 8 variants.
    @cached_property
    def divider_paragraphs(self) -> list[str]:
        """Pieces between Markdown dividers ``***`` (IFEval's ``number_paragraphs`` unit).

        Empty pieces are kept: a leading or trailing one is not a paragraph, an inner
        one means two dividers touch (IFEval fails the instruction then).
        """
        text = self.text
        if "***" not in text:  # the pattern needs '***': skip the slow scan
            return [text]
        return _IFEVAL_DIVIDER_RE.split(text)

    @cached_property
    def blank_line_paragraphs(self) -> list[str]:
        """Pieces between exact ``"\\n\\n"`` separators (IFEval's ``nth_paragraph_first_word``
        unit); empty pieces are kept so paragraph positions match the reference."""
        return self.text.split("\n\n")

    @cached_property
    def ifeval_bullet_count(self) -> int:
        """Lines opening with ``*`` (not ``**``) or ``-``, as IFEval counts bullet points."""
        text = self.text
        if "*" not in text and "-" not in text:
            return 0
        return len(_IFEVAL_STAR_BULLET_RE.findall(text)) + len(_IFEVAL_DASH_BULLET_RE.findall(text))

    @cached_property
    def ifeval_highlight_count(self) -> int:
        """Non-blank ``*highlighted*`` spans plus non-blank ``**bold**`` spans (IFEval's count)."""
        text = self.text
        if "*" not in text:
            return 0
        n = sum(1 for h in _IFEVAL_HIGHLIGHT_RE.findall(text) if h.strip("*").strip())
        n += sum(1 for h in _IFEVAL_DOUBLE_HIGHLIGHT_RE.findall(text) if h[2:-2].strip())
        return n

    @cached_property
    def placeholder_count(self) -> int:
        """Square-bracket placeholders such as ``[address]``: IFEval's ``\\[.*?\\]`` matches.

        Counted with ``str.find`` in linear time: the regex retries every ``[`` up to the
        end of its line, which is quadratic on a long line of ``[`` without ``]``.
        A ``[`` with no ``]`` after it on its line cannot match, nor can any later ``[``
        on that line, so the scan moves on to the next line.
        """
        text = self.text
        n = 0
        i = text.find("[")
        end = -1  # end of the line holding i
        while i != -1:
            if i > end:
                end = text.find("\n", i)
                if end == -1:
                    end = len(text)
            j = text.find("]", i + 1, end)
            if j == -1:
                i = text.find("[", end)
            else:
                n += 1
                i = text.find("[", j + 1)
        return n

    @cached_property
    def capital_word_count(self) -> int:
        """Tokens (``nltk.word_tokenize``) that are all capitals (``str.isupper``).

        Cheap exits first: a text without any uppercase letter has none, so it is never
        tokenised.
        """
        text = self.text
        if text.islower() or (text.isascii() and not any(c in text for c in _ASCII_UPPER)):
            return 0
        return sum(1 for token in self.treebank_tokens if token.isupper())

    @cached_property
    def capital_word_bounds(self) -> tuple[int, int] | None:
        """(low, high) bounds on :attr:`capital_word_count` without tokenising; ASCII text only.

        Tokens never span whitespace, so every whitespace-separated chunk made only of
        capital letters yields at least one all-capitals token (``CANNOT`` even yields
        two): that is ``low``. Every all-capitals token holds a capital letter of its
        own: their number is ``high``. When the bounds alone decide a check, the text
        is never tokenised.
        """
        text = self.text
        if not text.isascii():
            return None
        high = len(text) - len(text.translate(_DROP_ASCII_UPPER))
        # ASCII chunks that are all letters and all capitals are exactly [A-Z]+.
        low = sum(1 for chunk in text.split() if chunk.isupper() and chunk.isalpha()) if high else 0
        return low, high

    # -- language -------------------------------------------------------------------------
    @cached_property
    def language(self) -> str | None:
        """langdetect's answer (seed 0), or None where it cannot tell."""
        return _language.detect(self.text)

    def items(self, kind: str) -> list[str]:
        """The items ``each`` iterates over; ``kind`` is one of :data:`ITEM_KINDS`."""
        getter = ITEM_KINDS.get(kind)
        if getter is None:
            raise KeyError(kind)
        return getter(self)


ITEM_KINDS: dict[str, Callable[[TextView], list[str]]] = {
    "paragraphs": lambda v: v.paragraphs,
    "sentences": lambda v: v.sentences,
    "lines": lambda v: [line for line in v.lines if line.strip()],
    "bullets": lambda v: v.bullets,
    "code_blocks": lambda v: v.code_blocks,
}
